use checkpoint_core::checkpointed;

struct Lattice {
    spins: Vec<i8>,
}

#[checkpointed]
fn magnetization(steps: u64) -> i64 {
    #[state]
    let mut lattice = Lattice { spins: vec![1; 8] };
    for step in 0..steps {
        let i = step as usize % 8;
        lattice.spins[i] = -lattice.spins[i];
    }
    lattice.spins.iter().map(|&s| i64::from(s)).sum()
}

fn main() {
    magnetization(3);
}

use checkpoint_core::checkpointed;

#[checkpointed]
fn two_phases(n: u64) -> (u64, Vec<u64>) {
    #[state]
    let mut acc: u64 = 1;
    for i in 0..n {
        acc = acc.wrapping_mul(31).wrapping_add(i);
    }
    let total = acc;
    #[state]
    let mut acc: Vec<u64> = vec![total];
    for i in 0..n {
        acc.push(i);
    }
    (total, acc)
}

fn main() {
    two_phases(3);
}

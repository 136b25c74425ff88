use checkpoint_core::checkpointed;

#[checkpointed]
fn histogram(n: u64) -> u64 {
    #[state]
    let mut bins = [0_u64; 64];
    for i in 0..n {
        bins[(i % 64) as usize] += 1;
    }
    bins.iter().sum()
}

fn main() {
    histogram(3);
}

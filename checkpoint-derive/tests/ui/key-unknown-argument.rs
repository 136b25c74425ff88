use checkpoint_core::checkpointed;

#[checkpointed(key = (n, m))]
fn sum(n: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i + delay_ms;
    }
    total
}

fn main() {
    sum(10, 0);
}

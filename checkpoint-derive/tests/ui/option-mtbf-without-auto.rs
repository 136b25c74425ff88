use checkpoint_core::checkpointed;

#[checkpointed(every = "10m", mtbf = "24h")]
fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

fn main() {
    sum(10);
}

use checkpoint_core::checkpointed;

// SIGKILL cannot be caught, so it cannot trigger a save.
#[checkpointed(signals = ["SIGTERM", "SIGKILL"])]
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

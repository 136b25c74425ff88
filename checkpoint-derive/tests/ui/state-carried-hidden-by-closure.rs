use checkpoint_core::checkpointed;

// The cursor `i` carries from one iteration to the next but is not
// #[state]; the closure's own `i` does not hide the change after it.
#[checkpointed]
fn doubled_sums(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    let mut i = 0;
    while i < n {
        total += (0..3).map(|i| i * 2).sum::<u64>() + i;
        i += 1;
    }
    total
}

fn main() {
    doubled_sums(10);
}

use checkpoint_core::checkpointed;

#[checkpointed]
fn sums(n: u64) -> (u64, u64) {
    #[state]
    let (mut evens, mut odds) = (0, 0);
    for i in 0..n {
        if i % 2 == 0 {
            evens += i;
        } else {
            odds += i;
        }
    }
    (evens, odds)
}

fn main() {
    sums(10);
}

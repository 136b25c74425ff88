use checkpoint_core::checkpointed;

#[checkpointed]
fn count_where(n: u64, keep: impl Fn(u64) -> bool) -> u64 {
    #[state]
    let mut count = 0;
    for i in 0..n {
        if keep(i) {
            count += 1;
        }
    }
    count
}

fn main() {
    count_where(10, |i| i % 2 == 0);
}

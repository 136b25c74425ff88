use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    #[state]
    let doubled = total * 2;
    doubled
}

fn main() {
    sum(10);
}

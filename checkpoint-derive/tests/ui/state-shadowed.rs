use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    let total = &mut total;
    for i in 0..n {
        *total += i;
    }
    *total
}

fn main() {
    sum(10);
}

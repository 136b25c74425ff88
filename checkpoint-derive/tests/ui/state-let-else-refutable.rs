use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(n: u64, start: Option<u64>) -> u64 {
    #[state]
    let Some(mut total) = start else {
        return 0;
    };
    for i in 0..n {
        total += i;
    }
    total
}

fn main() {
    sum(10, Some(0));
}

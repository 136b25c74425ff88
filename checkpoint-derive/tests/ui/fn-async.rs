use checkpoint_core::checkpointed;

#[checkpointed]
async fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

fn main() {
    drop(sum(10));
}

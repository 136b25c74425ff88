use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        #[checkpoint(save, off)]
        for j in 0..i {
            total += j;
        }
    }
    total
}

fn main() {
    sum(3);
}

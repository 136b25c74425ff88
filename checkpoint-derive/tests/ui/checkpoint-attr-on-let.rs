use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        #[checkpoint(off)]
        let doubled = loop {
            if total < 1000 {
                break i * 2;
            }
        };
        total += doubled;
    }
    total
}

fn main() {
    sum(10);
}

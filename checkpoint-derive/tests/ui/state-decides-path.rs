use checkpoint_core::checkpointed;

#[checkpointed]
fn shrink(n: u64) -> u64 {
    #[state]
    let mut size = n;
    if size > 10 {
        for _ in 0..n {
            size -= 1;
        }
    }
    size
}

fn main() {
    shrink(20);
}

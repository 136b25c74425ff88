use checkpoint_core::checkpointed;

#[checkpointed]
const fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    #[state]
    let mut i = 0;
    while i < n {
        total += i;
        i += 1;
    }
    total
}

fn main() {
    sum(10);
}

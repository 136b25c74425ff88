use checkpoint_core::checkpointed;

#[checkpointed]
fn hash(n: u64) -> u64 {
    #[state]
    let mut sum = 0_u64;
    #[transient]
    let mut prev = 0_u64;
    for i in 0..n {
        sum = sum.wrapping_mul(31).wrapping_add(prev);
        prev = i + 1;
    }
    sum
}

fn main() {
    hash(3);
}

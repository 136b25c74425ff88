use checkpoint_core::checkpointed;

#[checkpointed(key = ())]
fn total(v: &[u64]) -> u64 {
    #[state]
    let mut sum = 0;
    let mut it = v.iter();
    while let Some(x) = it.next() {
        sum += x;
    }
    sum
}

fn main() {
    total(&[1, 2]);
}

use checkpoint_core::checkpointed;

// `for w in &mut words` changes the elements of `words`, which is not
// #[state]: a resumed run would see them as they were before the loop.
#[checkpointed]
fn bumped(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    let mut words: Vec<u64> = (0..n).collect();
    for w in &mut words {
        *w += 1;
        total += *w;
    }
    total
}

fn main() {
    bumped(10);
}

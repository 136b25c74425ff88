// A local a save-point loop's iterable changes and code after the loop
// uses: a resume in the second phase skips the first loop, so the
// iterator would start over there.
use checkpoint_core::checkpointed;

#[checkpointed]
fn two_phases(values: &[u64]) -> u64 {
    let mut items = values.iter();
    #[state]
    let mut head: u64 = 0;
    for x in items.by_ref().take(3) {
        head += x;
    }
    #[state]
    let mut tail: u64 = 0;
    for x in items {
        tail += x;
    }
    head * 1000 + tail
}

fn main() {}

use std::collections::HashSet;

use checkpoint_core::checkpointed;

#[checkpointed]
fn covered(n: u64, marks: HashSet<u64>) -> u64 {
    #[state]
    let mut count = 0;
    for i in 0..n {
        if marks.contains(&i) {
            count += 1;
        }
    }
    count
}

fn main() {
    covered(10, HashSet::new());
}

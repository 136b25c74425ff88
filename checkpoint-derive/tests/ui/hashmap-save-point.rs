use std::collections::HashMap;

use checkpoint_core::checkpointed;

#[checkpointed(key = ())]
fn total(counts: HashMap<String, u64>) -> u64 {
    #[state]
    let mut sum = 0;
    for (_, count) in &counts {
        sum += count;
    }
    sum
}

fn main() {
    total(HashMap::new());
}

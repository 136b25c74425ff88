#![allow(irrefutable_let_patterns)]

use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(n: u64, start: Option<u64>) -> u64 {
    #[state]
    let mut total = start.unwrap_or(0) else {
        return 0;
    };
    for i in 0..n {
        total += i;
    }
    total
}

fn main() {
    sum(10, Some(0));
}

// A parameter that shares a value (`&AtomicU64`, `&Cell`) changed in the
// loop: the change is not saved, and the message says so (it is not a
// `mut` parameter).
use checkpoint_core::checkpointed;
use std::sync::atomic::{AtomicU64, Ordering};

#[checkpointed(key = (n))]
fn progress(n: u64, done: &AtomicU64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    for i in 0..n {
        acc += i * i;
        done.store(i + 1, Ordering::Relaxed);
    }
    acc
}

fn main() {}

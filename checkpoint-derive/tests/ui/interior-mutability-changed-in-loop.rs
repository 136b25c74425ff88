// A `Cell` or an atomic changed in the loop changes a local that is not
// `mut`: it crosses the save point unsaved.
use checkpoint_core::checkpointed;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

#[checkpointed]
fn cell(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let calls = Cell::new(0_u64);
    for i in 0..n {
        calls.set(calls.get() + 1);
        acc = acc.wrapping_add(i * calls.get());
    }
    acc
}

#[checkpointed]
fn atomic(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let hits = AtomicU64::new(0);
    for i in 0..n {
        hits.fetch_add(1, Ordering::Relaxed);
        acc = acc.wrapping_add(i * hits.load(Ordering::Relaxed));
    }
    acc
}

fn main() {}

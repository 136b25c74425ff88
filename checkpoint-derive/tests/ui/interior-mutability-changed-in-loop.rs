// A `Cell`, `RefCell`, `OnceCell`, `Mutex`, `RwLock` or atomic changed in
// the loop, directly or by a closure that is not `mut`, changes a local
// that is not `mut`: it crosses the save point unsaved.
use checkpoint_core::checkpointed;
use std::cell::{Cell, OnceCell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

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

#[checkpointed]
fn cell_update(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let sum = Cell::new(0_u64);
    for i in 0..n {
        sum.update(|s| s + i);
        acc ^= sum.get();
    }
    acc
}

#[checkpointed]
fn cell_take(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let carry = Cell::new(1_u64);
    for i in 0..n {
        acc += carry.take() * i;
        carry.set(i);
    }
    acc
}

#[checkpointed]
fn refcell_replace(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let last = RefCell::new(0_u64);
    for i in 0..n {
        acc ^= last.replace(i * 3);
    }
    acc
}

#[checkpointed]
fn mutex_lock(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let results = Mutex::new(Vec::new());
    for i in 0..n {
        results.lock().unwrap().push(i * i);
        acc += i;
    }
    acc ^ results.into_inner().unwrap().iter().sum::<u64>()
}

#[checkpointed]
fn rwlock_write(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let best = RwLock::new(0_u64);
    for i in 0..n {
        *best.write().unwrap() = i;
        acc += i;
    }
    acc ^ *best.read().unwrap()
}

#[checkpointed]
fn once_cell(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let first = OnceCell::new();
    for i in 0..n {
        acc += *first.get_or_init(|| i * 7);
    }
    acc
}

#[checkpointed]
fn closure_over_a_cell(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let counter = Cell::new(0_u64);
    let next_id = || {
        counter.set(counter.get() + 1);
        counter.get()
    };
    for i in 0..n {
        acc = acc.wrapping_mul(31).wrapping_add(next_id() * i);
    }
    acc
}

fn main() {}

// A static changed in a save-point loop (an atomic, a `Mutex`, a
// `thread_local!`, a `static mut`) is saved by no #[state]: a resume
// starts it from its value at the program's start.
use checkpoint_core::checkpointed;
use std::cell::Cell;
use std::sync::{Mutex, OnceLock};
use std::sync::atomic::{AtomicU64, Ordering};

static EVALS: AtomicU64 = AtomicU64::new(0);
static BEST: Mutex<u64> = Mutex::new(0);
static mut TOTAL: u64 = 0;
static SCALE: OnceLock<u64> = OnceLock::new();

thread_local! {
    static CALLS: Cell<u64> = const { Cell::new(0) };
}

#[checkpointed]
fn atomic(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    for i in 0..n {
        acc += i * EVALS.fetch_add(1, Ordering::Relaxed);
    }
    acc
}

#[checkpointed]
fn mutex(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    for i in 0..n {
        let mut best = BEST.lock().unwrap();
        *best = (*best).max(i % 7);
        acc += *best;
    }
    acc
}

#[checkpointed]
fn static_mut(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    for i in 0..n {
        unsafe { TOTAL += i };
        acc ^= i;
    }
    acc
}

#[checkpointed]
fn thread_local(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    for i in 0..n {
        CALLS.with(|calls| calls.set(calls.get() + 1));
        acc += i * CALLS.with(|calls| calls.get());
    }
    acc
}

// A static set once from the iteration that first reaches it: a resume
// sets it from the iteration it resumes at.
#[checkpointed]
fn first_wins(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    for i in 1..n {
        let batch: Vec<u64> = (0..4).map(|k| k * i).collect();
        acc += i * SCALE.get_or_init(|| batch.iter().copied().max().unwrap_or(1));
    }
    acc
}

fn main() {}

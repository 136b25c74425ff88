//! What a save point hands the save: a copy of each `#[state]` local, made
//! on the stack for a small local and on the heap for a large one, and a
//! call that cannot unwind into the loop, which hands back a panic raised
//! inside it. A resume from either kind of copy is exact, and a panic in a
//! `Serialize` impl unwinds out of the checkpointed function as it would
//! out of the loop, instead of aborting the process.
//!
//! One test in this file: it sets `CHECKPOINT_DIR` for the process.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};

use checkpoint_core::checkpointed;
use serde::{Deserialize, Serialize, Serializer};

/// Iterations of `walk` that ran, resumed or not.
static STEPS_RUN: AtomicU64 = AtomicU64::new(0);

/// One step of a walk over a grid of 2 KiB (more than a stack slot holds,
/// so its copy goes to the heap) with a small generator (a stack copy).
fn step(grid: &mut [[u64; 32]; 8], seed: &mut u64, i: u64) {
    *seed = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    let cell = (*seed >> 33) as usize % (32 * 8);
    grid[cell / 32][cell % 32] ^= *seed ^ i;
}

/// Counts an iteration that ran: a statistic outside the result, changed
/// in a function (the macro refuses a static changed in the loop itself).
fn count_step() {
    STEPS_RUN.fetch_add(1, Ordering::Relaxed);
}

/// The walk without checkpoints.
fn walk_plain(n: u64) -> [[u64; 32]; 8] {
    let mut grid = [[0; 32]; 8];
    let mut seed = 1;
    for i in 0..n {
        step(&mut grid, &mut seed, i);
    }
    grid
}

/// The walk, saved every iteration; it returns an error at `stop_at`,
/// which keeps its checkpoint for the next call (`stop_at` is not part of
/// the run's key).
#[checkpointed(every_iters = 1, key = (n))]
fn walk(n: u64, stop_at: u64) -> Result<[[u64; 32]; 8], String> {
    #[state]
    let mut grid = [[0_u64; 32]; 8];
    #[state]
    let mut seed = 1_u64;
    for i in 0..n {
        if i == stop_at {
            return Err(format!("stopped at {i}"));
        }
        count_step();
        step(&mut grid, &mut seed, i);
    }
    Ok(grid)
}

/// A value whose `Serialize` panics once it reaches `3`.
#[derive(Deserialize)]
struct Fussy(u64);

impl Serialize for Fussy {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        assert!(self.0 < 3, "Fussy cannot serialize {}", self.0);
        serializer.serialize_u64(self.0)
    }
}

/// A chunked `for` loop: its saves go through the call after the chunks.
#[checkpointed(every_iters = 1)]
fn fussy(n: u64) -> u64 {
    #[state]
    let mut value = Fussy(0);
    for _ in 0..n {
        value.0 += 1;
    }
    value.0
}

/// A `while` loop: its saves go through the call at the end of each
/// iteration.
#[checkpointed(every_iters = 1)]
fn fussy_while(n: u64) -> u64 {
    #[state]
    let mut value = Fussy(0);
    while value.0 < n {
        value.0 += 1;
    }
    value.0
}

/// The message of a panic payload.
fn message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())
        .unwrap_or_default()
}

#[test]
fn saves_copy_the_state_and_a_panic_inside_a_save_unwinds_out_of_the_function() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    // SAFETY: the only test in this binary; nothing else reads the
    // environment concurrently.
    unsafe { std::env::set_var("CHECKPOINT_DIR", dir.path()) };

    // A resume from copies on the heap (the grid) and on the stack (the
    // seed) is exact, and it is a resume: the iterations done before the
    // stop do not run again.
    let n = 40;
    assert_eq!(walk(n, 25), Err("stopped at 25".to_owned()));
    assert_eq!(STEPS_RUN.swap(0, Ordering::Relaxed), 25);
    assert_eq!(walk(n, u64::MAX), Ok(walk_plain(n)));
    assert_eq!(
        STEPS_RUN.load(Ordering::Relaxed),
        n - 25,
        "the second call resumed at iteration 25"
    );

    // A panic in a `Serialize` impl, raised inside the save, unwinds out of
    // the function with its own message, from either kind of loop.
    let unwound = panic::catch_unwind(AssertUnwindSafe(|| fussy(10)))
        .expect_err("serializing Fussy(3) panics");
    assert_eq!(message(&*unwound), "Fussy cannot serialize 3");
    let unwound = panic::catch_unwind(AssertUnwindSafe(|| fussy_while(10)))
        .expect_err("serializing Fussy(3) panics");
    assert_eq!(message(&*unwound), "Fussy cannot serialize 3");
}

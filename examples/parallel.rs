//! A rayon workload, checkpointed. The save point is a sequential loop over
//! chunks; the work inside one chunk runs on every core (`into_par_iter`).
//! Each chunk's results are collected in index order and added in that
//! order, so the result is the same bit for bit whatever the scheduling and
//! whatever the interruptions.
//!
//! ```text
//! cargo run --release --example parallel -- 400 --delay-ms 20
//! ```
//!
//! What not to do: put the save point inside the parallel closure (a
//! `#[state]` local changed from the worker threads). Rust refuses it
//! already (a `par_iter` closure is `Fn`: it cannot change a captured
//! local), and the macro refuses `#[state]` and `#[checkpoint(save)]`
//! inside a closure: the README's "Parallel work" shows the messages.

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};
use rayon::prelude::*;

/// Starting points per chunk; a chunk is one iteration of the save point.
const CHUNK: u64 = 2_000;

/// Where the logistic map x ↦ 3.9·x·(1 − x) is after 400 steps from a
/// starting point in (0, 1) given by `start` (a golden-ratio sequence).
fn orbit_end(start: u64) -> f64 {
    let mut x = (start as f64 * 0.618_033_988_749_894_9).fract().max(1e-9);
    for _ in 0..400 {
        x = 3.9 * x * (1.0 - x);
    }
    x
}

/// The sum and a 10-bin histogram of the orbits' ends for `n` chunks of
/// starting points.
#[checkpointed(every = "250ms", key = (n))]
fn orbits(n: u64, delay_ms: u64) -> (f64, Vec<u64>) {
    #[state]
    let mut total = 0.0_f64;
    #[state]
    let mut histogram = vec![0_u64; 10];
    for chunk in 0..n {
        // In parallel, inside one iteration; `collect` keeps index order.
        let ends: Vec<f64> = (chunk * CHUNK..(chunk + 1) * CHUNK)
            .into_par_iter()
            .map(orbit_end)
            .collect();
        // Combined in that order: a float sum in a scheduling-dependent
        // order (`.sum()` on the parallel iterator) could differ in its
        // last bits from run to run, and so from a resumed run.
        for x in ends {
            total += x;
            histogram[((x * 10.0) as usize).min(9)] += 1;
        }
        pause(delay_ms);
    }
    (total, histogram)
}

fn main() {
    let cli = Cli::parse("parallel N [--delay-ms MS]", 100);
    let (total, histogram) = orbits(cli.n, cli.delay_ms);
    println!("histogram {histogram:?}");
    println!("{total:.9} {:#018x}", total.to_bits());
}

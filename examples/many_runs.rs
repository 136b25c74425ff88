//! Several checkpointed runs at once: two threads each run their own
//! checkpointed function (different keys), and the main thread calls a
//! small checkpointed function many times. On SIGTERM every run saves at
//! its next iteration boundary and the process exits with 143 once all of
//! them have; a rerun resumes each where it stopped.
//!
//! ```text
//! cargo run --example many_runs -- 400 --delay-ms 5
//! ```

use std::thread;

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

/// The sum of `seed * i mod 1009` over `0..n`.
#[checkpointed(every_iters = 7, key = (seed, n))]
fn worker(seed: u64, n: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut total = 0_u64;
    for i in 0..n {
        total += (seed * i) % 1009;
        pause(delay_ms);
    }
    total
}

/// A short checkpointed call, made many times in a row.
#[checkpointed(every_iters = 3, key = (round))]
fn round_trip(round: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut acc = round;
    for i in 0..10 {
        acc = acc.wrapping_mul(31).wrapping_add(i);
        pause(delay_ms / 4);
    }
    acc
}

fn main() {
    let cli = Cli::parse("many_runs N [--delay-ms MS]", 400);
    let (n, delay) = (cli.n, cli.delay_ms);
    let workers: Vec<_> = [3_u64, 5]
        .into_iter()
        .map(|seed| thread::spawn(move || worker(seed, n, delay)))
        .collect();
    let mut rounds = 0_u64;
    for round in 0..n / 4 {
        rounds = rounds.wrapping_add(round_trip(round, delay));
    }
    let totals: Vec<u64> = workers
        .into_iter()
        .map(|worker| worker.join().expect("a worker thread panicked"))
        .collect();
    println!("{} {} {rounds}", totals[0], totals[1]);
}

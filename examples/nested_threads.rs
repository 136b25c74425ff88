//! A checkpointed loop whose iterations fan out to checkpointed work on
//! worker threads, the shape of `par_iter().map(checkpointed_fn)` inside a
//! checkpointed loop. On SIGTERM the workers save and stop; the outer run,
//! blocked joining them, cannot reach a save point, so the process waits
//! for it at most the grace period (`grace = "1s"` here), then exits with
//! 143; a rerun resumes the outer loop and the workers where they were.
//!
//! ```text
//! cargo run --example nested_threads -- 6 --delay-ms 5
//! ```

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

/// One block of work, checkpointed on its own (`key = (block)`).
#[checkpointed(every_iters = 10, grace = "1s", key = (block))]
fn block_sum(block: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut sum = 0_u64;
    for i in 0..100 {
        sum += (block * 131 + i) % 97;
        pause(delay_ms);
    }
    sum
}

/// Sums `rounds` rounds of two blocks each, run on two threads.
#[checkpointed(every_iters = 1, grace = "1s", key = (rounds))]
fn rounds_total(rounds: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut total = 0_u64;
    for round in 0..rounds {
        let (a, b) = std::thread::scope(|scope| {
            let a = scope.spawn(|| block_sum(2 * round, delay_ms));
            let b = scope.spawn(|| block_sum(2 * round + 1, delay_ms));
            (
                a.join().expect("a worker panicked"),
                b.join().expect("a worker panicked"),
            )
        });
        total += a * 3 + b;
    }
    total
}

fn main() {
    let cli = Cli::parse("nested_threads ROUNDS [--delay-ms MS]", 6);
    println!("{}", rounds_total(cli.n, cli.delay_ms));
}

//! Eight checkpointed runs at once, one per thread, each with its own key:
//! kill the process and run it again, and every thread resumes its own run.
//!
//! ```text
//! cargo run --example threads -- 400 --delay-ms 5
//! ```

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

/// How many threads run at once.
const WORKERS: u64 = 8;

/// A hash chain over `0..n`, different for every worker.
#[checkpointed(every_iters = 7, key = (worker, n))]
fn chain(worker: u64, n: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut hash: u64 = worker;
    for i in 0..n {
        hash = hash
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(i ^ worker);
        pause(delay_ms);
    }
    hash
}

fn main() {
    let cli = Cli::parse("threads N [--delay-ms MS]", 100);
    let results: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|worker| scope.spawn(move || chain(worker, cli.n, cli.delay_ms)))
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a worker panicked"))
            .collect()
    });
    for (worker, hash) in results.iter().enumerate() {
        println!("worker {worker}: {hash:#018x}");
    }
    let all = results
        .iter()
        .fold(0u64, |all, hash| all.rotate_left(7) ^ hash);
    println!("{all:#018x}");
}

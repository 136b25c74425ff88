//! Finds the next n primes by trial division, checkpointed: interrupt it
//! (Ctrl-C, `kill -9`) and run it again, and it goes on from its last save.
//! The classic demo of Python's `resume` module, in a `while` loop over a
//! growing `Vec`.
//!
//! ```text
//! cargo run --release --example primes -- 100 --delay-ms 50
//! ```

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

/// The first `n` primes (2 included), and how many candidates were tried.
#[checkpointed(every = "250ms", key = (n))]
fn primes(n: u64, delay_ms: u64) -> Vec<u64> {
    #[state]
    let mut found: Vec<u64> = vec![2];
    #[state]
    let mut candidate: u64 = 2;
    while (found.len() as u64) < n {
        candidate += 1;
        if found
            .iter()
            .take_while(|&&p| p * p <= candidate)
            .all(|&p| !candidate.is_multiple_of(p))
        {
            found.push(candidate);
            pause(delay_ms);
        }
    }
    found.truncate(n as usize);
    found
}

fn main() {
    let cli = Cli::parse("primes N [--delay-ms MS]", 100);
    let found = primes(cli.n, cli.delay_ms);
    let sum: u64 = found.iter().sum();
    println!("found {} primes; sum {sum}", found.len());
    println!("{}", found.last().copied().unwrap_or(0));
}

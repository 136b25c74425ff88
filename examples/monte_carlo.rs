//! Estimates π by Monte Carlo with a seeded ChaCha RNG kept in `#[state]`:
//! a run interrupted and resumed draws exactly the same numbers, so its
//! estimate is bit-identical to an uninterrupted run's.
//!
//! ```text
//! cargo run --release --example monte_carlo -- 2000 --delay-ms 2
//! ```

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// `batches` batches of 10 000 points; returns the estimate of π.
#[checkpointed(every = "200ms", key = (batches))]
fn estimate_pi(batches: u64, delay_ms: u64) -> f64 {
    #[state]
    let mut rng = ChaCha8Rng::seed_from_u64(2026);
    #[state]
    let mut inside: u64 = 0;
    for _ in 0..batches {
        for _ in 0..10_000 {
            let x = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            let y = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
            inside += u64::from(x * x + y * y <= 1.0);
        }
        pause(delay_ms);
    }
    4.0 * inside as f64 / (batches * 10_000) as f64
}

fn main() {
    let cli = Cli::parse("monte_carlo BATCHES [--delay-ms MS]", 200);
    let pi = estimate_pi(cli.n, cli.delay_ms);
    println!("pi ~ {pi}");
    // The last line is the exact bits, for a bit-for-bit comparison.
    println!("{:#018x}", pi.to_bits());
}

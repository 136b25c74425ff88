//! A save-point loop over a `HashMap` the macro cannot see (its type is
//! behind an alias and it comes from a helper): a resume would replay it in
//! another order, so the run stops with an error before the loop starts,
//! naming the loop and the fix.
//!
//! ```text
//! cargo run --release --example unordered -- 100   # exits 1 with the error
//! ```

use std::collections::HashMap;

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

type Weights = HashMap<u64, u64>;

fn weights(n: u64) -> Weights {
    (0..n).map(|k| (k, k * k + 1)).collect()
}

#[checkpointed(every_iters = 5, key = (n))]
fn mix(n: u64, delay_ms: u64) -> u64 {
    let table = weights(n);
    #[state]
    let mut mix = 0_u64;
    for (key, weight) in &table {
        mix = mix.wrapping_mul(31).wrapping_add(key * 1000 + weight);
        pause(delay_ms);
    }
    mix
}

fn main() {
    let cli = Cli::parse("unordered N [--delay-ms MS]", 100);
    println!("{}", mix(cli.n, cli.delay_ms));
}

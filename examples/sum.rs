//! The sum of 1..=n, saved every 5 iterations, the checkpoint removed on
//! success: the smallest checkpointed program.
//!
//! ```text
//! cargo run --release --example sum -- 100 --delay-ms 100
//! ```

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

#[checkpointed(every_iters = 5, key = (n))]
fn sum(n: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut total: u64 = 0;
    for i in 1..=n {
        total += i;
        pause(delay_ms);
    }
    total
}

fn main() {
    let cli = Cli::parse("sum N [--delay-ms MS]", 100);
    println!("{}", sum(cli.n, cli.delay_ms));
}

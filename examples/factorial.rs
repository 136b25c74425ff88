//! n! exactly, as a big integer, checkpointed: interrupt it (Ctrl-C,
//! `kill -9`) and run it again, and it goes on from its last save.
//!
//! ```text
//! cargo run --release --example factorial -- 20
//! cargo run --release --example factorial -- 200000 --delay-ms 0
//! ```

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};
use num_bigint::BigUint;

#[checkpointed(every = "250ms", key = (n))]
fn factorial(n: u64, delay_ms: u64) -> BigUint {
    #[state]
    let mut product = BigUint::from(1u32);
    for i in 1..=n {
        product *= i;
        pause(delay_ms);
    }
    product
}

fn main() {
    let cli = Cli::parse("factorial N [--delay-ms MS]", 20);
    println!("{}", factorial(cli.n, cli.delay_ms));
}

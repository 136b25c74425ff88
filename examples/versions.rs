//! One run, several versions of its code: what happens when a program is
//! edited between an interruption and the rerun.
//!
//! Every version is `name = "versions"` with `key = (n)`, so they all share
//! one checkpoint; the first argument picks the version:
//!
//! - `v1`: the sum of `i * i`, with one `#[state]` local;
//! - `v1-edited`: the same state, a different body (the default
//!   `on_code_change = "resume"`: resume with a warning);
//! - `v1-restart` / `v1-error`: the same edit under
//!   `on_code_change = "restart"` / `"error"`;
//! - `v2`: a `#[state]` local added (a new schema: the old file is moved
//!   aside as stale and the run starts fresh).
//!
//! `VERSIONS_CRASH_AT=K` ends the process abruptly when iteration K begins,
//! as a crash would, after saving every iteration before it: the saves are
//! not in the background (`background = false`), so each is durable before
//! the next iteration starts, as an iteration with effects outside its
//! state needs.
//!
//! ```text
//! VERSIONS_CRASH_AT=500 cargo run --example versions -- v1 1000
//! cargo run --example versions -- v2 1000
//! ```

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

/// Ends the process like a crash would, when `VERSIONS_CRASH_AT` says so.
fn maybe_crash(i: u64) {
    let crash_at = std::env::var("VERSIONS_CRASH_AT").ok();
    if crash_at.and_then(|at| at.parse::<u64>().ok()) == Some(i) {
        std::process::exit(99);
    }
}

#[checkpointed(name = "versions", key = (n), every_iters = 1, background = false)]
fn v1(n: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut total = 0_u64;
    for i in 0..n {
        maybe_crash(i);
        total += i * i;
        pause(delay_ms);
    }
    total
}

/// The edited version under each `on_code_change` setting: the same state
/// as `v1`, with one change to the body.
macro_rules! edited_v1 {
    ($($function:ident: $on_code_change:tt),* $(,)?) => {$(
        #[checkpointed(name = "versions", key = (n), every_iters = 1, background = false, on_code_change = $on_code_change)]
        fn $function(n: u64, delay_ms: u64) -> u64 {
            #[state]
            let mut total = 0_u64;
            for i in 0..n {
                maybe_crash(i);
                // The edit: a wrapping add instead of `+=` (the same sums here).
                total = total.wrapping_add(i * i);
                pause(delay_ms);
            }
            total
        }
    )*};
}

edited_v1!(v1_edited: "resume", v1_restart: "restart", v1_error: "error");

#[checkpointed(name = "versions", key = (n), every_iters = 1, background = false)]
fn v2(n: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut total = 0_u64;
    #[state]
    let mut odd = 0_u64;
    for i in 0..n {
        maybe_crash(i);
        total += i * i;
        odd += i % 2;
        pause(delay_ms);
    }
    total + odd
}

fn main() {
    let mut args = std::env::args().skip(1);
    let version = args.next().unwrap_or_default();
    let cli = Cli::from_args(args, 1000).unwrap_or_else(|why| {
        eprintln!("{why}");
        std::process::exit(2);
    });
    let (n, delay) = (cli.n, cli.delay_ms);
    let result = match version.as_str() {
        "v1" => v1(n, delay),
        "v1-edited" => v1_edited(n, delay),
        "v1-restart" => v1_restart(n, delay),
        "v1-error" => v1_error(n, delay),
        "v2" => v2(n, delay),
        _ => {
            eprintln!("usage: versions v1|v1-edited|v1-restart|v1-error|v2 N [--delay-ms MS]");
            std::process::exit(2);
        }
    };
    println!("{result}");
}

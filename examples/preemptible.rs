//! A job for clusters and spot VMs: it saves only when the scheduler says
//! it is about to stop it (`every = "1h"` is a safety net), within a 1 s
//! grace budget per iteration.
//!
//! SIGTERM, SIGINT or SIGUSR1 make it save at the end of the current
//! iteration and exit with 128 + signal; run it again to resume. See
//! `examples/slurm/preemptible.sbatch` for a SLURM batch script.
//!
//! ```text
//! cargo run --release --example preemptible -- 2000 --delay-ms 5 &
//! kill -TERM $!    # exits with 143: "stopped ... saved to ..."
//! cargo run --release --example preemptible -- 2000 --delay-ms 5
//! ```
//!
//! With `--delay-ms 1500` each iteration outlasts the 1 s grace period, and
//! the run warns that a signal might not be honoured in time.
//! `PREEMPTIBLE_TAIL_MS=N` adds N ms of work after the loop (say, writing
//! results), announced on stderr: a signal there arrives after the last
//! save point.

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

/// A toy simulation: a damped oscillator integrated step by step, with the
/// whole trajectory's energy accumulated (floating point, so a resume must
/// be exact to print the same bits).
#[checkpointed(every = "1h", grace = "1s", key = (steps))]
fn simulate(steps: u64, delay_ms: u64) -> f64 {
    #[state]
    let mut x = 1.0_f64;
    #[state]
    let mut v = 0.0_f64;
    #[state]
    let mut energy = 0.0_f64;
    let dt = 1e-3;
    for _ in 0..steps {
        let a = -x - 0.1 * v;
        v += a * dt;
        x += v * dt;
        energy += 0.5 * (v * v + x * x);
        pause(delay_ms);
    }
    if let Some(tail) = std::env::var("PREEMPTIBLE_TAIL_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
    {
        eprintln!("preemptible: writing results");
        pause(tail);
    }
    energy
}

fn main() {
    let cli = Cli::parse("preemptible STEPS [--delay-ms MS]", 2000);
    let energy = simulate(cli.n, cli.delay_ms);
    println!("{energy} {:#018x}", energy.to_bits());
}

//! A newcomer's program: six computations, each one `#[checkpointed]` the
//! way its author first wrote it.
//!
//! ```text
//! cargo run -p checkpoint-newcomer -- nested 40
//! ```
//!
//! `newcomer JOB N [--delay-ms MS]`; the last line of stdout is the result.

use std::collections::HashMap;
use std::thread::sleep;
use std::time::Duration;

use checkpoint_core::checkpointed;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

fn pause(ms: u64) {
    if ms > 0 {
        sleep(Duration::from_millis(ms));
    }
}

/// Nested loops: a potential summed over an `n × n` grid, row by row.
#[checkpointed(every_iters = 3, key = (n))]
fn grid_potential(n: u64, delay_ms: u64) -> f64 {
    #[state]
    let mut potential = 0.0_f64;
    for row in 0..n {
        for col in 0..n {
            let (x, y) = (row as f64 / n as f64, col as f64 / n as f64);
            potential += (x * 3.1).sin() * (y * 1.7).cos() / (1.0 + x + y);
        }
        pause(delay_ms);
    }
    potential
}

/// Two phases with a map-valued state: count the residues of a sequence,
/// then score the counts.
#[checkpointed(every_iters = 5, key = (n))]
fn residue_score(n: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut counts: HashMap<u64, u64> = HashMap::new();
    // The sequence's position carries from one iteration to the next, so it
    // is state too (without #[state] the macro refuses to compile this).
    #[state]
    let mut value = 7_u64;
    for _ in 0..n {
        value = value
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        *counts.entry(value % 97).or_default() += 1;
        pause(delay_ms);
    }
    // Phase two needs the residues in order; the map keeps none.
    let mut residues: Vec<u64> = counts.keys().copied().collect();
    residues.sort_unstable();
    #[state]
    let mut score = 0_u64;
    for (rank, residue) in residues.iter().enumerate() {
        score += (rank as u64 + 1) * residue * counts[residue];
        pause(delay_ms);
    }
    score
}

/// Monte Carlo with a seeded RNG in the state: π from `n` batches, saved
/// every 2 batches. The batch loop is the outermost loop that changes
/// state, so it is the save point; the points within a batch run whole.
#[checkpointed(every_iters = 2, key = (n))]
fn monte_carlo_pi(n: u64, delay_ms: u64) -> f64 {
    #[state]
    let mut rng = ChaCha8Rng::seed_from_u64(42);
    #[state]
    let mut hits = 0_u64;
    for _ in 0..n {
        for _ in 0..1000 {
            let x = (rng.next_u64() >> 11) as f64 / (1_u64 << 53) as f64;
            let y = (rng.next_u64() >> 11) as f64 / (1_u64 << 53) as f64;
            hits += u64::from(x * x + y * y < 1.0);
        }
        pause(delay_ms);
    }
    4.0 * hits as f64 / (n * 1000) as f64
}

/// A portfolio simulated day by day: a `&self` method.
struct Portfolio {
    weights: Vec<f64>,
    drift: f64,
}

impl Portfolio {
    #[checkpointed(every_iters = 4, key = (days))]
    fn simulate(&self, days: u64, delay_ms: u64) -> f64 {
        #[state]
        let mut value = 1.0_f64;
        for day in 0..days {
            let mut growth = 0.0;
            for (asset, weight) in self.weights.iter().enumerate() {
                growth += weight * ((day as f64 + asset as f64) * 0.37).sin() * self.drift;
            }
            value *= 1.0 + growth;
            pause(delay_ms);
        }
        value
    }
}

/// A generic function: the running mean of any values that convert to f64.
#[checkpointed(every_iters = 6, key = ())]
fn running_mean<T: Copy + Into<f64>>(values: &[T], delay_ms: u64) -> f64 {
    #[state]
    let mut mean = 0.0_f64;
    for (count, value) in values.iter().enumerate() {
        mean += ((*value).into() - mean) / (count as f64 + 1.0);
        pause(delay_ms);
    }
    mean
}

/// A fallible job: parse every record and total them, failing on the first
/// bad one (`?` keeps the checkpoint for the next attempt).
#[checkpointed(every_iters = 4, key = ())]
fn total_records(records: &[String], delay_ms: u64) -> Result<i64, std::num::ParseIntError> {
    #[state]
    let mut total = 0_i64;
    for record in records {
        total += record.trim().parse::<i64>()?;
        pause(delay_ms);
    }
    Ok(total)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let job = args.next().unwrap_or_default();
    let mut n = 60_u64;
    let mut delay_ms = 0_u64;
    while let Some(arg) = args.next() {
        if arg == "--delay-ms" {
            delay_ms = args.next().and_then(|ms| ms.parse().ok()).unwrap_or(0);
        } else if let Ok(value) = arg.parse() {
            n = value;
        } else {
            eprintln!("not a number: {arg}");
            std::process::exit(2);
        }
    }
    let result = match job.as_str() {
        "nested" => format!("{:#018x}", grid_potential(n, delay_ms).to_bits()),
        "phases" => residue_score(n, delay_ms).to_string(),
        "monte_carlo" => format!("{:#018x}", monte_carlo_pi(n, delay_ms).to_bits()),
        "method" => {
            let portfolio = Portfolio {
                weights: vec![0.5, 0.3, 0.2],
                drift: 0.01,
            };
            format!("{:#018x}", portfolio.simulate(n, delay_ms).to_bits())
        }
        "generic" => {
            let values: Vec<u32> = (0..n as u32).map(|i| i * i % 101).collect();
            format!("{:#018x}", running_mean(&values, delay_ms).to_bits())
        }
        "result" => {
            let records: Vec<String> = (0..n)
                .map(|i| format!(" {} ", i as i64 * 37 - 500))
                .collect();
            match total_records(&records, delay_ms) {
                Ok(total) => total.to_string(),
                Err(err) => format!("error: {err}"),
            }
        }
        _ => {
            eprintln!(
                "usage: newcomer nested|phases|monte_carlo|method|generic|result N [--delay-ms MS]"
            );
            std::process::exit(2);
        }
    };
    println!("{result}");
}

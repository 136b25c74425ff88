//! The shapes real long-running functions take, each checkpointed after
//! every iteration so that an interruption can land anywhere: nested loops
//! with labelled `continue`/`break`, phases with state declared between
//! them, a `while` around a save point, methods, a generic function, and a
//! `Result` with `?`. The end-to-end tests kill it and compare.
//!
//! ```text
//! cargo run --example shapes -- nested 40 --delay-ms 5
//! ```

use std::collections::BTreeMap;
use std::ops::AddAssign;

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};

/// Nested loops, a labelled `continue` and a `break` across them.
#[checkpointed(every_iters = 1, key = (n))]
fn nested(n: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut hash: u64 = 17;
    'rows: for i in 0..n {
        for j in 0..n {
            if (i + j) % 7 == 3 {
                continue 'rows;
            }
            if j > i + 5 {
                break;
            }
            hash = hash.wrapping_mul(31).wrapping_add(i * 1000 + j);
            pause(delay_ms);
        }
        hash ^= i;
    }
    hash
}

/// Two phases; the second's state is declared between them.
#[checkpointed(every_iters = 1, key = (n))]
fn phases(n: u64, delay_ms: u64) -> String {
    #[state]
    let mut squares: Vec<u64> = Vec::new();
    for i in 0..n {
        squares.push(i * i);
        pause(delay_ms);
    }
    let total: u64 = squares.iter().sum();
    #[state]
    let mut histogram: BTreeMap<u64, u64> = BTreeMap::new();
    for square in &squares {
        *histogram.entry(square % 10).or_default() += 1;
        pause(delay_ms);
    }
    format!("{total} {histogram:?}")
}

/// A `while` whose body holds a save point: a resume enters it mid-iteration
/// without testing the condition again. The body changes state only after
/// the inner loop: code before an inner save point runs again on resume.
#[checkpointed(every_iters = 1, key = (n))]
fn collatz(n: u64, delay_ms: u64) -> u64 {
    #[state]
    let mut value = n;
    #[state]
    let mut steps = 0u64;
    #[state]
    let mut work = 0u64;
    while value != 1 {
        let next = if value % 2 == 0 {
            value / 2
        } else {
            3 * value + 1
        };
        for k in 0..3 {
            work += next % (k + 2);
            pause(delay_ms);
        }
        value = next;
        steps += 1;
    }
    steps * 1_000_000 + work
}

/// A simulation object; its methods are checkpointed. It is `Serialize`
/// so that its value can key their runs.
#[derive(serde::Serialize)]
struct Walker {
    position: i64,
    seed: u64,
}

impl Walker {
    /// `&mut self`: the receiver's value at the call is part of the run's
    /// identity (with `steps`; `delay_ms` only slows the demo), so a second
    /// call on the walker it moved is a run of its own, and an interrupted
    /// second call never hands its checkpoint to the first.
    #[checkpointed(every_iters = 1, key = (self, steps))]
    fn walk(&mut self, steps: u64, delay_ms: u64) -> i64 {
        #[state]
        let mut position = self.position;
        #[state]
        let mut seed = self.seed;
        for _ in 0..steps {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            position += if seed >> 63 == 0 { 1 } else { -1 };
            pause(delay_ms);
        }
        self.position = position;
        self.seed = seed;
        position
    }

    /// `&self`, with an early `return`.
    #[checkpointed(every_iters = 1, key = (limit))]
    fn first_multiple(&self, limit: u64, delay_ms: u64) -> u64 {
        #[state]
        let mut checked = 0u64;
        for candidate in 1..limit {
            checked += 1;
            pause(delay_ms);
            if candidate % 97 == 0 && candidate > self.seed % 1000 {
                return candidate * 1000 + checked;
            }
        }
        checked
    }
}

/// A generic function with a where-clause.
#[checkpointed(every_iters = 1, key = (values))]
fn running_total<T>(values: &[T], delay_ms: u64) -> T
where
    T: Copy + Default + AddAssign + serde::Serialize + serde::de::DeserializeOwned,
{
    #[state]
    let mut total = T::default();
    for value in values {
        total += *value;
        pause(delay_ms);
    }
    total
}

/// A replayed iterator: the lines of a file (no length known ahead), summed.
/// A line that is not a number returns `Err`, keeping the checkpoint; a
/// rerun whose file ends before the saved line stops with an error rather
/// than returning the sum of fewer lines.
#[checkpointed(every_iters = 1, key = (path))]
fn sum_lines(path: &str, delay_ms: u64) -> Result<u64, String> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|err| format!("{path}: {err}"))?;
    #[state]
    let mut sum = 0_u64;
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|err| format!("{path}: {err}"))?;
        sum += line
            .trim()
            .parse::<u64>()
            .map_err(|err| format!("{line:?}: {err}"))?;
        pause(delay_ms);
    }
    Ok(sum)
}

/// A `Result` with `?`: an error leaves the checkpoint in place.
#[checkpointed(every_iters = 1, key = (lines))]
fn parse_sum(lines: &[String], delay_ms: u64) -> Result<i64, std::num::ParseIntError> {
    #[state]
    let mut sum = 0i64;
    for line in lines {
        sum += line.trim().parse::<i64>()?;
        pause(delay_ms);
    }
    Ok(sum)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let shape = args.next().unwrap_or_default();
    let cli = match Cli::from_args(args, 30) {
        Ok(cli) => cli,
        Err(why) => {
            eprintln!("{why}");
            std::process::exit(2);
        }
    };
    let (n, delay) = (cli.n, cli.delay_ms);
    let result = match shape.as_str() {
        "nested" => nested(n, delay).to_string(),
        "phases" => phases(n, delay),
        "collatz" => collatz(n, delay).to_string(),
        "walk" => {
            let mut walker = Walker {
                position: 0,
                seed: n,
            };
            let end = walker.walk(n, delay);
            format!("{end} {}", walker.seed)
        }
        "first_multiple" => Walker {
            position: 0,
            seed: n,
        }
        .first_multiple(n * 10, delay)
        .to_string(),
        "generic" => {
            let values: Vec<f64> = (0..n).map(|i| 1.0 / (i as f64 + 1.0)).collect();
            format!("{:?}", running_total(&values, delay).to_bits())
        }
        "result" => {
            let mut lines: Vec<String> = (0..n).map(|i| (i * 3).to_string()).collect();
            if std::env::var_os("SHAPES_BAD_LINE").is_some() {
                lines[(n / 2) as usize] = "not a number".into();
            }
            match parse_sum(&lines, delay) {
                Ok(sum) => sum.to_string(),
                Err(err) => format!("error: {err}"),
            }
        }
        "lines" => {
            let path = std::env::var("SHAPES_INPUT").unwrap_or_default();
            match sum_lines(&path, delay) {
                Ok(sum) => sum.to_string(),
                Err(err) => format!("error: {err}"),
            }
        }
        _ => {
            eprintln!(
                "usage: shapes nested|phases|collatz|walk|first_multiple|generic|result|lines N [--delay-ms MS] (lines reads the file SHAPES_INPUT names)"
            );
            std::process::exit(2);
        }
    };
    println!("{result}");
}

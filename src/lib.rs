//! Shared bits of the example programs: their command line, and the
//! per-iteration pause that makes them slow enough to interrupt by hand.

use std::time::Duration;

/// The command line every example takes: `N [--delay-ms MS]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cli {
    /// The size of the problem.
    pub n: u64,
    /// A sleep per iteration, in milliseconds, so that a person can interrupt the run.
    pub delay_ms: u64,
}

impl Cli {
    /// Reads the command line, or prints the usage and exits with status 2.
    pub fn parse(usage: &str, default_n: u64) -> Cli {
        match Cli::from_args(std::env::args().skip(1), default_n) {
            Ok(cli) => cli,
            Err(why) => {
                eprintln!("{why}\nusage: {usage}");
                std::process::exit(2);
            }
        }
    }

    /// Parses `N [--delay-ms MS]` from `args`.
    ///
    /// ```
    /// use checkpoint_examples::Cli;
    /// let cli = Cli::from_args(["30", "--delay-ms", "5"].map(String::from), 10).unwrap();
    /// assert_eq!(cli, Cli { n: 30, delay_ms: 5 });
    /// assert!(Cli::from_args(["x"].map(String::from), 10).is_err());
    /// ```
    pub fn from_args(
        args: impl IntoIterator<Item = String>,
        default_n: u64,
    ) -> Result<Cli, String> {
        let mut cli = Cli {
            n: default_n,
            delay_ms: 0,
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "--delay-ms" {
                let value = args.next().ok_or("--delay-ms needs a value")?;
                cli.delay_ms = value.parse().map_err(|_| {
                    format!("--delay-ms: `{value}` is not a number of milliseconds")
                })?;
            } else {
                cli.n = arg
                    .parse()
                    .map_err(|_| format!("`{arg}` is not a non-negative whole number"))?;
            }
        }
        Ok(cli)
    }
}

/// Sleeps `ms` milliseconds (nothing for 0): the classic demos' pause per iteration.
pub fn pause(ms: u64) {
    if ms > 0 {
        std::thread::sleep(Duration::from_millis(ms));
    }
}

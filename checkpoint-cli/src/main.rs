//! `checkpoint`: list, show, verify and clean up the checkpoint files that
//! `#[checkpointed]` functions and `Checkpoint` runs write.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

mod cleanup;
mod list;
mod runs;
mod show;
mod text;
mod verify;

/// Inspect and clean up checkpoint files.
///
/// DIR defaults to $CHECKPOINT_DIR, else `.checkpoints`, as for the programs
/// that write them. A RUN is a file stem as `checkpoint list` prints it,
/// e.g. `primes-bc0b90865b72cffa`.
#[derive(Debug, Parser)]
#[command(name = "checkpoint", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the runs in a directory: progress, generations, age, size.
    List {
        /// The checkpoint directory.
        dir: Option<PathBuf>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show the header of a checkpoint file, or of a run's newest generation.
    Show {
        /// A checkpoint file, or a run's stem.
        target: String,
        /// Where to look for RUN.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check every checkpoint file's header and checksum; fails if any is bad.
    ///
    /// Files that a resume moved aside (`*.ckpt.stale*`) are listed apart and
    /// never fail verification: the library already stopped using them.
    Verify {
        /// The checkpoint directory.
        dir: Option<PathBuf>,
    },
    /// Remove every file of a run, unless a live process holds its lock.
    Rm {
        /// The run's stem, as `checkpoint list` prints it.
        run: String,
        /// Where the run is.
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// Remove runs not saved for a while, and old moved-aside files.
    ///
    /// Without --yes, only lists what would be removed.
    Gc {
        /// The checkpoint directory.
        dir: Option<PathBuf>,
        /// Remove what was last written longer ago than this: 30m, 12h, 7d, 2w.
        #[arg(long, value_name = "AGE", value_parser = text::parse_duration)]
        older_than: Duration,
        /// Remove for real (default: a dry run).
        #[arg(long)]
        yes: bool,
    },
}

/// What a command has to say: its output, warnings, and whether it failed
/// after all (verification found a bad file).
#[derive(Debug, Default)]
pub struct Report {
    /// For stdout.
    pub out: String,
    /// For stderr, one line each.
    pub warnings: Vec<String>,
    /// Set when the command did its work but the exit status must say it failed.
    pub failure: Option<String>,
}

impl Report {
    /// Appends a line to the output.
    pub fn line(&mut self, line: impl AsRef<str>) {
        self.out.push_str(line.as_ref());
        self.out.push('\n');
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List { dir, json } => list::run(&resolve(dir), json),
        Command::Show { target, dir, json } => show::run(&target, &resolve(dir), json),
        Command::Verify { dir } => verify::run(&resolve(dir)),
        Command::Rm { run, dir } => cleanup::rm(&resolve(dir), &run),
        Command::Gc {
            dir,
            older_than,
            yes,
        } => cleanup::gc(&resolve(dir), older_than, yes),
    };
    let (report, error) = match result {
        Ok(report) => {
            let failure = report.failure.clone();
            (report, failure)
        }
        Err(error) => (Report::default(), Some(error)),
    };
    // A closed pipe (`checkpoint list | head`) is not worth a message.
    let _ = io::stdout().lock().write_all(report.out.as_bytes());
    let mut stderr = io::stderr().lock();
    for warning in &report.warnings {
        let _ = writeln!(stderr, "checkpoint: warning: {warning}");
    }
    match error {
        Some(error) => {
            let _ = writeln!(stderr, "checkpoint: error: {error}");
            ExitCode::FAILURE
        }
        None => ExitCode::SUCCESS,
    }
}

/// The directory in force: the one given, else `$CHECKPOINT_DIR`, else the
/// library's default, as a run would resolve it.
fn resolve(dir: Option<PathBuf>) -> PathBuf {
    dir.or_else(|| {
        std::env::var_os("CHECKPOINT_DIR")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(|| PathBuf::from(checkpoint_core::DEFAULT_DIR))
}

/// Lists `dir`'s runs, or says in words why it cannot.
pub fn scan(dir: &Path) -> Result<Vec<checkpoint_core::inspect::RunFiles>, String> {
    checkpoint_core::inspect::scan_dir(dir).map_err(|e| e.to_string())
}

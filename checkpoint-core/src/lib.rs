//! Make a long computation survive crashes, `kill -9`, Ctrl-C and
//! preemption: mark the function `#[checkpointed]` and the locals that make
//! up its state `#[state]`; run it again after an interruption and it
//! resumes mid-loop, returning exactly what an uninterrupted run returns.
//!
//! # Add it
//!
//! ```toml
//! [dependencies]
//! checkpoint-core = "0.1"
//! # Only to derive Serialize/Deserialize on your own state types:
//! serde = { version = "1", features = ["derive"] }
//! ```
//!
//! (Until it is on crates.io: `checkpoint-core = { git = "..." }` with the
//! repository's URL.) The `checkpoint` command that lists, shows, verifies
//! and removes checkpoints is the `checkpoint-tool` crate.
//!
//! # Mark the state
//!
//! ```
//! use checkpoint_core::checkpointed;
//!
//! #[checkpointed(every_iters = 1000)]
//! fn factorial(n: u64) -> u128 {
//!     #[state] let mut prod: u128 = 1;
//!     for i in 1..=n as u128 {
//!         prod *= i;
//!     }
//!     prod
//! }
//! # let dir = std::env::temp_dir().join(format!("ckpt-doc-lib-{}", std::process::id()));
//! # unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
//! assert_eq!(factorial(20), 2_432_902_008_176_640_000);
//! # std::fs::remove_dir_all(&dir).ok();
//! ```
//!
//! `#[state]` goes on every local whose value must survive from one
//! iteration to the next: accumulators, the RNG, the growing result, the
//! cursor of a `while` loop, a model's weights. Not on the arguments (they
//! are the run's key: other arguments are another run), nor on values
//! computed inside the loop. Each `#[state]` type needs serde's
//! `Serialize` and `Deserialize`.
//!
//! # Save points
//!
//! The outermost loop that changes a `#[state]` local is a *save point*:
//! at the end of an iteration, when a save is due (every 30 s by default),
//! the `#[state]` locals and the loop's position are written atomically
//! (postcard, zstd, a CRC-32, a temporary file fsynced and renamed; two
//! generations kept). A rerun restores them and goes on with the next
//! iteration. On SIGINT, SIGTERM or SIGUSR1 the run saves at the end of the
//! iteration and exits with 128 + signal. A normal return removes the
//! checkpoint. A value the macro cannot prove is restored exactly (a
//! `let mut` changed in the loop but not `#[state]`, a `HashMap` iterated
//! at a save point, ...) is a compile error naming the local, the loop and
//! the fix.
//!
//! # Check that it resumes exactly
//!
//! One test: [`verify`] runs the function uninterrupted, resumes it from a
//! spread of its saves (in memory), and panics naming the first `#[state]`
//! local that differs. It catches what syntax cannot see (interior
//! mutability, a helper that reads the clock).
//!
//! ```
//! # use checkpoint_core::checkpointed;
//! # #[checkpointed(every_iters = 1000)]
//! # fn factorial(n: u64) -> u128 {
//! #     #[state] let mut prod: u128 = 1;
//! #     for i in 1..=n as u128 { prod *= i; }
//! #     prod
//! # }
//! let verified = checkpoint_core::verify(|| factorial(20));
//! assert!(verified.resumes > 0);
//! ```
//!
//! # Options
//!
//! The options of the attribute (`every = "5 minutes"`, `every_iters`,
//! `every = "auto"` with `mtbf`, `signals`, `grace`, `keep`, `expire`,
//! `dir`, `key`, `strict`, ...) are listed on [`checkpointed`]; durations
//! are read by [`parse_duration`]. Operators override them without
//! recompiling: `CHECKPOINT_DIR` (a directory, or `s3://`, `gs://`,
//! `az://` with the `object-store` feature), `CHECKPOINT_EVERY`,
//! `CHECKPOINT_FRESH=1`, `CHECKPOINT_DISABLE=1`, `CHECKPOINT_WAIT=1`,
//! `CHECKPOINT_QUIET=1`.
//!
//! # MPI jobs
//!
//! With the `mpi` feature, `#[checkpointed(comm = world)]` (or
//! `CheckpointBuilder::comm`) checkpoints a function that every rank of an
//! MPI communicator runs: each rank saves its own part of the state, a
//! save counts once every rank's file is durable and rank 0 has written a
//! commit record, and a rerun resumes every rank from the newest commit
//! that is whole. Signals and time-based saves are agreed on by the ranks.
//!
//! # Without the macro
//!
//! The same runtime works by hand, for loops the macro cannot see (a
//! state machine, a callback): see [`Checkpoint`].

#![deny(missing_docs)]

// The layers, bottom to top; a module imports only from its own layer
// and those below it. At the bottom, no layer of its own: errors, the
// user's messages, durations, and facts about this process.
mod duration;
mod error;
mod machine;
mod report;
// Bytes: what a checkpoint file contains. No I/O.
mod bytes;
// Durable storage: where the bytes go, atomically.
mod storage;
// The run: when to save, in what thread, and what a signal does.
mod run;
// The public API on top.
#[cfg(test)]
mod across_tests;
mod checkpoint;
#[cfg(test)]
mod crash_tests;
pub mod inspect;
mod options;
mod verify;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[cfg(fuzzing)]
#[doc(hidden)]
#[path = "fuzz.rs"]
pub mod __fuzz;

pub use checkpoint::{Checkpoint, CheckpointBuilder, Stats};
pub use checkpoint_macros::checkpointed;
pub use duration::{DurationError, parse_duration};
pub use error::{CorruptReason, Error, Result};
pub use options::{
    DEFAULT_BACKGROUND, DEFAULT_DIR, DEFAULT_KEEP, DEFAULT_ZSTD_LEVEL, OnCodeChange,
};
pub use run::policy::{
    AUTO_MIN_INTERVAL, DEFAULT_EVERY, DEFAULT_GRACE, DEFAULT_MTBF, SavePolicy, auto_interval,
    daly_interval,
};
pub use verify::{Divergence, Verified, try_verify, verify};

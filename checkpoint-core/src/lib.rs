//! Make a long computation survive crashes, `kill -9`, Ctrl-C and
//! preemption: mark the function `#[checkpointed]` and the locals that make
//! up its state `#[state]`; run it again after an interruption and it
//! resumes mid-loop, returning exactly what an uninterrupted run returns.
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
//! Check that a function resumes exactly with one test: [`verify`] runs it
//! uninterrupted, resumes it from a spread of its saves, and compares.
//!
//! The same runtime works without the macro: see [`Checkpoint`].

#![deny(missing_docs)]

mod backend;
#[cfg(feature = "object-store")]
mod bucket;
mod canonical;
mod checkpoint;
mod clock;
mod duration;
mod error;
mod format;
mod identity;
pub mod inspect;
mod lock;
mod options;
mod policy;
mod progress;
mod report;
mod signals;
mod store;
mod verify;
mod watchdog;
mod writer;

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
pub use policy::{
    AUTO_MIN_INTERVAL, DEFAULT_EVERY, DEFAULT_GRACE, DEFAULT_MTBF, SavePolicy, auto_interval,
    daly_interval,
};
pub use verify::{Divergence, Verified, try_verify, verify};

//! The settings of a run and the environment variables operators use to
//! override them (`CHECKPOINT_DIR`, `CHECKPOINT_EVERY`, `CHECKPOINT_FRESH`,
//! `CHECKPOINT_DISABLE`).

use std::path::PathBuf;
#[cfg(test)]
use std::sync::Arc;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::run::policy::{DEFAULT_GRACE, DEFAULT_MTBF, SavePolicy};
use crate::run::signals::DEFAULT_SIGNALS;
use crate::storage::backend::{Location, Place, is_object_store_url};
#[cfg(test)]
use crate::storage::store::FileSystem;

/// The directory used when neither the code nor `CHECKPOINT_DIR` names one.
///
/// ```
/// assert_eq!(checkpoint_core::DEFAULT_DIR, ".checkpoints");
/// ```
pub const DEFAULT_DIR: &str = ".checkpoints";

/// Generations kept on disk by default: the newest, and the one before it
/// as a fallback in case the newest is damaged.
///
/// ```
/// assert_eq!(checkpoint_core::DEFAULT_KEEP, 2);
/// ```
pub const DEFAULT_KEEP: usize = 2;

/// The zstd level used by default: -1, one of zstd's fast levels.
/// Measured (README, "Performance"): on numeric state level 1 compresses
/// about twice as fast as level 3 and as small, and level -1 about 1.5
/// times as fast again (2.2 GB/s on one core here) at the same size on a
/// sparse field (0.061 of the raw bytes), which is what lets a
/// compressible 256 MiB save come close to writing the raw bytes.
///
/// ```
/// assert_eq!(checkpoint_core::DEFAULT_ZSTD_LEVEL, -1);
/// ```
pub const DEFAULT_ZSTD_LEVEL: i32 = -1;

/// Whether saves are written by a background thread unless told otherwise.
/// Measured (see the README's "Performance"): the loop then pays only for
/// serializing the state, not for compressing, writing and fsyncing it.
///
/// ```
/// assert!(checkpoint_core::DEFAULT_BACKGROUND);
/// ```
pub const DEFAULT_BACKGROUND: bool = true;

/// What to do when a checkpoint was written by different code (same state
/// schema, changed function body).
///
/// ```
/// use checkpoint_core::OnCodeChange;
/// assert_eq!(OnCodeChange::default(), OnCodeChange::Resume);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnCodeChange {
    /// Resume, with a warning. The default: most edits (a log line, a
    /// comment, a bug fix after the save point) do not invalidate the state.
    #[default]
    Resume,
    /// Move the old checkpoint aside and start fresh, with a warning.
    Restart,
    /// Refuse to run: the user must decide (`CHECKPOINT_FRESH=1` to restart).
    Error,
}

/// Everything configurable about a run. Built by [`crate::CheckpointBuilder`]
/// or by the `#[checkpointed(...)]` attribute.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub dir: Option<PathBuf>,
    pub policy: SavePolicy,
    pub keep: usize,
    pub zstd_level: Option<i32>,
    pub keep_on_success: bool,
    pub on_code_change: OnCodeChange,
    /// A failed save stops the run instead of warning.
    pub strict: bool,
    /// Signals that make the run save and exit.
    pub signals: Vec<i32>,
    /// An iteration or save longer than this is warned about: a scheduler's
    /// SIGKILL would come before the save.
    pub grace: Duration,
    /// Compress and write on a writer thread; the loop only serializes.
    pub background: bool,
    /// Checkpoints saved longer ago than this are moved aside, not resumed.
    pub expire: Option<Duration>,
    /// Wait for another process of the same run to finish instead of
    /// failing (`CHECKPOINT_WAIT=1` turns it on too).
    pub wait_for_lock: bool,
    /// A simulated disk for unit tests, instead of the real file system.
    #[cfg(test)]
    pub file_system: Option<Arc<dyn FileSystem>>,
    /// In unit tests: the size from which old generations are deleted on
    /// another thread, instead of 16 MiB.
    #[cfg(test)]
    pub delete_elsewhere_from: Option<u64>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dir: None,
            policy: SavePolicy::default(),
            keep: DEFAULT_KEEP,
            zstd_level: Some(DEFAULT_ZSTD_LEVEL),
            keep_on_success: false,
            on_code_change: OnCodeChange::default(),
            strict: false,
            signals: DEFAULT_SIGNALS.to_vec(),
            grace: DEFAULT_GRACE,
            background: DEFAULT_BACKGROUND,
            expire: None,
            wait_for_lock: false,
            #[cfg(test)]
            file_system: None,
            #[cfg(test)]
            delete_elsewhere_from: None,
        }
    }
}

impl Options {
    /// The directory in force: `CHECKPOINT_DIR`, else the configured one,
    /// else [`DEFAULT_DIR`].
    pub fn resolved_dir(&self) -> PathBuf {
        match std::env::var_os("CHECKPOINT_DIR") {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => self
                .dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DIR)),
        }
    }

    /// Where the checkpoints go and how to open them: the directory in
    /// force ([`Options::resolved_dir`]) or the object store it names
    /// (`s3://bucket/prefix`, `gs://...`, `az://...`), and whether to wait
    /// for the run's lock (asked for in the code, or by `CHECKPOINT_WAIT`).
    pub(crate) fn place(&self) -> Place {
        let dir = self.resolved_dir();
        let location = match dir.to_str() {
            Some(url) if is_object_store_url(url) => Location::Url(url.to_owned()),
            _ => Location::Dir(dir),
        };
        Place {
            location,
            wait_for_lock: self.wait_for_lock || crate::machine::env_flag("CHECKPOINT_WAIT"),
            #[cfg(test)]
            file_system: self.file_system.clone(),
            #[cfg(test)]
            delete_elsewhere_from: self.delete_elsewhere_from,
        }
    }
}

/// The save policy in force: `CHECKPOINT_EVERY` (a duration such as `5s`
/// or `10 minutes`, or `auto`) replaces the one in the code, time and
/// iteration counts alike, so an operator or a test can change how often a
/// run saves without recompiling. A value that is not a duration is an
/// error naming the variable and what it accepts.
pub(crate) fn policy_from_env(code: SavePolicy) -> Result<SavePolicy, String> {
    let Some(text) = std::env::var_os("CHECKPOINT_EVERY") else {
        return Ok(code);
    };
    let text = text.to_string_lossy();
    if text.trim().is_empty() {
        return Ok(code);
    }
    if text.trim() == "auto" {
        return Ok(SavePolicy::auto(code.mtbf().unwrap_or(DEFAULT_MTBF)));
    }
    match parse_duration(&text) {
        Ok(interval) if interval.is_zero() => Err(format!(
            "CHECKPOINT_EVERY={text:?} is zero: set a positive interval such as \"5s\", or \"auto\""
        )),
        Ok(interval) => Ok(SavePolicy::every(interval)),
        Err(err) => Err(format!(
            "CHECKPOINT_EVERY={text:?} is not a duration: {err}; or \"auto\""
        )),
    }
}

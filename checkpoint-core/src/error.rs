//! The one error type of checkpoint-core. Each message says what happened,
//! to which file, and what the user can do about it.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// A `Result` whose error defaults to [`Error`].
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// fn open(dir: &std::path::Path) -> checkpoint_core::Result<checkpoint_core::Checkpoint> {
///     checkpoint_core::Checkpoint::builder("result").dir(dir).open()
/// }
/// assert!(open(dir.path()).is_ok());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while saving, loading or locking a checkpoint.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use checkpoint_core::{Checkpoint, Error};
/// let held = Checkpoint::builder("held").dir(&dir).open()?;
/// match Checkpoint::builder("held").dir(&dir).open() {
///     Err(err @ Error::Locked { .. }) => assert!(err.to_string().contains(".lock")),
///     _ => unreachable!("the run is held"),
/// }
/// drop(held);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file-system call failed. `action` names the step ("create",
    /// "write", "fsync", "rename", "read", ...) so the message reads
    /// "could not fsync /path: ...".
    #[error("could not {action} {}: {source} ({})", path.display(), IoHint(action, source))]
    Io {
        /// The file or directory the step was applied to.
        path: PathBuf,
        /// What was being done, as a verb phrase.
        action: &'static str,
        /// The operating system's error.
        source: io::Error,
    },

    /// A checkpoint file failed verification: it is truncated, damaged, from
    /// another program or from a newer version of this library.
    #[error(
        "checkpoint {} is unusable: {reason} (move it away or delete it, or set CHECKPOINT_FRESH=1 to start fresh)",
        path.display()
    )]
    Corrupt {
        /// The checkpoint file.
        path: PathBuf,
        /// What exactly is wrong with it.
        reason: CorruptReason,
    },

    /// Another process of the same run holds the run's lock.
    #[error(
        "the same run is already running: {} is locked by {}; wait for it to finish or stop it (the lock is released as soon as that process exits)",
        lock_path.display(),
        Holder(holder.as_deref())
    )]
    Locked {
        /// The lock file.
        lock_path: PathBuf,
        /// What the holder wrote into the lock file (`pid=... host=...`),
        /// if it could be read.
        holder: Option<String>,
    },

    /// A request to an object store failed (feature `object-store`).
    /// `action` names the step ("write", "list", "create the lock", ...).
    #[error(
        "could not {action} {url}: {} (check the URL, the credentials in the environment (AWS_*, GOOGLE_*, AZURE_*), the network, and that the bucket exists)",
        OneLine(source.as_ref())
    )]
    Bucket {
        /// The object, or the bucket and prefix.
        url: String,
        /// What was being done, as a verb phrase.
        action: &'static str,
        /// The object store's error.
        source: Box<dyn std::error::Error + Send + Sync>,
    },

    /// Another process of the same run holds the run's lock in an object
    /// store, and has refreshed it within the TTL.
    #[error(
        "another process of the same run is already running: the lock {lock_url} is held by {}, refreshed {} ago; a lock not refreshed for {} s is taken over (CHECKPOINT_LOCK_TTL), so wait or set CHECKPOINT_WAIT=1 to wait for that; if that process is surely gone, CHECKPOINT_BREAK_LOCK=1 takes the lock over at once",
        Holder(holder.as_deref()),
        crate::report::duration(*age),
        ttl.as_secs()
    )]
    BucketLocked {
        /// The lock object.
        lock_url: String,
        /// What the holder wrote into the lock (`pid=... host=...`).
        holder: Option<String>,
        /// How long ago the holder last refreshed the lock.
        age: std::time::Duration,
        /// How long a lock may go without a refresh before it is taken over.
        ttl: std::time::Duration,
    },

    /// The newest checkpoint was written by a different version of the
    /// function's code (same state schema), and the run is configured to
    /// refuse rather than resume or restart.
    #[error(
        "checkpoint {} was written by a different version of this code (its state schema still matches); set CHECKPOINT_FRESH=1 to start fresh, or on_code_change = \"resume\" to resume from it",
        path.display()
    )]
    CodeChanged {
        /// The checkpoint file.
        path: PathBuf,
    },

    /// The state could not be serialized, or the checkpoint file could not
    /// be assembled (for example a header over the size cap).
    #[error(
        "could not serialize the checkpoint state: {0} (every #[state] value must implement serde::Serialize; sequences must know their length)"
    )]
    Encode(String),

    /// The background writer thread died while writing a save (a panic in
    /// the store); the save is lost, the previous checkpoint stays.
    #[error("the checkpoint writer thread stopped while saving: {0}")]
    Writer(String),

    /// An option has a value that cannot be used (an unknown signal name, say).
    #[error("invalid option `{option}`: {reason}")]
    InvalidOption {
        /// The option.
        option: &'static str,
        /// What is wrong with its value.
        reason: String,
    },

    /// The newest commit of a multi-rank run was written by a job with
    /// another number of ranks: each rank's file is its part of the state,
    /// so it cannot resume with more or fewer ranks.
    #[error(
        "checkpoint {} was committed by a job of {saved} ranks, and this job has {now}: each rank saved its own part of the state, so it resumes only with {saved} ranks (mpirun -np {saved}); to change the rank count, reshard the state (see \"Changing the rank count\" in the README) or set CHECKPOINT_FRESH=1 to start over",
        record.display()
    )]
    RankCount {
        /// The commit record.
        record: PathBuf,
        /// The ranks that wrote it.
        saved: usize,
        /// The ranks of this job.
        now: usize,
    },

    /// Another rank of a multi-rank run could not go on (its own message
    /// says why), so this one stops too: the ranks of a job checkpoint
    /// together or not at all.
    #[error("{0}")]
    OtherRank(String),

    /// A checkpoint or lock name cannot be used as a file name.
    #[error(
        "invalid checkpoint name {name:?}: {reason} (use letters, digits, '_', '-' and '.', not starting with '.')"
    )]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        reason: &'static str,
    },
}

impl Error {
    /// Builds an [`Error::Io`]; shaped for `map_err(|e| Error::io("write", &path, e))`.
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> Self {
        Error::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    }

    /// Builds an [`Error::Bucket`].
    #[cfg_attr(
        not(feature = "object-store"),
        allow(dead_code, reason = "only object stores make requests")
    )]
    pub(crate) fn bucket(
        action: &'static str,
        url: &str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Error::Bucket {
            url: url.to_owned(),
            action,
            source: source.into(),
        }
    }
}

/// What the user can try after a failed file-system step.
struct IoHint<'a>(&'a str, &'a io::Error);

impl fmt::Display for IoHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.1.kind() == io::ErrorKind::NotADirectory {
            f.write_str(
                "point CHECKPOINT_DIR, or the `dir` option, at a directory, or at a path where one can be made",
            )
        } else if self.1.kind() == io::ErrorKind::InvalidData {
            f.write_str(
                "it is damaged or not what its name says: a resume falls back past it; move it away or delete it",
            )
        } else if matches!(self.0, "read" | "list" | "inspect") {
            f.write_str("check that it exists and that this user may read it")
        } else {
            f.write_str(
                "check that the checkpoint directory is writable and has free space, or set CHECKPOINT_DIR to another directory",
            )
        }
    }
}

/// Displays an error on one line: servers put XML documents in theirs.
struct OneLine<'a>(&'a (dyn std::error::Error + Send + Sync));

impl fmt::Display for OneLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string();
        f.write_str(&text.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}

/// Displays the holder of a lock, or says it is unknown.
pub(crate) struct Holder<'a>(pub(crate) Option<&'a str>);

impl fmt::Display for Holder<'_> {
    /// `pid 4242 on host gpu07, started 2026-12-03 14:58:11 UTC (3 min
    /// ago)`, from the lock file's `pid=.. host=.. started_unix_ms=..`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(text) = self.0 else {
            return f.write_str("another process, whose pid is not known yet");
        };
        let field = |key: &str| {
            text.split_whitespace()
                .find_map(|part| part.strip_prefix(key))
        };
        let (Some(pid), Some(started)) = (
            field("pid="),
            field("started_unix_ms=").and_then(|ms| ms.parse::<u64>().ok()),
        ) else {
            return write!(f, "[{text}]");
        };
        write!(f, "pid {pid}")?;
        if pid == std::process::id().to_string()
            && field("host=").is_none_or(|host| host == crate::machine::hostname())
        {
            // Not another process: this one opened the run twice.
            return f.write_str(
                " (this very process: the same function with the same key was started again while it runs, on another thread or inside itself; give each call its own key)",
            );
        }
        if let Some(host) = field("host=").filter(|host| !host.is_empty()) {
            write!(f, " on host {host}")?;
        }
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        write!(
            f,
            ", started {} ({} ago)",
            crate::report::date(started),
            crate::report::duration(std::time::Duration::from_millis(
                now.saturating_sub(started)
            ))
        )
    }
}

/// Why a checkpoint file was rejected. Display gives a short phrase meant to
/// follow "checkpoint {path} is unusable: ".
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use checkpoint_core::inspect;
/// let file = dir.path().join("junk.g00000001.ckpt");
/// std::fs::write(&file, b"not a checkpoint")?;
/// let err = inspect::read_header(&file).unwrap_err();
/// assert!(err.to_string().contains("junk.g00000001.ckpt"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CorruptReason {
    /// The file is shorter than the smallest possible checkpoint.
    #[error(
        "it is only {len} bytes long, too short for a checkpoint (it was probably cut off while being written)"
    )]
    TooShort {
        /// The file's length.
        len: u64,
    },
    /// The file does not start with the checkpoint magic bytes: it is not a
    /// checkpoint file, or it was mangled by a text-mode transfer.
    #[error("it is not a checkpoint file (wrong magic bytes)")]
    BadMagic,
    /// The file was written by a newer format version than this build reads.
    #[error(
        "it was written in format version {found}, newer than this build reads (up to {supported}); upgrade checkpoint-core to resume from it"
    )]
    NewerVersion {
        /// The version in the file.
        found: u16,
        /// The newest version this build reads.
        supported: u16,
    },
    /// The file declares a format version that never existed (0).
    #[error("it declares format version {found}, which no release wrote")]
    UnsupportedVersion {
        /// The version in the file.
        found: u16,
    },
    /// The flags field has bits this build does not understand.
    #[error("it has unknown flags {flags:#06x}; it was written by a newer or foreign program")]
    UnknownFlags {
        /// The flags in the file.
        flags: u16,
    },
    /// The declared header length exceeds the cap.
    #[error("its header claims {len} bytes, over the {cap}-byte limit")]
    HeaderTooLarge {
        /// The declared header length.
        len: u64,
        /// The cap.
        cap: u64,
    },
    /// The file's length differs from what its length fields add up to.
    /// When the file is too short to hold the payload length, `expected` is
    /// the smallest length its header length allows.
    #[error(
        "it is {actual} bytes long but its length fields say {expected}: it was truncated or has bytes appended"
    )]
    SizeMismatch {
        /// The length the length fields imply.
        expected: u64,
        /// The file's real length.
        actual: u64,
    },
    /// The stored CRC-32 does not match the file's contents.
    #[error(
        "its checksum does not match (stored {stored:#010x}, computed {computed:#010x}): the file is damaged"
    )]
    ChecksumMismatch {
        /// The checksum stored at the end of the file.
        stored: u32,
        /// The checksum of the bytes actually present.
        computed: u32,
    },
    /// The header passed the checksum but could not be decoded.
    #[error("its header could not be decoded: {0}")]
    BadHeader(String),
    /// The declared uncompressed state size is over the configured limit.
    #[error("its state is {len} bytes, over the {cap}-byte limit (raise Limits::max_state_len)")]
    PayloadTooLarge {
        /// The declared uncompressed state length.
        len: u64,
        /// The limit.
        cap: u64,
    },
    /// The payload could not be decompressed or decoded into the state type.
    #[error("its state could not be decoded: {0}")]
    BadPayload(String),
    /// Decoding finished with bytes left over: the saved data does not have
    /// the shape of the type it is decoded into.
    #[error(
        "{count} bytes were left over after decoding its {section}: the saved data does not match this build's types"
    )]
    TrailingBytes {
        /// Which part of the file: "header" or "state".
        section: &'static str,
        /// How many bytes were left.
        count: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_message_names_action_path_and_cause() {
        let err = Error::io(
            "fsync",
            Path::new("/tmp/x/run.g00000001.ckpt"),
            io::Error::other("disk on fire"),
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with("could not fsync /tmp/x/run.g00000001.ckpt: disk on fire"),
            "{msg}"
        );
    }

    #[test]
    fn locked_message_names_lock_and_holder() {
        let err = Error::Locked {
            lock_path: PathBuf::from("/c/run.lock"),
            holder: Some("pid=42 host=box".into()),
        };
        let msg = err.to_string();
        assert!(msg.contains("/c/run.lock"), "{msg}");
        assert!(msg.contains("pid=42 host=box"), "{msg}");
        let unknown = Error::Locked {
            lock_path: PathBuf::from("/c/run.lock"),
            holder: None,
        };
        assert!(unknown.to_string().contains("pid is not known yet"));
    }

    #[test]
    fn the_holder_is_shown_with_its_start_date_and_age() {
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64
            - 90_000;
        let err = Error::Locked {
            lock_path: PathBuf::from("/c/run.lock"),
            holder: Some(format!("pid=4242 host=gpu07 started_unix_ms={started}")),
        };
        let msg = err.to_string();
        assert!(msg.contains("pid 4242 on host gpu07, started "), "{msg}");
        assert!(msg.contains(&crate::report::date(started)), "{msg}");
        assert!(
            msg.contains("ago)") && !msg.contains("started_unix_ms"),
            "{msg}"
        );
    }

    #[test]
    fn corrupt_message_names_file_and_reason() {
        let err = Error::Corrupt {
            path: PathBuf::from("/c/run.g00000002.ckpt"),
            reason: CorruptReason::ChecksumMismatch {
                stored: 1,
                computed: 2,
            },
        };
        let msg = err.to_string();
        assert!(msg.contains("/c/run.g00000002.ckpt"), "{msg}");
        assert!(msg.contains("checksum does not match"), "{msg}");
        assert!(msg.contains("0x00000001"), "{msg}");
    }
}

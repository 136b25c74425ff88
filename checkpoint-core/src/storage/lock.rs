//! The run lock: an advisory lock on `{stem}.lock` so that two processes of
//! the same run never write the same checkpoint.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::machine::hostname;
use crate::report;
use crate::storage::store::{check_stem, create_private_dir};

/// Extension of lock files: `{stem}.lock`.
pub(crate) const LOCK_SUFFIX: &str = ".lock";

/// How often to retry when the lock file is replaced under us.
const ATTEMPTS: u32 = 5;

/// The most bytes of a holder's description shown in an error; the file is
/// ours, but a damaged one should not flood the terminal.
pub(crate) const MAX_HOLDER_LEN: u64 = 512;

/// Exclusive ownership of one run's checkpoints, held until dropped.
///
/// The lock is `flock`-style (via [`File::try_lock`]): the operating system
/// releases it when the process exits for any reason, `kill -9` included,
/// so a crashed run never leaves a stale lock behind.
///
/// Dropping a `RunLock` closes the file, which releases the lock, but the
/// file itself stays: an interrupted run keeps its lock file beside its
/// checkpoints. A completed run removes it ([`RunLock::remove`]) while still
/// holding the lock; that is safe because [`RunLock::acquire`] checks, after
/// locking, that the path still names the file it locked: a process that
/// opened the file just before the unlink finds it gone and tries again.
#[derive(Debug)]
pub struct RunLock {
    // Held only to keep the lock: closing the descriptor releases it.
    #[allow(dead_code, reason = "never read; owning it is the lock")]
    file: File,
    path: PathBuf,
}

impl RunLock {
    /// Takes the lock for `stem` in `dir` (creating `dir` with mode 0700 and
    /// `{stem}.lock` with mode 0600 if missing) and records this process as
    /// the holder: `pid=... host=... started_unix_ms=...`.
    ///
    /// Fails with [`Error::Locked`], naming the holder, if another process
    /// (or another `RunLock` in this process) holds it. Never waits.
    pub fn acquire(dir: &Path, stem: &str) -> Result<RunLock> {
        RunLock::take(dir, stem, false)
    }

    /// Like [`RunLock::acquire`], but when another process holds the lock,
    /// says so once on stderr and blocks until it is released (its holder
    /// exits, finishes or is killed).
    pub fn wait_for(dir: &Path, stem: &str) -> Result<RunLock> {
        RunLock::take(dir, stem, true)
    }

    fn take(dir: &Path, stem: &str, wait: bool) -> Result<RunLock> {
        check_stem(stem)?;
        create_private_dir(dir)?;
        let path = dir.join(format!("{stem}{LOCK_SUFFIX}"));
        for _ in 0..ATTEMPTS {
            // Never through a symlink: one planted at the lock's name would
            // make the run truncate and write the file it points to.
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW)
                .open(&path)
                .map_err(|e| lock_open_error(&path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) if wait => {
                    report::info(format_args!(
                        "{} is locked by {}; waiting for that process to finish (CHECKPOINT_WAIT)",
                        path.display(),
                        crate::error::Holder(current_holder(&mut file).as_deref())
                    ));
                    // Blocks in flock(2); the holder's exit, however it
                    // happens, releases it.
                    file.lock().map_err(|e| Error::io("lock", &path, e))?;
                }
                Err(TryLockError::WouldBlock) => {
                    return Err(Error::Locked {
                        holder: current_holder(&mut file),
                        lock_path: path,
                    });
                }
                Err(TryLockError::Error(e)) => return Err(Error::io("lock", &path, e)),
            }
            // Between our open and our lock, someone may have deleted or
            // replaced the file (by hand, or a cleanup script). Then we hold
            // a lock nobody else can see; let go and start over.
            if !still_at_path(&file, &path)? {
                continue;
            }
            // The line only tells a refused process who holds the lock: a
            // failure to write it (a full disk) must not cost the run its
            // checkpoints.
            if let Err(err) = write_holder(&mut file) {
                report::warn(format_args!(
                    "could not write this process's line into the lock file {}: {err}; the run holds the lock and goes on, but a process it refuses will not see who holds it",
                    path.display()
                ));
            }
            return Ok(RunLock { file, path });
        }
        Err(Error::io(
            "lock",
            &path,
            std::io::Error::other(format!(
                "the lock file was replaced {ATTEMPTS} times while locking it; is something deleting it?"
            )),
        ))
    }
}

impl RunLock {
    /// Removes the lock file, then releases the lock: the run is complete
    /// and leaves nothing behind. Best effort: a lock file left over is
    /// harmless.
    pub fn remove(self) {
        if let Err(err) = fs::remove_file(&self.path) {
            tracing::debug!(target: "checkpoint", path = %self.path.display(), "could not remove the lock file: {err}");
        }
    }
}

/// Opening the lock file failed: a symlink at its name says so plainly.
fn lock_open_error(path: &Path, err: std::io::Error) -> Error {
    let is_link = fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    if is_link {
        return Error::io(
            "open lock file",
            path,
            std::io::Error::other(
                "it is a symbolic link, which a lock file never is (it could point outside the checkpoint directory); it was left as it is: remove it",
            ),
        );
    }
    Error::io("open lock file", path, err)
}

/// Whether `path` still names the file `file` has open (not a symlink to it).
fn still_at_path(file: &File, path: &Path) -> Result<bool> {
    let open = file.metadata().map_err(|e| Error::io("inspect", path, e))?;
    match fs::symlink_metadata(path) {
        Ok(now) => Ok(now.dev() == open.dev() && now.ino() == open.ino()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io("inspect", path, e)),
    }
}

/// Replaces the file's contents with a description of this process. No
/// fsync: the text is for humans, and the lock does not depend on it.
fn write_holder(file: &mut File) -> std::io::Result<()> {
    let started_unix_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let text = format!(
        "pid={} host={} started_unix_ms={started_unix_ms}\n",
        std::process::id(),
        hostname()
    );
    file.set_len(0)?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// The holder's description, once it names a live process. The process
/// that just took the lock may not have written its line yet, and the line
/// there may still be an earlier, killed run's: a pid that is not running
/// on this host is never named. Waits at most about 200 ms for the line.
fn current_holder(file: &mut File) -> Option<String> {
    for _ in 0..40 {
        if let Some(text) = read_holder(file)
            && names_a_live_process(&text)
        {
            return Some(text);
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    None
}

/// Whether a holder line (`pid=.. host=..`) names a process that runs: on
/// this host, one `kill(pid, 0)` says; a process on another host sharing
/// the directory cannot be checked, and is taken as named.
fn names_a_live_process(text: &str) -> bool {
    let field = |key: &str| {
        text.split_whitespace()
            .find_map(|part| part.strip_prefix(key).map(str::to_owned))
    };
    let Some(pid) = field("pid=").and_then(|pid| pid.parse::<libc::pid_t>().ok()) else {
        return false;
    };
    if field("host=").is_some_and(|host| !host.is_empty() && host != hostname()) {
        return true;
    }
    // SAFETY: kill with signal 0 sends nothing; it only checks that the
    // process exists and may be signalled.
    let alive = unsafe { libc::kill(pid, 0) } == 0
        || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    pid > 0 && alive
}

/// The holder's description, best effort: the holder may be between
/// truncating and writing it, or the file may be unreadable.
fn read_holder(file: &mut File) -> Option<String> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(MAX_HOLDER_LEN).read_to_end(&mut bytes).ok()?;
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    (!text.is_empty()).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn second_acquire_fails_until_the_first_is_dropped() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let first = RunLock::acquire(tmp.path(), "run").expect("first acquire");
        let lock_file = tmp.path().join("run.lock");
        let mode = fs::metadata(&lock_file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);

        // flock locks belong to the open file description, so a second open
        // in the same process conflicts just like another process would.
        let err = RunLock::acquire(tmp.path(), "run").expect_err("second acquire");
        match &err {
            Error::Locked { lock_path, holder } => {
                assert_eq!(lock_path, &lock_file);
                let holder = holder.as_deref().expect("holder recorded");
                let pid = format!("pid={} ", std::process::id());
                assert!(holder.starts_with(&pid), "{holder}");
                assert!(holder.contains("started_unix_ms="), "{holder}");
            }
            other => panic!("expected Locked, got {other}"),
        }
        let msg = err.to_string();
        assert!(msg.contains("run.lock"), "{msg}");
        // The holder is this very process: the message says so, and why.
        assert!(
            msg.contains(&format!(
                "pid {} (this very process: the same function with the same key was started again while it runs",
                std::process::id()
            )),
            "{msg}"
        );

        // Another run in the same directory is independent.
        let other = RunLock::acquire(tmp.path(), "other").expect("other stem");

        drop(first);
        let again = RunLock::acquire(tmp.path(), "run").expect("acquire after drop");
        drop(again);
        // The lock file is kept on drop, on purpose.
        assert!(lock_file.exists());
        drop(other);
    }

    #[test]
    fn a_waiting_acquire_gets_the_lock_when_the_holder_lets_go() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let holder = RunLock::acquire(tmp.path(), "run").expect("first acquire");
        let (sender, receiver) = std::sync::mpsc::channel();
        let dir = tmp.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let (lock, printed) = report::capture::lines(|| {
                RunLock::wait_for(&dir, "run").expect("wait for the lock")
            });
            sender.send(()).expect("send");
            (lock, printed)
        });
        // Whatever the waiter is doing, it cannot have the lock yet.
        assert!(receiver.try_recv().is_err(), "the waiter took a held lock");
        // A completed run removes the lock file while holding it: the waiter
        // then holds a lock on an unlinked file and must start over.
        holder.remove();
        receiver
            .recv_timeout(std::time::Duration::from_secs(30))
            .expect("the waiter got the lock once the holder let go");
        let (lock, printed) = waiter.join().expect("the waiter does not panic");
        assert!(tmp.path().join("run.lock").exists());
        assert!(
            RunLock::acquire(tmp.path(), "run").is_err(),
            "the waiter really holds the lock"
        );
        // It said what it waited for, unless it was quicker than the holder.
        for line in &printed {
            assert!(
                line.contains("run.lock") && line.contains("waiting"),
                "{line}"
            );
        }
        drop(lock);
    }

    #[test]
    fn lock_file_replaced_after_locking_is_retried() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("run.lock");
        let file = File::create(&path).expect("create");
        fs::remove_file(&path).expect("unlink");
        assert!(!still_at_path(&file, &path).expect("check"));
        fs::write(&path, b"").expect("recreate");
        assert!(!still_at_path(&file, &path).expect("check"));
        let reopened = File::open(&path).expect("open");
        assert!(still_at_path(&reopened, &path).expect("check"));
    }

    #[test]
    fn a_symlink_at_the_lock_is_refused_and_nothing_it_points_to_changes() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let outside = tempfile::tempdir().expect("tempdir");
        let victim = outside.path().join("precious");
        fs::write(&victim, b"keep me").expect("write");
        std::os::unix::fs::symlink(&victim, tmp.path().join("run.lock")).expect("plant");
        let err = RunLock::acquire(tmp.path(), "run").expect_err("a symlinked lock");
        let message = err.to_string();
        assert!(
            message.contains("run.lock") && message.contains("symbolic link"),
            "{message}"
        );
        assert_eq!(fs::read(&victim).expect("read"), b"keep me");

        // A dangling one creates nothing where it points.
        let missing = outside.path().join("created");
        fs::remove_file(tmp.path().join("run.lock")).expect("unlink");
        std::os::unix::fs::symlink(&missing, tmp.path().join("run.lock")).expect("plant");
        let err = RunLock::acquire(tmp.path(), "run").expect_err("a dangling symlink");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(
            !missing.exists(),
            "the lock created the file its symlink names"
        );
    }

    #[test]
    fn a_dead_process_is_never_named_as_the_holder() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let held = RunLock::acquire(tmp.path(), "run").expect("first");
        // The holder has locked but its line is still an earlier, killed
        // run's (a pid that no longer runs on this host).
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let dead = child.id();
        child.wait().expect("wait");
        fs::write(
            tmp.path().join("run.lock"),
            format!("pid={dead} host={} started_unix_ms=1\n", hostname()),
        )
        .expect("write");
        match RunLock::acquire(tmp.path(), "run") {
            Err(Error::Locked { holder, .. }) => assert_eq!(holder, None, "named a dead pid"),
            other => panic!("expected Locked, got {other:?}"),
        }
        // Once the holder's own line is there, it is named.
        fs::write(
            tmp.path().join("run.lock"),
            format!(
                "pid={} host={} started_unix_ms=1\n",
                std::process::id(),
                hostname()
            ),
        )
        .expect("write");
        match RunLock::acquire(tmp.path(), "run") {
            Err(Error::Locked { holder, .. }) => {
                assert!(holder.is_some_and(|h| h.contains(&format!("pid={}", std::process::id()))));
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        drop(held);
    }

    #[test]
    fn invalid_stem_is_an_error() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let err = RunLock::acquire(tmp.path(), "../escape").expect_err("bad stem");
        assert!(matches!(err, Error::InvalidName { .. }), "{err}");
    }
}

//! Deletes large old generations on a thread of its own, so that a save
//! does not wait for it. Freeing a large file's blocks is slow: 45 ms for a
//! 256 MiB file on ext4 mounted with `discard` (as cloud VMs often are),
//! a quarter of the whole save (`cargo bench -p checkpoint-bench`, row b).
//!
//! The files it gets have already been renamed to their run's temp-file
//! names, so a deletion still pending (or lost when the process exits) can
//! never hit a generation written since; a leftover is deleted the next
//! time the run opens ([`super::DirStore::clean_temp_files`]).
//!
//! Each store counts its own deletions in a [`Deletions`], and waits for
//! them before it writes its next generation: a run never has more than one
//! batch in flight, and never more files on disk than before.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

use super::FileSystem;
use crate::report;

/// The deletions one store handed to the janitor and that are not done.
#[derive(Debug, Default)]
pub(crate) struct Deletions {
    pending: Mutex<usize>,
    done: Condvar,
}

impl Deletions {
    /// Waits until every deletion handed over so far is done.
    pub(crate) fn wait(&self) {
        let mut pending = self.lock();
        while *pending > 0 {
            pending = self
                .done
                .wait(pending)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn lock(&self) -> MutexGuard<'_, usize> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Counts one deletion as done when dropped, even if it panicked.
struct Done(Arc<Deletions>);

impl Drop for Done {
    fn drop(&mut self) {
        *self.0.lock() -= 1;
        self.0.done.notify_all();
    }
}

/// A file to delete, the file system it is on, and whom to tell.
struct Doomed {
    fs: Arc<dyn FileSystem>,
    path: PathBuf,
    done: Done,
}

/// Deletes `path` on the janitor thread, counting it in `deletions`, or
/// right here if that thread cannot be started.
pub(crate) fn delete_soon(fs: Arc<dyn FileSystem>, path: PathBuf, deletions: &Arc<Deletions>) {
    static QUEUE: OnceLock<Option<Sender<Doomed>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (queue, inbox) = mpsc::channel::<Doomed>();
        std::thread::Builder::new()
            .name("checkpoint-janitor".into())
            .spawn(move || {
                for doomed in inbox {
                    // A panic here (in a tracing subscriber, say) still counts
                    // the deletion as done, and ends only this one.
                    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        delete(&*doomed.fs, &doomed.path);
                    }));
                    drop(doomed.done);
                }
            })
            .ok()
            .map(|_| queue)
    });
    *deletions.lock() += 1;
    let doomed = Doomed {
        fs,
        path,
        done: Done(Arc::clone(deletions)),
    };
    let unsent = match queue {
        Some(queue) => queue
            .send(doomed)
            .err()
            .map(|mpsc::SendError(doomed)| doomed),
        None => Some(doomed),
    };
    if let Some(doomed) = unsent {
        delete(&*doomed.fs, &doomed.path);
    }
}

fn delete(fs: &dyn FileSystem, path: &Path) {
    match fs.remove_file(path) {
        Ok(()) => {}
        // Deleted already: the run's temp files were swept.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => report::warn(format_args!(
            "could not delete the old checkpoint generation renamed to {}: {e}; the run deletes it when it next opens",
            path.display()
        )),
    }
}

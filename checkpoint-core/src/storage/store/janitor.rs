//! Deletes large old generations on threads of their own, so that a save
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
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use super::FileSystem;
use crate::report;

/// The deletions one store handed to other threads and that are not done.
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

/// Deletes `path` on a thread of its own, counting it in `deletions`, or
/// right here if no thread can be started. A thread per deletion: they are
/// rare (one per save of a state of 16 MiB or more, against ~20 µs to start
/// a thread), and one run's slow deletion never holds up another's.
pub(crate) fn delete_soon(fs: Arc<dyn FileSystem>, path: PathBuf, deletions: &Arc<Deletions>) {
    *deletions.lock() += 1;
    let done = Done(Arc::clone(deletions));
    let doomed = path.clone();
    let fs_here = Arc::clone(&fs);
    let spawned = std::thread::Builder::new()
        .name("checkpoint-janitor".into())
        .spawn(move || {
            // `done` counts the deletion as done when dropped, even if
            // `delete` panics (in a tracing subscriber, say).
            let _done = done;
            delete(&*fs, &doomed);
        });
    if spawned.is_err() {
        // The closure, and with it `done`, was dropped: the count is even.
        delete(&*fs_here, &path);
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

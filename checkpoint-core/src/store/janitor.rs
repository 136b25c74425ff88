//! Deletes large old generations on a thread of its own, so that a save
//! does not wait for it. Freeing a large file's blocks is slow: 45 ms for a
//! 256 MiB file on ext4 mounted with `discard` (as cloud VMs often are),
//! a quarter of the whole save (`cargo bench -p checkpoint-bench`, row b).
//!
//! The files it gets have already been renamed to this run's temp-file
//! names, so a deletion that is still pending (or lost when the process
//! exits) can never hit a generation written since; a leftover is deleted
//! the next time the run opens ([`super::DirStore::clean_temp_files`]).

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::{Arc, Condvar, Mutex, OnceLock};

use super::FileSystem;
use crate::report;

/// A file to delete, and the file system it is on.
type Doomed = (Arc<dyn FileSystem>, PathBuf);

/// Deletions handed to the thread and not yet done.
static PENDING: Mutex<usize> = Mutex::new(0);
static DONE: Condvar = Condvar::new();

/// Deletes `path` on the janitor thread, or right here if that thread
/// cannot be started.
pub(crate) fn delete_soon(fs: Arc<dyn FileSystem>, path: PathBuf) {
    static QUEUE: OnceLock<Option<Sender<Doomed>>> = OnceLock::new();
    let queue = QUEUE.get_or_init(|| {
        let (queue, inbox) = mpsc::channel::<Doomed>();
        std::thread::Builder::new()
            .name("checkpoint-janitor".into())
            .spawn(move || {
                for (fs, path) in inbox {
                    delete(&*fs, &path);
                    *lock_pending() -= 1;
                    DONE.notify_all();
                }
            })
            .ok()
            .map(|_| queue)
    });
    let Some(queue) = queue else {
        return delete(&*fs, &path);
    };
    *lock_pending() += 1;
    if let Err(mpsc::SendError((fs, path))) = queue.send((fs, path)) {
        *lock_pending() -= 1;
        delete(&*fs, &path);
    }
}

/// Waits until every deletion handed to the janitor so far is done.
pub(crate) fn wait_idle() {
    let mut pending = lock_pending();
    while *pending > 0 {
        pending = DONE
            .wait(pending)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
    }
}

fn lock_pending() -> std::sync::MutexGuard<'static, usize> {
    PENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn delete(fs: &dyn FileSystem, path: &Path) {
    match fs.remove_file(path) {
        Ok(()) => {}
        // Deleted already: the run finished and swept its temp files.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => report::warn(format_args!(
            "could not delete the old checkpoint generation renamed to {}: {e}; the run deletes it when it next opens",
            path.display()
        )),
    }
}

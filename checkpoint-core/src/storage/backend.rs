//! Where a run's checkpoints live, behind one interface: a directory
//! ([`DirStore`] and its flock [`RunLock`]), or, with the `object-store`
//! feature, a bucket of S3, GCS or Azure ([`crate::storage::bucket`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Result;
#[cfg(feature = "object-store")]
use crate::storage::bucket::{Bucket, BucketLock, BucketStore, LockRules};
use crate::storage::lock::RunLock;
#[cfg(test)]
use crate::storage::store::FileSystem;
use crate::storage::store::{DirStore, FileBytes, Generation, Kind, StdFs};

/// The generations of one run, wherever they are kept.
#[derive(Debug)]
pub(crate) enum Store {
    Dir(DirStore),
    #[cfg(feature = "object-store")]
    Bucket(BucketStore),
}

/// The run's lock, held until dropped or removed.
#[derive(Debug)]
pub(crate) enum Lock {
    Dir(RunLock),
    #[cfg(feature = "object-store")]
    Bucket(BucketLock),
}

/// An opened store, its lock, and its newest generation number (0: none).
pub(crate) struct Opened {
    pub store: Store,
    pub lock: Lock,
    pub newest: u64,
}

/// Where a run's checkpoints are and how to open them: what the options
/// and the environment say, resolved.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub location: Location,
    /// Wait for the run's lock rather than refuse a run held elsewhere.
    pub wait_for_lock: bool,
    /// A simulated disk instead of the real one.
    #[cfg(test)]
    pub file_system: Option<Arc<dyn FileSystem>>,
    /// See [`DirStore::with_delete_elsewhere_from`].
    #[cfg(test)]
    pub delete_elsewhere_from: Option<u64>,
}

/// Where a run's checkpoints go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Location {
    /// A directory on a local or shared disk.
    Dir(PathBuf),
    /// An object store bucket and prefix, as a URL.
    Url(String),
}

/// Whether `dir` names an object store rather than a directory: it starts
/// with a scheme `object_store` reads (`s3://`, `gs://`, `az://`, ...).
/// Never a real directory name: such a path would be relative, under a
/// directory called `s3:`.
pub(crate) fn is_object_store_url(dir: &str) -> bool {
    const SCHEMES: [&str; 8] = [
        "s3://", "s3a://", "gs://", "az://", "adl://", "azure://", "abfs://", "abfss://",
    ];
    SCHEMES.iter().any(|scheme| dir.starts_with(scheme))
}

/// Opens the store of run `stem` at `place` for files of `kind`, takes the
/// run's lock and cleans leftovers of interrupted saves.
pub(crate) fn open(place: &Place, stem: &str, kind: Kind) -> Result<Opened> {
    let wait = place.wait_for_lock;
    let (store, lock) = match &place.location {
        Location::Dir(dir) => {
            #[cfg(test)]
            let fs = place.file_system.clone().unwrap_or_else(|| Arc::new(StdFs));
            #[cfg(not(test))]
            let fs = Arc::new(StdFs);
            let store = DirStore::open_on(fs, dir, stem)?.of_kind(kind);
            #[cfg(test)]
            let store = match place.delete_elsewhere_from {
                Some(bytes) => store.with_delete_elsewhere_from(bytes),
                None => store,
            };
            let lock = if wait {
                RunLock::wait_for(dir, stem)?
            } else {
                RunLock::acquire(dir, stem)?
            };
            store.clean_temp_files();
            (Store::Dir(store), Lock::Dir(lock))
        }
        #[cfg(feature = "object-store")]
        Location::Url(url) => {
            let bucket = Arc::new(Bucket::connect(url)?);
            let store = BucketStore::new(Arc::clone(&bucket), stem)?.of_kind(kind);
            let lock = BucketLock::acquire(bucket, stem, LockRules::from_env(wait))?;
            (Store::Bucket(store), Lock::Bucket(lock))
        }
        #[cfg(not(feature = "object-store"))]
        Location::Url(url) => {
            return Err(crate::error::Error::InvalidOption {
                option: "dir",
                reason: format!(
                    "{url} is an object store URL, but this program was built without checkpoint-core's `object-store` feature"
                ),
            });
        }
    };
    let newest = store.list_generations()?.first().map_or(0, |g| g.number);
    Ok(Opened {
        store,
        lock,
        newest,
    })
}

impl Store {
    /// Every generation of the run, newest first.
    pub(crate) fn list_generations(&self) -> Result<Vec<Generation>> {
        match self {
            Store::Dir(store) => store.list_generations(),
            #[cfg(feature = "object-store")]
            Store::Bucket(store) => store.list_generations(),
        }
    }

    /// Writes generation `number` atomically and durably; returns where.
    pub(crate) fn write_generation(&self, number: u64, bytes: &[u8]) -> Result<PathBuf> {
        match self {
            Store::Dir(store) => store.write_generation(number, bytes),
            #[cfg(feature = "object-store")]
            Store::Bucket(store) => store.write_generation(number, bytes),
        }
    }

    /// A whole generation: mapped if it is a large file, fetched if it is
    /// an object.
    pub(crate) fn read(&self, path: &Path) -> Result<FileBytes> {
        match self {
            Store::Dir(store) => store.read(path),
            #[cfg(feature = "object-store")]
            Store::Bucket(store) => store.read(path).map(FileBytes::Read),
        }
    }

    /// Deletes all but the newest `keep` generations; in a directory, large
    /// ones on another thread ([`DirStore::prune_soon`]).
    pub(crate) fn prune(&self, keep: usize) -> Result<()> {
        match self {
            Store::Dir(store) => store.prune_soon(keep),
            #[cfg(feature = "object-store")]
            Store::Bucket(store) => store.prune(keep),
        }
    }

    /// The path (or URL) of the file called `name` beside this store's
    /// generations.
    pub(crate) fn sibling(&self, name: &str) -> PathBuf {
        match self {
            Store::Dir(store) => store.sibling(name),
            #[cfg(feature = "object-store")]
            Store::Bucket(store) => store.sibling(name),
        }
    }

    /// Deletes every generation numbered below `number`.
    pub(crate) fn prune_below(&self, number: u64) -> Result<()> {
        match self {
            Store::Dir(store) => store.prune_below(number),
            #[cfg(feature = "object-store")]
            Store::Bucket(store) => store.prune_below(number),
        }
    }

    /// Waits until the old generations pruned on another thread are
    /// deleted (a directory's large ones; see [`DirStore::prune_soon`]).
    pub(crate) fn wait_for_deletions(&self) {
        match self {
            Store::Dir(store) => store.wait_for_deletions(),
            #[cfg(feature = "object-store")]
            Store::Bucket(_) => {}
        }
    }

    /// Moves a bad or stale generation out of the way; returns where to.
    pub(crate) fn move_aside(&self, path: &Path, why: &str) -> Result<PathBuf> {
        match self {
            Store::Dir(store) => store.move_aside(path, why),
            #[cfg(feature = "object-store")]
            Store::Bucket(store) => store.move_aside(path, why),
        }
    }

    /// Deletes every generation of the run.
    pub(crate) fn remove_all(&self) -> Result<()> {
        match self {
            Store::Dir(store) => store.remove_all(),
            #[cfg(feature = "object-store")]
            Store::Bucket(store) => store.remove_all(),
        }
    }
}

impl Lock {
    /// The run is complete: removes the lock (its file or object) and
    /// releases it.
    pub(crate) fn remove(self) {
        match self {
            Lock::Dir(lock) => lock.remove(),
            #[cfg(feature = "object-store")]
            Lock::Bucket(lock) => lock.remove(),
        }
    }
}

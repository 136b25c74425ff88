//! The checkpoint directory of one run: generation files, the atomic save
//! protocol (temp file, fsync, rename, fsync the directory), pruning, and
//! loading the newest usable generation with fallback to older ones.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::bytes::format;
use crate::error::{Error, Result};

pub(crate) mod fs;
mod janitor;
#[cfg(test)]
pub(crate) mod sim;

pub(crate) use fs::{FileBytes, FileSystem, StdFs};
use fs::{PathDir, SaveDir};

/// Extension of generation files.
const EXTENSION: &str = ".ckpt";

/// What a store's numbered files are: checkpoints (`{stem}.g{N:08}.ckpt`),
/// or the commit records of a multi-rank job (`{stem}.g{N:08}.commit`,
/// see [`super::commit`]), which are written, listed, read and pruned by
/// the same protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Checkpoint,
    Commit,
}

impl Kind {
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Kind::Checkpoint => EXTENSION,
            Kind::Commit => super::commit::EXTENSION,
        }
    }
}

/// Suffix given to files moved aside by [`DirStore::move_aside`].
pub(crate) const STALE_SUFFIX: &str = ".stale";

/// Old generations at least this large are renamed out of the way and
/// deleted on another thread by [`DirStore::prune_soon`]; smaller ones are
/// deleted in microseconds, in place.
const DELETE_ELSEWHERE_FROM: u64 = 16 << 20;

/// Makes temp-file names unique within the process, across stores and
/// threads (the pid makes them unique across processes).
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// The generation files of one run (one `stem`) in one directory.
#[derive(Debug)]
pub struct DirStore {
    fs: Arc<dyn FileSystem>,
    dir: PathBuf,
    /// The directory, held open for the saves ([`SaveDir`]).
    save_dir: Mutex<HeldDir>,
    /// How often a save checks that the directory held open is still the
    /// one at `dir` ([`RECHECK_EVERY`]; tests set it to zero).
    recheck_every: Duration,
    stem: String,
    kind: Kind,
    /// Old generations of this store being deleted on another thread.
    deletions: Arc<janitor::Deletions>,
    /// Old generations at least this large are deleted on another thread.
    delete_elsewhere_from: u64,
    /// The generations on disk and their sizes, once listed: the run's
    /// lock makes this process the only one that adds or removes them, so
    /// pruning after a save needs no listing and no `stat`. `None` until
    /// the first listing, and again after a failed write or delete (the
    /// next prune lists).
    known: Mutex<Option<BTreeMap<u64, Option<u64>>>>,
    /// Whether a symlink or directory with a generation's name has been
    /// reported: once per store, not at every listing.
    warned_not_a_file: AtomicBool,
}

/// One generation file: a complete checkpoint, numbered in save order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generation {
    /// The generation number; higher is newer.
    pub number: u64,
    /// The file's path.
    pub path: PathBuf,
}

impl DirStore {
    /// Opens the store for `stem` in `dir` on the real file system; see
    /// [`DirStore::open_on`].
    #[cfg_attr(
        not(test),
        allow(dead_code, reason = "the runtime opens through open_on")
    )]
    pub fn open(dir: &Path, stem: &str) -> Result<DirStore> {
        DirStore::open_on(Arc::new(StdFs), dir, stem)
    }

    /// Opens the store for `stem` in `dir` on `fs`, creating `dir` (and its
    /// parents) with mode 0700 if missing. An existing directory keeps its
    /// mode.
    ///
    /// `stem` must be a plain file name: not empty, no `/`, not starting
    /// with `.` (temp files start with `.`, so they can never be mistaken
    /// for another run's generations).
    pub(crate) fn open_on(fs: Arc<dyn FileSystem>, dir: &Path, stem: &str) -> Result<DirStore> {
        check_stem(stem)?;
        create_dir_durably(fs.as_ref(), dir).map_err(|e| Error::io("create directory", dir, e))?;
        Ok(DirStore {
            save_dir: Mutex::new(HeldDir::open(&fs, dir)),
            recheck_every: RECHECK_EVERY,
            fs,
            dir: dir.to_path_buf(),
            stem: stem.to_owned(),
            kind: Kind::Checkpoint,
            deletions: Arc::default(),
            delete_elsewhere_from: DELETE_ELSEWHERE_FROM,
            known: Mutex::new(None),
            warned_not_a_file: AtomicBool::new(false),
        })
    }

    /// The same store holding files of `kind`.
    pub(crate) fn of_kind(mut self, kind: Kind) -> DirStore {
        self.kind = kind;
        self
    }

    /// Sets the size from which [`DirStore::prune_soon`] deletes on another
    /// thread, so that tests can take that path with small files.
    #[cfg(test)]
    pub(crate) fn with_delete_elsewhere_from(mut self, bytes: u64) -> DirStore {
        self.delete_elsewhere_from = bytes;
        self
    }

    /// The path generation `number` has (or would have):
    /// `{dir}/{stem}.g{number:08}.ckpt`.
    pub fn generation_path(&self, number: u64) -> PathBuf {
        self.dir.join(self.generation_name(number))
    }

    /// The file name of generation `number`: `{stem}.g{number:08}.ckpt`.
    fn generation_name(&self, number: u64) -> String {
        numbered_name(&self.stem, number, self.kind.extension())
    }

    /// The path of the file called `name` in this store's directory.
    pub(crate) fn sibling(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// Every generation file of this run, newest first. Files of other
    /// runs, temp files, moved-aside files and non-regular files are ignored.
    pub fn list_generations(&self) -> Result<Vec<Generation>> {
        let entries = self
            .fs
            .list(&self.dir)
            .map_err(|e| Error::io("list", &self.dir, e))?;
        let mut generations = Vec::new();
        for entry in entries {
            let Some(number) = entry.name.to_str().and_then(|n| self.parse_generation(n)) else {
                continue;
            };
            let path = self.dir.join(&entry.name);
            if entry.is_file {
                generations.push(Generation { number, path });
            } else {
                self.warn_not_a_file(&path);
            }
        }
        generations.sort_by_key(|g| std::cmp::Reverse(g.number));
        Ok(generations)
    }

    /// A symlink or directory with a generation's name was not written by
    /// this library, and following it could read (or, pruning, delete)
    /// anything: it is left out, and said once, since a user who linked a
    /// checkpoint copied from elsewhere would otherwise see the run start
    /// over without a word.
    fn warn_not_a_file(&self, path: &Path) {
        if self.warned_not_a_file.swap(true, Ordering::Relaxed) {
            return;
        }
        crate::report::warn(format_args!(
            "{} is ignored: it has a checkpoint's name but is not a regular file (a symbolic link or a directory, which this library never writes; following one could read or delete a file elsewhere); to resume from a checkpoint kept elsewhere, copy the file itself there (`cp -L`)",
            path.display()
        ));
    }

    /// Writes generation `number` atomically and durably, and returns its
    /// path.
    ///
    /// The bytes go to a new temp file in the same directory (mode 0600),
    /// which is fsynced, renamed over the target, and then the directory is
    /// fsynced so the rename itself survives a power loss. Readers see
    /// either no file or the complete file. On failure the temp file is
    /// removed and existing generations are untouched; a failed fsync is
    /// never retried on the same file (after a failed fsync Linux may have
    /// dropped the dirty pages and report the next fsync as a success), the
    /// next save starts over with a new temp file. If only the final
    /// directory fsync fails, the new file is in place but may not survive
    /// a power loss; the older generations are still there to fall back to.
    ///
    /// `rename` replaces whatever is at the target, a symlink included,
    /// without following it; the temp file is created with `O_EXCL`, which
    /// refuses a symlink planted at its name.
    pub fn write_generation(&self, number: u64, bytes: &[u8]) -> Result<PathBuf> {
        // The previous save's old generations are gone before this one
        // takes room: never more files on disk than keep + 1.
        self.wait_for_deletions();
        let target = self.generation_name(number);
        let written = self.write_via(&self.temp_name(number), &target, bytes);
        let mut known = self.known();
        match (&written, known.as_mut()) {
            (Ok(()), Some(known)) => {
                known.insert(number, Some(bytes.len() as u64));
            }
            // Perhaps renamed into place before it failed: list next time.
            (Err(_), _) => *known = None,
            (Ok(()), None) => {}
        }
        written.map(|()| self.sibling(&target))
    }

    fn known(&self) -> MutexGuard<'_, Option<BTreeMap<u64, Option<u64>>>> {
        self.known.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The generations on disk after the newest `skip`, newest first, with
    /// their sizes: from memory once listed (see `known`).
    fn generations_with_sizes(&self, skip: usize) -> Result<Vec<(Generation, Option<u64>)>> {
        if let Some(known) = self.known().as_ref() {
            return Ok(known
                .iter()
                .rev()
                .skip(skip)
                .map(|(&number, &len)| {
                    let path = self.generation_path(number);
                    (Generation { number, path }, len)
                })
                .collect());
        }
        let listed = self.list_generations()?;
        // Sizes of files found on disk are looked up when needed.
        *self.known() = Some(listed.iter().map(|g| (g.number, None)).collect());
        Ok(listed.into_iter().skip(skip).map(|g| (g, None)).collect())
    }

    /// Forgets `removed` (deleted or handed to the janitor), or everything
    /// after a failure.
    fn forget(&self, removed: &[u64], failed: bool) {
        let mut known = self.known();
        match known.as_mut() {
            Some(_) if failed => *known = None,
            Some(map) => removed.iter().for_each(|number| {
                map.remove(number);
            }),
            None => {}
        }
    }

    /// A new temp-file name for generation `number`:
    /// `.{stem}.g{number}.{pid}.{counter}.tmp`, unique in the process (the
    /// counter) and across processes (the pid).
    fn temp_name(&self, number: u64) -> String {
        // The pid, asked of the kernel once: a syscall per save otherwise.
        static PID: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
        format!(
            ".{}.g{number}.{}.{}.tmp",
            self.stem,
            PID.get_or_init(std::process::id),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        )
    }

    fn save_dir(&self) -> MutexGuard<'_, HeldDir> {
        self.save_dir.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Checks every `every` from now on whether the directory held open is
    /// still the one at the store's path, so that tests need not wait.
    #[cfg(test)]
    pub(crate) fn with_recheck_every(mut self, every: Duration) -> DirStore {
        self.recheck_every = every;
        self
    }

    /// The save protocol, in this store's directory: `bytes` to the new
    /// file `temp`, fsync, rename onto `target`, fsync the directory.
    fn write_via(&self, temp: &str, target: &str, bytes: &[u8]) -> Result<()> {
        let mut held = self.save_dir();
        // Renamed away since it was opened: saves go to the path, as they
        // would by path (and fail if nothing is there).
        if held.checked.elapsed() >= self.recheck_every && !held.dir.is_at(&self.dir) {
            held.reopen(&self.fs, &self.dir);
        }
        let created = match held.dir.create_new(temp) {
            // Removed since it was opened, perhaps made anew: open the path
            // again (it fails the same way if there is nothing there).
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                held.reopen(&self.fs, &self.dir);
                held.dir.create_new(temp)
            }
            created => created,
        };
        let dir = &held.dir;
        let mut file = created.map_err(|e| Error::io("create", &self.sibling(temp), e))?;
        let renamed = file
            .write_all(bytes)
            .map_err(|e| Error::io("write", &self.sibling(temp), e))
            // Without this the rename can reach the disk before the data,
            // and a power loss leaves an empty or partial file under the
            // final name.
            .and_then(|()| {
                file.sync()
                    .map_err(|e| Error::io("fsync", &self.sibling(temp), e))
            })
            .and_then(|()| {
                dir.rename(temp, target).map_err(|e| {
                    Error::io("rename a temporary file onto", &self.sibling(target), e)
                })
            });
        drop(file);
        if let Err(err) = renamed {
            // Best effort: the error we return matters more than this one.
            let _ = dir.remove(temp);
            return Err(err);
        }
        self.sync_dir_in(dir.as_ref())
    }

    /// Deletes all but the newest `keep` generations. Call it only after
    /// the newest generation is durable ([`DirStore::write_generation`]
    /// returned), so a crash never leaves fewer good generations than
    /// intended.
    ///
    /// The directory is not fsynced here: a deletion lost in a crash only
    /// brings back an older generation, which the next prune deletes, and
    /// the next save's directory fsync makes it durable anyway (a deletion
    /// [`DirStore::prune_soon`] handed to another thread included: the next
    /// save waits for it first). That saves
    /// a journal commit per save (measured by `cargo bench -p
    /// checkpoint-bench`: small durable saves went from 0.71 to 0.92-1.0
    /// times the rate of a bare write + fsync + rename + fsync(dir)).
    ///
    /// Tries every deletion and returns the first error.
    pub fn prune(&self, keep: usize) -> Result<()> {
        let old = self.generations_with_sizes(keep)?.into_iter();
        self.remove_generations(old.map(|(g, _)| g).collect())
    }

    /// Deletes every generation numbered below `number`: in a multi-rank
    /// job, what the oldest commit kept no longer needs (see
    /// [`super::commit`]). Tries every deletion and returns the first error.
    pub fn prune_below(&self, number: u64) -> Result<()> {
        let old = self.generations_with_sizes(0)?.into_iter().map(|(g, _)| g);
        self.remove_generations(old.filter(|g| g.number < number).collect())
    }

    /// Deletes generations `old` now, and forgets them.
    fn remove_generations(&self, old: Vec<Generation>) -> Result<()> {
        let numbers: Vec<u64> = old.iter().map(|g| g.number).collect();
        let removed = self.remove_files(old.into_iter().map(|g| g.path));
        self.forget(&numbers, removed.is_err());
        removed
    }

    /// [`DirStore::prune`], except that a large old generation is renamed
    /// to a temp-file name and deleted on another thread (see
    /// `store/janitor.rs`): what a save calls, so that it does not wait for
    /// the file system to free the blocks. [`DirStore::wait_for_deletions`]
    /// waits for those deletions; the next write does too.
    pub fn prune_soon(&self, keep: usize) -> Result<()> {
        let mut now = Vec::new();
        let mut numbers = Vec::new();
        for (old, len) in self.generations_with_sizes(keep)? {
            numbers.push(old.number);
            let len = len.map_or_else(|| self.fs.len(&old.path).ok(), Some);
            if len.is_some_and(|len| len >= self.delete_elsewhere_from) {
                let doomed = self.sibling(&self.temp_name(old.number));
                if self.fs.rename(&old.path, &doomed).is_ok() {
                    janitor::delete_soon(Arc::clone(&self.fs), doomed, &self.deletions);
                    continue;
                }
            }
            now.push(old.path);
        }
        let removed = self.remove_files(now);
        self.forget(&numbers, removed.is_err());
        removed
    }

    /// Waits until the old generations [`DirStore::prune_soon`] handed to
    /// another thread are deleted.
    pub fn wait_for_deletions(&self) {
        self.deletions.wait();
    }

    /// Renames a bad or stale file to `{file}.stale` (or `{file}.stale.1`,
    /// `.stale.2`, ... if taken) so it is out of the way but kept for
    /// inspection, and returns the new path. `why` is recorded in a
    /// `tracing` event.
    ///
    /// Checking for a free name and renaming are two steps; that is safe
    /// because the caller holds the run's lock.
    pub fn move_aside(&self, path: &Path, why: &str) -> Result<PathBuf> {
        // A generation may leave: list again before the next prune.
        *self.known() = None;
        let mut name = path.as_os_str().to_owned();
        name.push(STALE_SUFFIX);
        let base = PathBuf::from(name);
        let mut candidate = base.clone();
        let mut n = 0u32;
        loop {
            match self.fs.exists(&candidate) {
                Err(e) => return Err(Error::io("inspect", &candidate, e)),
                Ok(false) => break,
                Ok(true) if n >= 10_000 => {
                    return Err(Error::io(
                        "find a free name to move aside",
                        path,
                        io::Error::other("too many .stale files; delete old ones"),
                    ));
                }
                Ok(true) => {
                    n += 1;
                    let mut name = base.clone().into_os_string();
                    name.push(format!(".{n}"));
                    candidate = PathBuf::from(name);
                }
            }
        }
        self.fs
            .rename(path, &candidate)
            .map_err(|e| Error::io("move aside", path, e))?;
        self.sync_dir()?;
        tracing::debug!(from = %path.display(), to = %candidate.display(), why, "moved checkpoint aside");
        Ok(candidate)
    }

    /// Deletes every generation of this run (after the computation
    /// completed), then fsyncs the directory. Tries every deletion and
    /// returns the first error.
    pub fn remove_all(&self) -> Result<()> {
        self.wait_for_deletions();
        let deleted = self.prune(0);
        deleted.and(self.sync_dir())
    }

    /// A whole generation file, mapped if it is large (see
    /// `store/fs.rs`: only while holding the run's lock); errors name the
    /// path. Its start is checked first ([`format::check_prefix`]): a file
    /// whose magic, version or declared lengths are wrong is refused as
    /// [`Error::Corrupt`] before the rest is read or mapped.
    pub fn read(&self, path: &Path) -> Result<FileBytes> {
        let io = |e| Error::io("read", path, e);
        let len = self.fs.len(path).map_err(io)?;
        if self.kind == Kind::Commit {
            // Text, checked by its own checksum once read.
            if len > super::commit::MAX_RECORD_LEN as u64 {
                return Err(io(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("it is {len} bytes long, larger than any commit record"),
                )));
            }
            return self.fs.read(path).map_err(io);
        }
        let prefix = self.fs.read_prefix(path, format::PREFIX_LEN).map_err(io)?;
        format::check_prefix(&prefix, len).map_err(|reason| Error::Corrupt {
            path: path.to_path_buf(),
            reason,
        })?;
        self.fs.read(path).map_err(io)
    }

    /// Deletes temp files this run left behind (`.{stem}.g{N}.{pid}.{counter}.tmp`):
    /// a save's, when a process died mid-save, or an old generation renamed
    /// for deletion that the process exited before deleting. Returns the paths
    /// it deleted. Safe only while holding the run's lock, which makes the
    /// caller the only writer for this stem.
    ///
    /// Best effort: a leftover temp file is harmless (it never looks like a
    /// generation), so failures are only recorded as `tracing` events.
    pub fn clean_temp_files(&self) -> Vec<PathBuf> {
        let entries = match self.fs.list(&self.dir) {
            Ok(entries) => entries,
            Err(e) => {
                tracing::debug!(dir = %self.dir.display(), error = %e, "could not list for temp files");
                return Vec::new();
            }
        };
        let mut removed = Vec::new();
        for entry in entries {
            if !entry.name.to_str().is_some_and(|n| self.is_temp_file(n)) {
                continue;
            }
            let path = self.dir.join(&entry.name);
            match self.fs.remove_file(&path) {
                Ok(()) => removed.push(path),
                Err(e) => {
                    tracing::debug!(path = %path.display(), error = %e, "could not delete temp file")
                }
            }
        }
        removed
    }

    /// The generation number in `name` if it is exactly
    /// `{stem}.g{N:08}.ckpt`. Only the canonical spelling is accepted, so
    /// each number has one file name.
    fn parse_generation(&self, name: &str) -> Option<u64> {
        split_numbered_name(name, self.kind.extension())
            .filter(|(stem, _)| *stem == self.stem)
            .map(|(_, number)| number)
    }

    /// Whether `name` is exactly `.{stem}.g{N}.{pid}.{counter}.tmp`. Exact,
    /// because another run's stem may extend ours (`run` and `run.g1`).
    fn is_temp_file(&self, name: &str) -> bool {
        let Some(rest) = name
            .strip_prefix('.')
            .and_then(|n| n.strip_prefix(self.stem.as_str()))
            .and_then(|n| n.strip_prefix(".g"))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            return false;
        };
        let parts: Vec<&str> = rest.split('.').collect();
        parts.len() == 3 && parts.iter().all(|p| parse_digits(p).is_some())
    }

    /// Fsyncs the directory so that renames and deletions in it are durable.
    fn sync_dir(&self) -> Result<()> {
        self.sync_dir_in(self.save_dir().dir.as_ref())
    }

    /// [`DirStore::sync_dir`] with the directory at hand.
    fn sync_dir_in(&self, dir: &dyn SaveDir) -> Result<()> {
        match dir.sync() {
            Ok(()) => Ok(()),
            // Some file systems (certain FUSE and network mounts) cannot
            // fsync a directory at all; there the rename is as durable as it
            // gets.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
                ) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::io("fsync directory", &self.dir, e)),
        }
    }

    /// Deletes every file (each in this store's directory), ignoring ones
    /// already gone; returns the first error.
    fn remove_files(&self, paths: impl IntoIterator<Item = PathBuf>) -> Result<()> {
        let mut first_error = None;
        let dir = &self.save_dir().dir;
        for path in paths {
            let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
                continue;
            };
            match dir.remove(name) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    first_error.get_or_insert(Error::io("delete", &path, e));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The file (or object) name of generation `number` of run `stem`:
/// `{stem}.g{number:08}.ckpt`.
pub(crate) fn generation_name(stem: &str, number: u64) -> String {
    numbered_name(stem, number, EXTENSION)
}

/// `{stem}.g{number:08}{extension}`: a generation, or a commit record.
pub(crate) fn numbered_name(stem: &str, number: u64, extension: &str) -> String {
    format!("{stem}.g{number:08}{extension}")
}

/// The run stem and generation number of a file named exactly
/// `{stem}.g{N:08}.ckpt`, whatever the stem. Only the canonical spelling is
/// accepted, so each number has one file name.
pub(crate) fn split_generation_name(name: &str) -> Option<(&str, u64)> {
    split_numbered_name(name, EXTENSION)
}

/// [`split_generation_name`] for files ending in `extension`.
pub(crate) fn split_numbered_name<'n>(name: &'n str, extension: &str) -> Option<(&'n str, u64)> {
    let (stem, digits) = name.strip_suffix(extension)?.rsplit_once(".g")?;
    let number = parse_digits(digits)?;
    (!stem.is_empty() && format!("{number:08}") == digits).then_some((stem, number))
}

/// The name a file had before [`DirStore::move_aside`] renamed it, if
/// `name` is such a name: `{original}.stale` or `{original}.stale.{n}`.
pub(crate) fn moved_aside_original(name: &str) -> Option<&str> {
    if let Some(original) = name.strip_suffix(STALE_SUFFIX) {
        return Some(original);
    }
    let (rest, n) = name.rsplit_once('.')?;
    parse_digits(n)?;
    rest.strip_suffix(STALE_SUFFIX)
}

/// Refuses names that are not a single, non-hidden path component.
pub(crate) fn check_stem(stem: &str) -> Result<()> {
    let reason = if stem.is_empty() {
        "it is empty"
    } else if stem.contains('/') || stem.contains('\0') {
        "it contains '/' or a NUL byte"
    } else if stem.starts_with('.') {
        "it starts with '.'"
    } else {
        return Ok(());
    };
    Err(Error::InvalidName {
        name: stem.to_owned(),
        reason,
    })
}

/// How often a save checks that the directory it holds open is still the
/// one at the store's path (a `stat` of the path: a tenth of a tiny save,
/// too much for each). A directory renamed away is seen within a second:
/// until then saves follow it to its new name, durably.
const RECHECK_EVERY: Duration = Duration::from_secs(1);

/// A store's directory held open for saves, and when it was last found
/// at the store's path.
#[derive(Debug)]
struct HeldDir {
    dir: Box<dyn SaveDir>,
    checked: Instant,
}

impl HeldDir {
    /// `dir` held open for saves by `fs`, or by path where it cannot be.
    fn open(fs: &Arc<dyn FileSystem>, dir: &Path) -> HeldDir {
        let held = fs.open_dir(dir).unwrap_or_else(|| {
            Box::new(PathDir {
                fs: Arc::clone(fs),
                dir: dir.to_path_buf(),
            })
        });
        HeldDir {
            dir: held,
            checked: Instant::now(),
        }
    }

    /// Opens the directory at `dir` again: the one held was removed or
    /// renamed away.
    fn reopen(&mut self, fs: &Arc<dyn FileSystem>, dir: &Path) {
        *self = HeldDir::open(fs, dir);
    }
}

/// Creates `dir` and missing parents with mode 0700: checkpoints can hold
/// anything the computation holds, so other users should not read them.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    create_dir_durably(&StdFs, dir).map_err(|e| Error::io("create directory", dir, e))
}

/// Creates `dir` and its missing parents (mode 0700) and makes them
/// durable: POSIX keeps a new directory's entry across a power cut only
/// once its parent is fsynced, so each parent of a directory created here
/// is.
fn create_dir_durably(fs: &dyn FileSystem, dir: &Path) -> std::io::Result<()> {
    let mut missing = Vec::new();
    for ancestor in dir.ancestors() {
        // The working directory, above a relative path (`.checkpoints`).
        if ancestor.as_os_str().is_empty() {
            break;
        }
        let exists = match fs.exists(ancestor) {
            Ok(exists) => exists,
            // A file above it: found when the walk gets there.
            Err(err) if err.kind() == std::io::ErrorKind::NotADirectory => false,
            Err(err) => return Err(err),
        };
        if exists {
            // `CHECKPOINT_DIR=results.csv`: say what it is, not that the
            // disk may be full.
            if let Some(kind) = fs.not_a_directory(ancestor)? {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::NotADirectory,
                    format!("{} is {kind}, not a directory", ancestor.display()),
                ));
            }
            break;
        }
        missing.push(ancestor);
    }
    fs.create_dir_all(dir)?;
    for created in missing.iter().rev() {
        match created.parent() {
            Some(parent) if parent.as_os_str().is_empty() => fs.sync_dir(Path::new("."))?,
            Some(parent) => fs.sync_dir(parent)?,
            None => {} // the root has no parent to record it
        }
    }
    Ok(())
}

/// A non-empty run of ASCII digits as a `u64`.
fn parse_digits(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::{self, File};
    use std::os::unix::fs::{PermissionsExt, symlink};
    use std::sync::{Mutex, mpsc};

    #[test]
    fn a_checkpoint_dir_that_is_a_file_is_named_as_one() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let file = tmp.path().join("results.csv");
        fs::write(&file, b"a,b\n").expect("write");
        for dir in [file.clone(), file.join("ckpt")] {
            let err = DirStore::open(&dir, "run").expect_err("a file is no directory");
            let message = err.to_string();
            assert!(
                message.contains(&format!("{} is a file, not a directory", file.display())),
                "{message}"
            );
            assert!(!message.contains("free space"), "{message}");
            assert!(message.contains("CHECKPOINT_DIR"), "{message}");
        }
        assert_eq!(fs::read(&file).expect("read"), b"a,b\n");
    }

    #[test]
    fn new_directories_are_made_durable_in_their_parents() {
        let sim = sim::Sim::new();
        sim.create_dir_all(Path::new("/data"))
            .expect("the existing part");
        let before = sim.log().len();
        DirStore::open_on(Arc::new(sim.clone()), Path::new("/data/runs/job7"), "run")
            .expect("open");
        let synced: Vec<PathBuf> = sim.log()[before..]
            .iter()
            .filter(|logged| logged.step == sim::Step::SyncDir)
            .map(|logged| logged.path.clone())
            .collect();
        // Each new directory's entry is in its parent: both parents, top
        // down; the directory that existed is not created again.
        assert_eq!(
            synced,
            [PathBuf::from("/data"), PathBuf::from("/data/runs")]
        );

        let before = sim.log().len();
        DirStore::open_on(Arc::new(sim.clone()), Path::new("/data/runs/job7"), "run")
            .expect("reopen");
        assert!(
            sim.log()[before..]
                .iter()
                .all(|logged| logged.step != sim::Step::SyncDir),
            "nothing new, nothing to sync"
        );
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).expect("stat").permissions().mode() & 0o777
    }

    fn numbers(store: &DirStore) -> Vec<u64> {
        store
            .list_generations()
            .expect("list")
            .iter()
            .map(|g| g.number)
            .collect()
    }

    /// Whether permission bits bind this process (they do not for root).
    fn permissions_are_enforced(scratch: &Path) -> bool {
        let probe = scratch.join("probe");
        fs::create_dir(&probe).expect("mkdir probe");
        fs::set_permissions(&probe, fs::Permissions::from_mode(0o500)).expect("chmod");
        let enforced = File::create(probe.join("x")).is_err();
        fs::set_permissions(&probe, fs::Permissions::from_mode(0o700)).expect("chmod");
        enforced
    }

    #[test]
    fn write_list_prune_remove() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::open(&tmp.path().join("a/b/.checkpoints"), "run").expect("open");
        assert!(numbers(&store).is_empty());
        for n in [1, 2, 3, 10, 123_456_789] {
            let path = store
                .write_generation(n, format!("gen {n}").as_bytes())
                .expect("write");
            assert_eq!(path, store.generation_path(n));
            assert_eq!(fs::read(&path).unwrap(), format!("gen {n}").as_bytes());
        }
        assert_eq!(
            store.generation_path(3).file_name().unwrap(),
            "run.g00000003.ckpt"
        );
        assert_eq!(numbers(&store), [123_456_789, 10, 3, 2, 1]);

        // Overwriting a generation replaces it.
        store.write_generation(10, b"again").expect("rewrite");
        assert_eq!(fs::read(store.generation_path(10)).unwrap(), b"again");

        store.prune(2).expect("prune");
        assert_eq!(numbers(&store), [123_456_789, 10]);
        store.prune(5).expect("prune keeping more than exist");
        assert_eq!(numbers(&store), [123_456_789, 10]);
        store.remove_all().expect("remove all");
        assert!(numbers(&store).is_empty());
    }

    /// The real file system, except that deleting waits until the test
    /// lets it (or panics, with `panics`), and records which thread deleted.
    #[derive(Debug)]
    struct GatedDeletes {
        gate: Mutex<mpsc::Receiver<()>>,
        deleted_by: Mutex<Vec<String>>,
        panics: bool,
    }

    impl FileSystem for GatedDeletes {
        fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
            StdFs.create_dir_all(dir)
        }
        fn create_new(&self, path: &Path) -> io::Result<Box<dyn super::fs::NewFile>> {
            StdFs.create_new(path)
        }
        fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
            StdFs.rename(from, to)
        }
        fn sync_dir(&self, dir: &Path) -> io::Result<()> {
            StdFs.sync_dir(dir)
        }
        fn remove_file(&self, path: &Path) -> io::Result<()> {
            let thread = std::thread::current().name().unwrap_or("?").to_owned();
            self.deleted_by.lock().unwrap().push(thread);
            assert!(!self.panics, "a deletion that panics");
            // A deletion on the test's own thread would wait forever: it
            // fails instead, after long enough for any other thread.
            self.gate
                .lock()
                .unwrap()
                .recv_timeout(std::time::Duration::from_secs(10))
                .map_err(|_| io::Error::other("the test did not let this deletion happen"))?;
            StdFs.remove_file(path)
        }
        fn list(&self, dir: &Path) -> io::Result<Vec<super::fs::Entry>> {
            StdFs.list(dir)
        }
        fn read(&self, path: &Path) -> io::Result<FileBytes> {
            StdFs.read(path)
        }
        fn read_prefix(&self, path: &Path, len: usize) -> io::Result<Vec<u8>> {
            StdFs.read_prefix(path, len)
        }
        fn not_a_directory(&self, path: &Path) -> io::Result<Option<&'static str>> {
            StdFs.not_a_directory(path)
        }
        fn exists(&self, path: &Path) -> io::Result<bool> {
            StdFs.exists(path)
        }
        fn len(&self, path: &Path) -> io::Result<u64> {
            StdFs.len(path)
        }
    }

    /// A gated file system, and the sender that lets one deletion through.
    fn gated(panics: bool) -> (mpsc::Sender<()>, Arc<GatedDeletes>) {
        let (let_delete, gate) = mpsc::channel();
        let fs = Arc::new(GatedDeletes {
            gate: Mutex::new(gate),
            deleted_by: Mutex::default(),
            panics,
        });
        (let_delete, fs)
    }

    /// Whether `store.wait_for_deletions()` returns within ten seconds (on
    /// a thread of its own, which is left waiting if not).
    fn deletions_end_soon(store: &Arc<DirStore>) -> bool {
        let (waited, done) = mpsc::channel();
        let waiter = Arc::clone(store);
        std::thread::spawn(move || {
            waiter.wait_for_deletions();
            let _ = waited.send(());
        });
        done.recv_timeout(std::time::Duration::from_secs(10))
            .is_ok()
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn large_old_generations_are_deleted_on_another_thread() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (let_delete, gated) = gated(false);
        let store = DirStore::open_on(gated.clone(), tmp.path(), "big")
            .expect("open")
            .with_delete_elsewhere_from(8);
        store.write_generation(1, b"large one").expect("write");
        store.write_generation(2, b"large two").expect("write");
        store.write_generation(3, b"small").expect("write");
        // Returns while the deletions cannot happen: they are elsewhere.
        store.prune_soon(1).expect("prune");
        // The old generations are out of the listing at once (renamed to
        // temp-file names); the newest is untouched; the small one among
        // them would have been deleted here, but there is none.
        assert_eq!(numbers(&store), [3]);
        assert_eq!(fs::read(store.generation_path(3)).unwrap(), b"small");
        let names = names_in(tmp.path());
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(
            names.iter().filter(|n| store.is_temp_file(n)).count() == 2,
            "{names:?}"
        );
        // Once let through and waited for, nothing but the newest is left,
        // deleted on a janitor thread.
        let_delete.send(()).unwrap();
        let_delete.send(()).unwrap();
        store.wait_for_deletions();
        assert_eq!(names_in(tmp.path()), ["big.g00000003.ckpt"]);
        assert_eq!(
            *gated.deleted_by.lock().unwrap(),
            ["checkpoint-janitor", "checkpoint-janitor"]
        );
    }

    #[test]
    fn a_run_waits_only_for_its_own_deletions() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (let_delete, gated) = gated(false);
        let stuck = DirStore::open_on(gated, tmp.path(), "stuck")
            .expect("open")
            .with_delete_elsewhere_from(0);
        stuck.write_generation(1, b"one").expect("write");
        stuck.write_generation(2, b"two").expect("write");
        stuck.prune_soon(1).expect("prune");
        // Another run in the same process, whose deletions are all done,
        // does not wait for this one's.
        let other = Arc::new(
            DirStore::open(tmp.path(), "other")
                .expect("open")
                .with_delete_elsewhere_from(0),
        );
        other.write_generation(1, b"one").expect("write");
        other.write_generation(2, b"two").expect("write");
        other.prune_soon(1).expect("prune");
        let returned = deletions_end_soon(&other);
        let_delete.send(()).unwrap();
        stuck.wait_for_deletions();
        assert!(returned, "one run waited for another's deletion");
        assert_eq!(
            names_in(tmp.path()),
            ["other.g00000002.ckpt", "stuck.g00000002.ckpt"]
        );
    }

    #[test]
    fn a_deletion_that_panics_still_counts_as_done() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let (_never, fs) = gated(true);
        let store = Arc::new(
            DirStore::open_on(fs.clone(), tmp.path(), "odd")
                .expect("open")
                .with_delete_elsewhere_from(0),
        );
        store.write_generation(1, b"one").expect("write");
        store.write_generation(2, b"two").expect("write");
        store.prune_soon(1).expect("prune");
        // Were the panic to leave the deletion pending, this would wait
        // forever.
        assert!(
            deletions_end_soon(&store),
            "waiting for a deletion that panicked never returns"
        );
        assert_eq!(*fs.deleted_by.lock().unwrap(), ["checkpoint-janitor"]);
        // The file the panic left is swept when the run next opens.
        let reopened = DirStore::open(tmp.path(), "odd").expect("reopen");
        assert_eq!(reopened.clean_temp_files().len(), 1);
        assert_eq!(names_in(tmp.path()), ["odd.g00000002.ckpt"]);
    }

    #[test]
    fn small_old_generations_are_deleted_in_place() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::open(tmp.path(), "small").expect("open");
        for n in 1..=3 {
            store.write_generation(n, b"small").expect("write");
        }
        store.prune_soon(1).expect("prune");
        // Nothing was handed elsewhere: the directory is final already.
        assert_eq!(names_in(tmp.path()), ["small.g00000003.ckpt"]);
    }

    #[test]
    fn listing_ignores_other_files() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::open(tmp.path(), "run").expect("open");
        let other = DirStore::open(tmp.path(), "run.g1").expect("open other");
        store.write_generation(7, b"x").expect("write");
        other.write_generation(8, b"y").expect("write other");
        for name in [
            "run.g00000009.ckpt.stale",
            "run.g00000009.ckpt.stale.1",
            ".run.g9.1.1.tmp",
            "run.g9.ckpt",
            "run.g000000009.ckpt",
            "run.g+0000009.ckpt",
            "run.g0000000a.ckpt",
            "run.g.ckpt",
            "runx.g00000009.ckpt",
            "run.lock",
        ] {
            fs::write(tmp.path().join(name), b"z").expect("write decoy");
        }
        fs::create_dir(tmp.path().join("run.g00000011.ckpt")).expect("mkdir decoy");
        symlink("/etc/passwd", tmp.path().join("run.g00000012.ckpt")).expect("symlink decoy");
        let (listed, said) = crate::report::capture::lines(|| numbers(&store));
        assert_eq!(listed, [7]);
        assert_eq!(said.len(), 1, "{said:?}");
        assert_eq!(numbers(&other), [8]);
        assert_eq!(
            store.list_generations().unwrap()[0].path,
            store.generation_path(7)
        );
    }

    #[test]
    fn a_symlink_with_a_generations_name_is_left_out_and_said_once() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let elsewhere = tempfile::tempdir().expect("elsewhere");
        let copied = DirStore::open(elsewhere.path(), "run").expect("open elsewhere");
        let kept = copied
            .write_generation(9, b"kept elsewhere")
            .expect("write");
        let store = DirStore::open(tmp.path(), "run").expect("open");
        let link = tmp.path().join("run.g00000009.ckpt");
        symlink(&kept, &link).expect("link the copy");
        let (listed, said) = crate::report::capture::lines(|| {
            let first = numbers(&store);
            let second = numbers(&store);
            (first, second)
        });
        assert_eq!(listed, (vec![], vec![]), "a symlink is never a generation");
        assert_eq!(said.len(), 1, "said once per store: {said:?}");
        assert!(
            said[0].contains(&link.display().to_string())
                && said[0].contains("symbolic link")
                && said[0].contains("cp -L"),
            "{said:?}"
        );
        assert_eq!(fs::read(&kept).expect("read"), b"kept elsewhere");
    }

    #[test]
    fn files_are_0600_and_new_dirs_0700() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("outer/ckpt");
        let store = DirStore::open(&dir, "run").expect("open");
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&tmp.path().join("outer")), 0o700);
        let path = store.write_generation(1, b"secret").expect("write");
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn invalid_stems_are_errors() {
        let tmp = tempfile::tempdir().expect("tempdir");
        for stem in ["", "a/b", ".hidden", "..", "a\0b"] {
            let err = DirStore::open(tmp.path(), stem).expect_err(stem);
            assert!(matches!(err, Error::InvalidName { .. }), "{stem:?}: {err}");
        }
    }

    #[test]
    fn failed_write_leaves_no_temp_file_and_keeps_generations() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::open(tmp.path(), "run").expect("open");
        store.write_generation(1, b"good").expect("write");

        // The target is a non-empty directory: the rename fails after the
        // temp file was written, whoever runs the test.
        let blocked = store.generation_path(2);
        fs::create_dir(&blocked).expect("mkdir");
        fs::write(blocked.join("inside"), b"").expect("fill");
        let err = store
            .write_generation(2, b"new")
            .expect_err("rename over a dir");
        let msg = err.to_string();
        assert!(msg.contains("rename"), "{msg}");
        assert!(msg.contains("run.g00000002.ckpt"), "{msg}");
        let leftovers: Vec<_> = fs::read_dir(tmp.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        assert_eq!(fs::read(store.generation_path(1)).unwrap(), b"good");
    }

    #[test]
    fn write_into_read_only_dir_fails_cleanly() {
        let tmp = tempfile::tempdir().expect("tempdir");
        if !permissions_are_enforced(tmp.path()) {
            eprintln!("skipped: permission bits do not bind this user (root?)");
            return;
        }
        let dir = tmp.path().join("ro");
        let store = DirStore::open(&dir, "run").expect("open");
        store.write_generation(1, b"good").expect("write");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o500)).expect("chmod");
        let result = store.write_generation(2, b"new");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).expect("chmod back");
        let err = result.expect_err("write into read-only dir");
        assert!(
            matches!(&err, Error::Io { action: "create", path, .. } if path.starts_with(&dir)),
            "{err}"
        );
        assert_eq!(numbers(&store), [1]);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn symlink_at_the_target_is_replaced_not_followed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::open(&tmp.path().join("ckpt"), "run").expect("open");
        let victim = tmp.path().join("victim.txt");
        fs::write(&victim, b"precious").expect("write victim");
        let target = store.generation_path(1);
        symlink(&victim, &target).expect("plant symlink");

        store.write_generation(1, b"checkpoint").expect("write");
        assert!(
            !fs::symlink_metadata(&target)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(fs::read(&target).unwrap(), b"checkpoint");
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
    }

    #[test]
    fn symlink_at_the_temp_path_is_refused_not_followed() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::open(&tmp.path().join("ckpt"), "run").expect("open");
        let victim = tmp.path().join("victim.txt");
        fs::write(&victim, b"precious").expect("write victim");
        let target = store.generation_name(1);
        for planted in [victim.clone(), tmp.path().join("dangling")] {
            let temp = tmp.path().join("ckpt/.run.g1.1.1.tmp");
            symlink(&planted, &temp).expect("plant symlink");
            let err = store
                .write_via(".run.g1.1.1.tmp", &target, b"checkpoint")
                .expect_err("a symlink at the temp path is never written through");
            assert!(
                matches!(&err, Error::Io { action: "create", path, .. } if *path == temp),
                "{err}"
            );
            assert!(
                fs::symlink_metadata(&temp)
                    .unwrap()
                    .file_type()
                    .is_symlink()
            );
            fs::remove_file(&temp).expect("remove the symlink");
        }
        assert_eq!(fs::read(&victim).unwrap(), b"precious");
        assert!(!tmp.path().join("dangling").exists());
        assert!(numbers(&store).is_empty());
    }

    /// The directory is held open between saves: one removed under a run
    /// fails the next save by its path, as before, and one made anew at
    /// the same path gets the saves after it.
    #[test]
    fn a_directory_removed_or_made_anew_under_a_run() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("ckpt");
        let store = DirStore::open(&dir, "run").expect("open");
        store.write_generation(1, b"one").expect("write");
        fs::remove_dir_all(&dir).expect("remove the directory");
        let err = store
            .write_generation(2, b"two")
            .expect_err("no directory to save into");
        assert!(
            matches!(&err, Error::Io { action: "create", path, source }
                if path.parent() == Some(dir.as_path()) && source.kind() == io::ErrorKind::NotFound),
            "{err}"
        );
        fs::create_dir(&dir).expect("make it anew");
        let saved = store.write_generation(3, b"three").expect("write");
        assert_eq!(saved, dir.join(generation_name("run", 3)));
        assert_eq!(fs::read(&saved).unwrap(), b"three");
        store.write_generation(4, b"four").expect("write");
        store.prune(1).expect("prune");
        assert_eq!(numbers(&store), [4]);
    }

    /// A directory renamed away under a run is found out at the next
    /// check: the saves after it go to the path, or fail naming it, never
    /// on into the renamed directory where a rerun would not look.
    #[test]
    fn a_directory_renamed_away_under_a_run() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("ckpt");
        let store = DirStore::open(&dir, "run")
            .expect("open")
            .with_recheck_every(Duration::ZERO);
        store.write_generation(1, b"one").expect("write");
        let away = tmp.path().join("away");
        fs::rename(&dir, &away).expect("rename the directory away");
        let err = store
            .write_generation(2, b"two")
            .expect_err("nothing at the path to save into");
        assert!(
            matches!(&err, Error::Io { action: "create", path, .. } if path.parent() == Some(dir.as_path())),
            "{err}"
        );
        fs::create_dir(&dir).expect("a new directory at the path");
        let saved = store.write_generation(3, b"three").expect("write");
        assert_eq!(saved, dir.join(generation_name("run", 3)));
        assert_eq!(fs::read(&saved).unwrap(), b"three");
        assert_eq!(names_in(&away), [generation_name("run", 1)]);
    }

    #[test]
    fn move_aside_picks_a_free_name() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::open(tmp.path(), "run").expect("open");
        let mut moved = Vec::new();
        for _ in 0..3 {
            let path = store.write_generation(4, b"old schema").expect("write");
            moved.push(
                store
                    .move_aside(&path, "schema changed")
                    .expect("move aside"),
            );
        }
        let names: Vec<_> = moved
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "run.g00000004.ckpt.stale",
                "run.g00000004.ckpt.stale.1",
                "run.g00000004.ckpt.stale.2"
            ]
        );
        assert!(numbers(&store).is_empty());
        assert_eq!(fs::read(&moved[2]).unwrap(), b"old schema");
    }

    #[test]
    fn clean_temp_files_removes_only_this_runs_temps() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::open(tmp.path(), "run").expect("open");
        store.write_generation(1, b"keep").expect("write");
        let ours = [".run.g2.4242.0.tmp", ".run.g10.1.17.tmp"];
        let not_ours = [
            ".run.g5.g2.1.1.tmp",
            ".other.g2.1.1.tmp",
            ".run.g2.1.tmp",
            "run.g2.1.1.tmp",
        ];
        for name in ours.iter().chain(&not_ours) {
            fs::write(tmp.path().join(name), b"partial").expect("write");
        }
        let mut removed = store.clean_temp_files();
        removed.sort();
        let mut expected: Vec<_> = ours.iter().map(|n| tmp.path().join(n)).collect();
        expected.sort();
        assert_eq!(removed, expected);
        for name in not_ours {
            assert!(tmp.path().join(name).exists(), "{name} was deleted");
        }
        assert_eq!(numbers(&store), [1]);
    }
}

//! The file-system calls the save protocol makes, behind a trait: the real
//! ones (`std::fs`) in production, a simulated disk that loses power or
//! fails on demand in tests (`store/sim.rs`).

use std::ffi::{CString, OsString};
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::ops::Deref;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What [`crate::storage::store::DirStore`] needs from a file system. Saves are rare
/// (seconds apart at the least), so a virtual call per step costs nothing
/// next to the fsyncs themselves.
pub(crate) trait FileSystem: fmt::Debug + Send + Sync {
    /// Creates `dir` and missing parents with mode 0700.
    fn create_dir_all(&self, dir: &Path) -> io::Result<()>;
    /// Creates `path`, which must not exist (not even as a symlink), with
    /// mode 0600, open for writing.
    fn create_new(&self, path: &Path) -> io::Result<Box<dyn NewFile>>;
    /// Renames `from` to `to`, replacing whatever `to` names (a symlink
    /// included, which is not followed).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes the creations, renames and deletions in `dir` durable.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// Deletes a file.
    fn remove_file(&self, path: &Path) -> io::Result<()>;
    /// The entries of `dir`.
    fn list(&self, dir: &Path) -> io::Result<Vec<Entry>>;
    /// A whole file, read or (if large) mapped.
    fn read(&self, path: &Path) -> io::Result<FileBytes>;
    /// The first `len` bytes of a file (all of it, if shorter).
    fn read_prefix(&self, path: &Path, len: usize) -> io::Result<Vec<u8>>;
    /// What is at `path` if it exists and is not a directory (after
    /// symlinks): "a file", "a symlink to nothing", "not a directory".
    fn not_a_directory(&self, path: &Path) -> io::Result<Option<&'static str>>;
    /// Whether anything (a dangling symlink included) is at `path`.
    fn exists(&self, path: &Path) -> io::Result<bool>;
    /// The length of the file at `path` (a symlink is not followed).
    fn len(&self, path: &Path) -> io::Result<u64>;
    /// `dir` held open for a store's saves, if this file system can ([`SaveDir`]);
    /// `None` to have them made by path ([`PathDir`]).
    fn open_dir(&self, _dir: &Path) -> Option<Box<dyn SaveDir>> {
        None
    }
}

/// The directory a store saves into, and the four calls a save makes in
/// it, by file name. On the real file system the directory is held open
/// and the calls are made relative to it (`openat`, `renameat`, `fsync`,
/// `unlinkat`): no path is walked again and no directory opened per save,
/// which was a fifth of a tiny save's time (`cargo bench -p
/// checkpoint-bench`, row a).
pub(crate) trait SaveDir: fmt::Debug + Send + Sync {
    /// Creates the file `name`, which must not exist (not even as a
    /// symlink), with mode 0600, open for writing.
    fn create_new(&self, name: &str) -> io::Result<Box<dyn NewFile>>;
    /// Renames `from` to `to`, replacing whatever `to` names (a symlink
    /// included, which is not followed).
    fn rename(&self, from: &str, to: &str) -> io::Result<()>;
    /// Makes the creations, renames and deletions in the directory durable.
    fn sync(&self) -> io::Result<()>;
    /// Deletes the file `name`.
    fn remove(&self, name: &str) -> io::Result<()>;
    /// Whether this is still the directory at `path` (not renamed away,
    /// nor removed and made anew).
    fn is_at(&self, path: &Path) -> bool;
}

/// A [`SaveDir`] whose calls go through a [`FileSystem`] by path: the
/// simulated disk's, and the real one's where a directory cannot be held
/// open.
#[derive(Debug)]
pub(crate) struct PathDir {
    pub fs: Arc<dyn FileSystem>,
    pub dir: PathBuf,
}

impl SaveDir for PathDir {
    fn create_new(&self, name: &str) -> io::Result<Box<dyn NewFile>> {
        self.fs.create_new(&self.dir.join(name))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        self.fs.rename(&self.dir.join(from), &self.dir.join(to))
    }

    fn sync(&self) -> io::Result<()> {
        self.fs.sync_dir(&self.dir)
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        self.fs.remove_file(&self.dir.join(name))
    }

    fn is_at(&self, path: &Path) -> bool {
        self.dir == path
    }
}

/// A directory of the real file system, held open: the calls of a save
/// are made relative to it.
///
/// A directory removed while open refuses new files (`ENOENT`), so a save
/// into a deleted checkpoint directory fails as it did by path; the store
/// then opens the path again ([`crate::storage::store::DirStore`]), in
/// case the directory was made anew.
#[derive(Debug)]
struct OpenDir(File);

impl OpenDir {
    fn open(dir: &Path) -> io::Result<OpenDir> {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_DIRECTORY)
            .open(dir)
            .map(OpenDir)
    }
}

/// `name` as a C string; a name with a NUL byte cannot exist.
fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
}

/// The result of a libc call that returns -1 on failure.
fn check(result: libc::c_int) -> io::Result<libc::c_int> {
    if result == -1 {
        Err(io::Error::last_os_error())
    } else {
        Ok(result)
    }
}

impl SaveDir for OpenDir {
    fn create_new(&self, name: &str) -> io::Result<Box<dyn NewFile>> {
        let name = c_name(name)?;
        // O_EXCL with O_CREAT refuses any existing entry, a symlink
        // included, without following it.
        let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_EXCL | libc::O_CLOEXEC;
        // SAFETY: the directory descriptor is open for as long as `self`,
        // and `name` is a NUL-terminated string that outlives the call.
        let fd = check(unsafe { libc::openat(self.0.as_raw_fd(), name.as_ptr(), flags, 0o600) })?;
        // SAFETY: `openat` just returned this descriptor, owned by nothing else.
        Ok(Box::new(unsafe { File::from_raw_fd(fd) }))
    }

    fn rename(&self, from: &str, to: &str) -> io::Result<()> {
        let (from, to) = (c_name(from)?, c_name(to)?);
        let dir = self.0.as_raw_fd();
        // SAFETY: as in `create_new`.
        check(unsafe { libc::renameat(dir, from.as_ptr(), dir, to.as_ptr()) }).map(drop)
    }

    fn sync(&self) -> io::Result<()> {
        self.0.sync_all()
    }

    fn remove(&self, name: &str) -> io::Result<()> {
        let name = c_name(name)?;
        // SAFETY: as in `create_new`.
        check(unsafe { libc::unlinkat(self.0.as_raw_fd(), name.as_ptr(), 0) }).map(drop)
    }

    fn is_at(&self, path: &Path) -> bool {
        match (self.0.metadata(), fs::metadata(path)) {
            (Ok(held), Ok(there)) => held.dev() == there.dev() && held.ino() == there.ino(),
            _ => false,
        }
    }
}

/// A file just created by [`FileSystem::create_new`].
pub(crate) trait NewFile {
    /// Writes all of `bytes`.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Makes the file's contents durable (fsync).
    fn sync(&mut self) -> io::Result<()>;
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub name: OsString,
    /// A regular file: not a symlink, directory or anything else.
    pub is_file: bool,
}

/// A whole file's bytes: read into memory, or mapped when it is large.
pub enum FileBytes {
    /// Read with `read(2)`.
    Read(Vec<u8>),
    /// Mapped with `mmap(2)`, read-only.
    Mapped(memmap2::Mmap),
}

/// Mappings at least this large are unmapped on a thread of their own.
const UNMAP_ELSEWHERE_FROM: usize = 16 << 20;

impl FileBytes {
    /// Lets go of the bytes once decoded. A large mapping is unmapped on a
    /// thread of its own: tearing down the page tables of 256 MiB took
    /// ~18 ms here, a tenth of a restore, which the computation need not
    /// wait for. A smaller one, or one no thread can be started for, is
    /// unmapped here.
    pub fn release(self) {
        if let FileBytes::Mapped(map) = self
            && map.len() >= UNMAP_ELSEWHERE_FROM
        {
            // Failing to start, the closure is dropped, and the map with it.
            let _ = std::thread::Builder::new()
                .name("checkpoint-unmap".into())
                .spawn(move || drop(map));
        }
    }
}

impl Deref for FileBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            FileBytes::Read(bytes) => bytes,
            FileBytes::Mapped(map) => map,
        }
    }
}

/// Files at least this large are mapped rather than read. Reading copies
/// the page cache into fresh memory, and faulting that memory in costs as
/// much as the copy: 140 ms for 256 MiB here, against 0.3 ms to map it, so
/// a restore costs about what decoding costs (`cargo bench -p
/// checkpoint-bench`, row d). Below this, `read` is as fast and simpler.
const MAP_FROM: u64 = 1 << 20;

/// Reads the whole file at `path`, mapping it if it is large. For a run's
/// own generation files only, read while it holds the run's lock.
///
/// A mapping shows the file as it is now, not as it was when mapped: were
/// the file truncated while mapped, touching the missing part would kill
/// the process with `SIGBUS`, and were it rewritten in place, the bytes
/// could change after the checksum was verified. Neither happens to a
/// run's generation files while it holds the lock: every writer of this
/// library creates a new temp file and renames it over the old name, and
/// deleting or renaming a file leaves an existing mapping intact on local
/// file systems. The README's "Limits" names what is left: another program
/// that rewrites the files in place, and network file systems where
/// another client's deletion can invalidate the mapping.
fn read_file(path: &Path) -> io::Result<FileBytes> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    if len >= MAP_FROM {
        // SAFETY: read-only, and the file is not truncated or modified in
        // place while mapped, by the argument above.
        if let Ok(map) = unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
            return Ok(FileBytes::Mapped(map));
        }
        // A file system that cannot map files (some FUSE mounts) is read.
    }
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(usize::try_from(len).unwrap_or(usize::MAX))
        .map_err(io::Error::other)?;
    file.read_to_end(&mut bytes)?;
    Ok(FileBytes::Read(bytes))
}

/// The real file system.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct StdFs;

impl FileSystem for StdFs {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn NewFile>> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)?;
        Ok(Box::new(file))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fs::rename(from, to)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        File::open(dir)?.sync_all()
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        fs::remove_file(path)
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<Entry>> {
        fs::read_dir(dir)?
            .map(|entry| {
                let entry = entry?;
                Ok(Entry {
                    name: entry.file_name(),
                    is_file: entry.file_type().is_ok_and(|kind| kind.is_file()),
                })
            })
            .collect()
    }

    fn read(&self, path: &Path) -> io::Result<FileBytes> {
        read_file(path)
    }

    fn not_a_directory(&self, path: &Path) -> io::Result<Option<&'static str>> {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => Ok(None),
            Ok(meta) if meta.is_file() => Ok(Some("a file")),
            Ok(_) => Ok(Some("not a directory")),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Some("a symlink to nothing")),
            Err(err) => Err(err),
        }
    }

    fn read_prefix(&self, path: &Path, len: usize) -> io::Result<Vec<u8>> {
        let mut prefix = Vec::new();
        File::open(path)?
            .take(len as u64)
            .read_to_end(&mut prefix)?;
        Ok(prefix)
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        Ok(fs::symlink_metadata(path)?.len())
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        match fs::symlink_metadata(path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn open_dir(&self, dir: &Path) -> Option<Box<dyn SaveDir>> {
        // A directory that cannot be opened for reading (mode -wx) is
        // still written by path.
        OpenDir::open(dir)
            .ok()
            .map(|dir| Box::new(dir) as Box<dyn SaveDir>)
    }
}

impl NewFile for File {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        Write::write_all(self, bytes)
    }

    fn sync(&mut self) -> io::Result<()> {
        self.sync_all()
    }
}

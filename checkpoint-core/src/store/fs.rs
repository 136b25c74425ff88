//! The file-system calls the save protocol makes, behind a trait: the real
//! ones (`std::fs`) in production, a simulated disk that loses power or
//! fails on demand in tests (`store/sim.rs`).

use std::ffi::OsString;
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// What [`crate::store::DirStore`] needs from a file system. Saves are rare
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
    /// A whole file.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// Whether anything (a dangling symlink included) is at `path`.
    fn exists(&self, path: &Path) -> io::Result<bool>;
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

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        fs::read(path)
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        match fs::symlink_metadata(path) {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
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

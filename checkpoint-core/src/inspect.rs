//! Reading a checkpoint directory without the program that wrote it: which
//! runs it holds, what each file's header says, and removing a run that no
//! process holds. The `checkpoint` command-line tool is built on this.
//!
//! ```
//! use checkpoint_core::Checkpoint;
//! use checkpoint_core::inspect;
//! # let dir = std::env::temp_dir().join(format!("ckpt-doc-inspect-{}", std::process::id()));
//!
//! let mut run = Checkpoint::builder("sweep").dir(&dir).keep(3).open()?;
//! for step in 0..3u64 {
//!     run.save(&step)?;
//!     run.flush()?; // on disk before the next
//! }
//! drop(run); // interrupted: the checkpoints stay
//!
//! let runs = inspect::scan_dir(&dir)?;
//! assert_eq!(runs.len(), 1);
//! let sweep = &runs[0];
//! assert!(sweep.stem.starts_with("sweep-"));
//! let numbers: Vec<u64> = sweep.generations.iter().map(|g| g.number).collect();
//! assert_eq!(numbers, [3, 2, 1]); // newest first
//!
//! let newest = inspect::read_header(&sweep.generations[0].path)?;
//! assert_eq!(newest.header.identity.name, "sweep");
//! assert_eq!(newest.header.save_count, 3);
//! assert_eq!(newest.run, sweep.stem);
//!
//! let removed = inspect::remove_run(&dir, &sweep.stem)?;
//! assert_eq!(removed.len(), 3);
//! assert!(inspect::scan_dir(&dir)?.is_empty());
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok::<(), checkpoint_core::Error>(())
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::bytes::format::{self, Limits};
use crate::bytes::identity;
use crate::error::{Error, Result};
use crate::storage::commit;
use crate::storage::lock::{LOCK_SUFFIX, RunLock};
use crate::storage::store::{self, DirStore, Kind as StoreKind};

pub use crate::bytes::format::{Codec, Header, Identity, LoopPosition};
pub use crate::storage::store::Generation;

/// A verified checkpoint file: its header and sizes (the state itself is
/// not decoded).
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use checkpoint_core::{Checkpoint, inspect};
/// let mut run = Checkpoint::builder("info").dir(&dir).open()?;
/// run.save(&vec![7_u32; 100])?;
/// let file = run.flush()?.expect("saved");
/// let info = inspect::read_header(&file)?;
/// assert_eq!(info.header.save_count, 1);
/// assert!(file.file_name().unwrap().to_string_lossy().starts_with(&info.run));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The file.
    pub path: PathBuf,
    /// Everything the file says about its run and its save.
    pub header: Header,
    /// The file's length in bytes.
    pub file_len: u64,
    /// The length of the stored (possibly compressed) state in bytes.
    pub payload_len: u64,
    /// The run stem the header's identity belongs to: the file is one of
    /// that run's generations only if its name starts with this stem.
    pub run: String,
}

/// Reads a checkpoint file whole and verifies it with the same checks a
/// resume makes before decoding (magic, format version, flags, lengths,
/// CRC-32, header), without decoding the state, whose type only the
/// program that wrote it knows.
///
/// Fails with [`Error::Io`] if the file cannot be read and with
/// [`Error::Corrupt`], carrying the reason, if it is damaged or not a
/// checkpoint. See the [module documentation](self) for an example.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use checkpoint_core::{Error, inspect};
/// let file = dir.path().join("torn.g00000001.ckpt");
/// std::fs::write(&file, b"\x89CKPT")?;
/// assert!(matches!(inspect::read_header(&file), Err(Error::Corrupt { .. })));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn read_header(path: &Path) -> Result<FileInfo> {
    // Read, not mapped: the CLI holds no run's lock, so a run may be
    // replacing files beside it (see `store/fs.rs` on mapping). And read in
    // pieces: the start is checked before anything else is read, and the
    // checksum is computed as the file streams by, so a file costs memory
    // for its header only, whatever its size.
    let io = |e| Error::io("read", path, e);
    let corrupt = |reason| Error::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let mut file = fs::File::open(path).map_err(io)?;
    let file_len = file.metadata().map_err(io)?.len();
    let mut prefix = Vec::new();
    (&mut file)
        .take(format::PREFIX_LEN as u64)
        .read_to_end(&mut prefix)
        .map_err(io)?;
    format::check_prefix(&prefix, file_len).map_err(corrupt)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    let mut crc = crc32fast::Hasher::new();
    let mut covered = (&mut file).take(file_len - 4);
    let mut buffer = vec![0_u8; 1 << 20];
    loop {
        let read = covered.read(&mut buffer).map_err(io)?;
        if read == 0 {
            break;
        }
        crc.update(&buffer[..read]);
    }
    let mut stored = [0_u8; 4];
    file.read_exact(&mut stored).map_err(io)?;
    format::check_crc(u32::from_le_bytes(stored), crc.finalize()).map_err(corrupt)?;
    let header = format::header_from_prefix(&prefix, &Limits::default()).map_err(corrupt)?;
    let header_len = format::declared_header_len(&prefix).map_err(corrupt)? as u64;
    Ok(FileInfo {
        path: path.to_path_buf(),
        run: identity::file_stem(&header.identity),
        file_len,
        payload_len: file_len - format::FIXED_LEN - header_len,
        header,
    })
}

/// A time in milliseconds since the Unix epoch (as checkpoint headers and
/// lock files record it) as `2026-04-01 12:34:56 UTC`.
///
/// ```
/// assert_eq!(checkpoint_core::inspect::utc_date(951_782_400_000), "2000-02-29 00:00:00 UTC");
/// ```
pub fn utc_date(unix_ms: u64) -> String {
    crate::report::date(unix_ms)
}

/// A lock file's holder line (`pid=.. host=.. started_unix_ms=..`) for
/// people: `pid 4242 on host gpu07, started 2026-12-03 14:58:11 UTC (3 min
/// ago)`; `None` (not written yet, or naming a dead process) says so.
///
/// ```
/// use checkpoint_core::inspect::describe_holder;
/// let shown = describe_holder(Some("pid=4242 host=gpu07 started_unix_ms=0"));
/// assert!(shown.starts_with("pid 4242 on host gpu07, started 1970-01-01 00:00:00 UTC"));
/// assert!(describe_holder(None).contains("not known"));
/// ```
pub fn describe_holder(line: Option<&str>) -> String {
    crate::error::Holder(line).to_string()
}

/// The files of one run in a checkpoint directory, found by their names.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use checkpoint_core::{Checkpoint, inspect};
/// let mut run = Checkpoint::builder("files").dir(&dir).open()?;
/// run.save(&1_u8)?;
/// run.flush()?;
/// let runs = inspect::scan_dir(dir.path())?;
/// assert_eq!(runs[0].generations.len(), 1);
/// assert!(runs[0].lock_file.is_some()); // the run is open
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFiles {
    /// The run's file stem, `{name}-{hash}`: what names its files.
    pub stem: String,
    /// Its generation files (`{stem}.g{N:08}.ckpt`), newest first.
    pub generations: Vec<Generation>,
    /// Its files that a resume moved aside because they were damaged or
    /// stale (`{stem}.g{N:08}.ckpt.stale`, `.stale.1`, ...), by name.
    pub moved_aside: Vec<PathBuf>,
    /// Its lock file (`{stem}.lock`), if present. Its presence alone does not
    /// mean a process runs: an interrupted run leaves it behind.
    pub lock_file: Option<PathBuf>,
    /// A multi-rank run (`comm`): its commit records
    /// (`{stem}.g{N:08}.commit`), newest first. Read them with
    /// [`read_commit`].
    pub commits: Vec<Generation>,
    /// A multi-rank run: each rank's files (`{stem}.r{RANK:05}.*`), by rank.
    pub ranks: Vec<RankFiles>,
}

/// One rank's files in a multi-rank run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RankFiles {
    /// The rank.
    pub rank: usize,
    /// Its generation files, newest first; only those a commit names are
    /// ever restored.
    pub generations: Vec<Generation>,
    /// Its files that a resume moved aside.
    pub moved_aside: Vec<PathBuf>,
    /// Its lock file, if present.
    pub lock_file: Option<PathBuf>,
}

impl RunFiles {
    /// Whether this is a multi-rank run.
    pub fn is_multi_rank(&self) -> bool {
        !self.commits.is_empty() || !self.ranks.is_empty()
    }

    fn rank(&mut self, rank: usize) -> &mut RankFiles {
        let at = match self.ranks.binary_search_by_key(&rank, |files| files.rank) {
            Ok(at) => at,
            Err(at) => {
                self.ranks.insert(
                    at,
                    RankFiles {
                        rank,
                        ..RankFiles::default()
                    },
                );
                at
            }
        };
        &mut self.ranks[at]
    }
}

/// The commit record of one generation of a multi-rank run: every rank's
/// file, its size and checksum.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use checkpoint_core::inspect;
/// let record = dir.path().join("heat-0123456789abcdef.g00000001.commit");
/// std::fs::write(&record, "not a commit record")?;
/// assert!(inspect::read_commit(&record).is_err());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The record.
    pub path: PathBuf,
    /// The generation it commits.
    pub generation: u64,
    /// Each rank's file, by rank.
    pub ranks: Vec<CommittedFile>,
}

/// One rank's file as its commit record names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommittedFile {
    /// The file's name, in the run's directory.
    pub name: String,
    /// Its size in bytes.
    pub len: u64,
    /// CRC-32 of the whole file.
    pub crc32: u32,
}

/// Reads a commit record and checks its own checksum. Fails with
/// [`Error::Io`] if it cannot be read, or is damaged or not a record (the
/// error says which).
pub fn read_commit(path: &Path) -> Result<Commit> {
    let invalid = |reason: String| {
        Error::io(
            "read",
            path,
            io::Error::new(io::ErrorKind::InvalidData, reason),
        )
    };
    let len = fs::metadata(path)
        .map_err(|e| Error::io("read", path, e))?
        .len();
    if len > commit::MAX_RECORD_LEN as u64 {
        return Err(invalid(format!(
            "it is {len} bytes long, larger than any commit record"
        )));
    }
    let bytes = fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let record = commit::Record::decode(&bytes)
        .map_err(|reason| invalid(format!("not a usable commit record: {reason}")))?;
    Ok(Commit {
        path: path.to_path_buf(),
        generation: record.number,
        ranks: record
            .ranks
            .into_iter()
            .map(|file| CommittedFile {
                name: file.name,
                len: file.len,
                crc32: file.crc,
            })
            .collect(),
    })
}

/// Checks every rank's file of `commit` as a resume would: the file its
/// record names is there, has the recorded size and CRC-32, and passes
/// [`read_header`]. One result per rank, in rank order.
pub fn check_commit(commit: &Commit) -> Vec<Result<FileInfo>> {
    let dir = commit.path.parent().unwrap_or(Path::new("."));
    commit
        .ranks
        .iter()
        .map(|file| {
            let path = dir.join(&file.name);
            let invalid = |reason: String| {
                Error::io(
                    "check",
                    &path,
                    io::Error::new(io::ErrorKind::InvalidData, reason),
                )
            };
            if file.name.contains('/') || file.name.starts_with('.') {
                return Err(invalid(
                    "its commit names a file outside the directory".to_owned(),
                ));
            }
            let bytes = fs::read(&path).map_err(|e| Error::io("read", &path, e))?;
            let expected = commit::RankFile {
                name: file.name.clone(),
                len: file.len,
                crc: file.crc32,
            };
            commit::check_rank_file(&bytes, &expected).map_err(invalid)?;
            read_header(&path)
        })
        .collect()
}

/// Lists the runs in `dir`, sorted by stem: every generation file,
/// moved-aside file and lock file, grouped by run. Other files, temporary
/// files of saves in progress, and anything that is not a regular file
/// (a symlink with a checkpoint's name was not written by this library)
/// are left out. Nothing is read but the directory.
///
/// Fails with [`Error::Io`] if `dir` cannot be listed. See the
/// [module documentation](self) for an example.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// let runs = checkpoint_core::inspect::scan_dir(dir.path())?;
/// assert!(runs.is_empty());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn scan_dir(dir: &Path) -> Result<Vec<RunFiles>> {
    let mut runs = BTreeMap::<String, RunFiles>::new();
    let entries = fs::read_dir(dir).map_err(|e| Error::io("list", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", dir, e))?;
        if !entry.file_type().is_ok_and(|kind| kind.is_file()) {
            continue;
        }
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let path = entry.path();
        let commit_name = |name| store::split_numbered_name(name, commit::EXTENSION);
        let (stem, kind) = if let Some((stem, number)) = store::split_generation_name(name) {
            (stem, Kind::Generation(number))
        } else if let Some((stem, number)) = commit_name(name) {
            (stem, Kind::Commit(number))
        } else if let Some((stem, _)) = store::moved_aside_original(name).and_then(|original| {
            store::split_generation_name(original).or_else(|| commit_name(original))
        }) {
            (stem, Kind::MovedAside)
        } else if let Some(stem) = name
            .strip_suffix(LOCK_SUFFIX)
            .filter(|stem| store::check_stem(stem).is_ok())
        {
            (stem, Kind::Lock)
        } else {
            continue;
        };
        // A rank's files belong to the run of its job.
        let (stem, rank) = match commit::split_rank_stem(stem) {
            Some((run, rank)) => (run, Some(rank)),
            None => (stem, None),
        };
        let run = runs.entry(stem.to_owned()).or_insert_with(|| RunFiles {
            stem: stem.to_owned(),
            ..RunFiles::default()
        });
        match (kind, rank) {
            (Kind::Generation(number), None) => run.generations.push(Generation { number, path }),
            (Kind::Generation(number), Some(rank)) => {
                run.rank(rank).generations.push(Generation { number, path });
            }
            (Kind::Commit(number), _) => run.commits.push(Generation { number, path }),
            (Kind::MovedAside, None) => run.moved_aside.push(path),
            (Kind::MovedAside, Some(rank)) => run.rank(rank).moved_aside.push(path),
            (Kind::Lock, None) => run.lock_file = Some(path),
            (Kind::Lock, Some(rank)) => run.rank(rank).lock_file = Some(path),
        }
    }
    let mut runs: Vec<RunFiles> = runs.into_values().collect();
    for run in &mut runs {
        run.generations.sort_by_key(|g| std::cmp::Reverse(g.number));
        run.commits.sort_by_key(|g| std::cmp::Reverse(g.number));
        run.moved_aside.sort();
        for rank in &mut run.ranks {
            rank.generations
                .sort_by_key(|g| std::cmp::Reverse(g.number));
            rank.moved_aside.sort();
        }
    }
    Ok(runs)
}

/// What a file in a checkpoint directory is to its run.
enum Kind {
    Generation(u64),
    Commit(u64),
    MovedAside,
    Lock,
}

/// Deletes every file of run `stem` in `dir`: its generations, its
/// moved-aside files, temporary files its interrupted saves left, and its
/// lock file. Returns the files deleted, the lock file not included.
///
/// The run's lock is taken first, so a run that is still going is never
/// touched: that fails with [`Error::Locked`], naming the holder.
///
/// ```
/// use checkpoint_core::{Checkpoint, Error, inspect};
/// # let dir = std::env::temp_dir().join(format!("ckpt-doc-remove-{}", std::process::id()));
///
/// let mut live = Checkpoint::builder("live").dir(&dir).open()?;
/// live.save(&1u32)?;
/// live.flush()?; // with background writes, wait until it is on disk
/// let stem = inspect::scan_dir(&dir)?[0].stem.clone();
/// assert!(matches!(inspect::remove_run(&dir, &stem), Err(Error::Locked { .. })));
/// drop(live);
/// assert_eq!(inspect::remove_run(&dir, &stem)?.len(), 1);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), checkpoint_core::Error>(())
/// ```
pub fn remove_run(dir: &Path, stem: &str) -> Result<Vec<PathBuf>> {
    remove_run_if(dir, stem, |_| true).map(Option::unwrap_or_default)
}

/// Like [`remove_run`], but first asks `condition` (with the run's lock
/// held, so its files cannot change any more) whether to go ahead; returns
/// `None` when it says no. A cleanup that chose the run from an earlier
/// look at the directory uses it to check that the run did not save again
/// in between.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use checkpoint_core::{Checkpoint, inspect};
/// let mut run = Checkpoint::builder("old").dir(&dir).open()?;
/// run.save(&1_u8)?;
/// drop(run);
/// let stem = inspect::scan_dir(dir.path())?[0].stem.clone();
/// // Keep it after all: the condition says no.
/// assert_eq!(inspect::remove_run_if(dir.path(), &stem, |_| false)?, None);
/// assert!(inspect::remove_run_if(dir.path(), &stem, |files| files.generations.len() == 1)?.is_some());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn remove_run_if(
    dir: &Path,
    stem: &str,
    condition: impl FnOnce(&RunFiles) -> bool,
) -> Result<Option<Vec<PathBuf>>> {
    // Listing first also keeps the lock from creating a missing directory.
    scan_dir(dir)?;
    let lock = RunLock::acquire(dir, stem)?;
    let files = scan_dir(dir)?
        .into_iter()
        .find(|run| run.stem == stem)
        .unwrap_or_else(|| RunFiles {
            stem: stem.to_owned(),
            ..RunFiles::default()
        });
    if !condition(&files) {
        return Ok(None);
    }
    let multi_rank = files.is_multi_rank();
    let store = DirStore::open(dir, stem)?;
    let mut removed: Vec<PathBuf> = files.generations.into_iter().map(|g| g.path).collect();
    store.remove_all()?;
    // A multi-rank run: its commits first (a rank file no commit names is
    // never restored), then each rank's files, temp files and lock.
    let mut leftovers = files.moved_aside;
    if multi_rank {
        let records = DirStore::open(dir, stem)?.of_kind(StoreKind::Commit);
        removed.extend(files.commits.into_iter().map(|g| g.path));
        records.remove_all()?;
        removed.extend(records.clean_temp_files());
        for rank in files.ranks {
            let rank_stem = commit::rank_stem(stem, rank.rank);
            let rank_store = DirStore::open(dir, &rank_stem)?;
            removed.extend(rank.generations.into_iter().map(|g| g.path));
            rank_store.remove_all()?;
            removed.extend(rank_store.clean_temp_files());
            leftovers.extend(rank.moved_aside);
            // Like the run's own lock file, not counted as removed.
            if let Some(lock) = rank.lock_file {
                match fs::remove_file(&lock) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(Error::io("delete", &lock, e)),
                }
            }
        }
    }
    for path in leftovers {
        match fs::remove_file(&path) {
            Ok(()) => removed.push(path),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("delete", &path, e)),
        }
    }
    removed.extend(store.clean_temp_files());
    lock.remove();
    Ok(Some(removed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bytes::format::tests::{sample_file, sample_header};
    use crate::error::CorruptReason;

    #[test]
    fn a_multi_rank_run_is_one_run_with_its_ranks_and_commits() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        for name in [
            "h-1.g00000001.commit",
            "h-1.g00000002.commit",
            "h-1.g00000000.commit.stale",
            "h-1.lock",
            "h-1.r00000.g00000002.ckpt",
            "h-1.r00000.g00000003.ckpt",
            "h-1.r00000.lock",
            "h-1.r00001.g00000002.ckpt",
            "h-1.r00001.g00000001.ckpt.stale",
            "h-1.r00001.lock",
            // Not a rank: the digits are not five.
            "h-1.r1.g00000001.ckpt",
        ] {
            fs::write(dir.join(name), b"").expect("write");
        }
        let runs = scan_dir(dir).expect("scan");
        let stems: Vec<&str> = runs.iter().map(|run| run.stem.as_str()).collect();
        assert_eq!(stems, ["h-1", "h-1.r1"]);
        let run = &runs[0];
        assert!(run.is_multi_rank());
        assert!(run.generations.is_empty());
        let commits: Vec<u64> = run.commits.iter().map(|g| g.number).collect();
        assert_eq!(commits, [2, 1]);
        assert_eq!(run.moved_aside, [dir.join("h-1.g00000000.commit.stale")]);
        assert_eq!(run.ranks.len(), 2);
        let rank0: Vec<u64> = run.ranks[0].generations.iter().map(|g| g.number).collect();
        assert_eq!(rank0, [3, 2]);
        assert_eq!(run.ranks[1].rank, 1);
        assert_eq!(run.ranks[1].moved_aside.len(), 1);
        assert!(run.ranks[1].lock_file.is_some());

        let removed = remove_run(dir, "h-1").expect("remove");
        assert_eq!(removed.len(), 7, "{removed:?}");
        let left: Vec<String> = fs::read_dir(dir)
            .expect("list")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
        assert_eq!(left, ["h-1.r1.g00000001.ckpt"]);
    }

    #[test]
    fn scan_groups_files_by_run_and_skips_the_rest() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        for name in [
            "a-1.g00000002.ckpt",
            "a-1.g00000010.ckpt",
            "a-1.g00000001.ckpt.stale",
            "a-1.g00000001.ckpt.stale.3",
            "a-1.lock",
            "b.g2.g00000001.ckpt",
            "c.lock",
            // Not ours, or not canonical:
            "a-1.g2.ckpt",
            ".a-1.g3.42.0.tmp",
            "notes.txt",
            "x.ckpt.stale",
            ".lock",
        ] {
            fs::write(dir.join(name), b"").expect("write");
        }
        fs::create_dir(dir.join("d.g00000001.ckpt")).expect("mkdir");
        std::os::unix::fs::symlink(dir.join("a-1.g00000010.ckpt"), dir.join("e.g00000001.ckpt"))
            .expect("symlink");

        let runs = scan_dir(dir).expect("scan");
        let stems: Vec<&str> = runs.iter().map(|r| r.stem.as_str()).collect();
        assert_eq!(stems, ["a-1", "b.g2", "c"]);
        let a = &runs[0];
        let numbers: Vec<u64> = a.generations.iter().map(|g| g.number).collect();
        assert_eq!(numbers, [10, 2]);
        assert_eq!(a.generations[0].path, dir.join("a-1.g00000010.ckpt"));
        assert_eq!(
            a.moved_aside,
            [
                dir.join("a-1.g00000001.ckpt.stale"),
                dir.join("a-1.g00000001.ckpt.stale.3")
            ]
        );
        assert_eq!(a.lock_file, Some(dir.join("a-1.lock")));
        assert_eq!(runs[1].generations[0].number, 1);
        assert!(runs[2].generations.is_empty());
        assert_eq!(runs[2].lock_file, Some(dir.join("c.lock")));
    }

    #[test]
    fn read_header_verifies_and_names_the_run() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let path = tmp.path().join("x.g00000001.ckpt");
        let mut bytes = sample_file(&(1u8, 2u8), None);
        fs::write(&path, &bytes).expect("write");
        let info = read_header(&path).expect("read");
        assert_eq!(info.header.identity, sample_header().identity);
        assert_eq!(info.file_len, bytes.len() as u64);
        assert_eq!(info.run, identity::file_stem(&sample_header().identity));

        let last = bytes.len() - 5;
        bytes[last] ^= 1;
        fs::write(&path, &bytes).expect("write");
        match read_header(&path) {
            Err(Error::Corrupt { path: bad, reason }) => {
                assert_eq!(bad, path);
                assert!(
                    matches!(reason, CorruptReason::ChecksumMismatch { .. }),
                    "{reason}"
                );
            }
            other => panic!("expected a checksum error, got {other:?}"),
        }
        let missing = read_header(&tmp.path().join("gone")).expect_err("missing");
        assert!(matches!(missing, Error::Io { .. }), "{missing}");
    }

    #[test]
    fn remove_run_if_leaves_the_run_when_the_condition_says_no() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let store = DirStore::open(tmp.path(), "run").expect("open");
        store.write_generation(1, b"x").expect("write");
        let kept =
            remove_run_if(tmp.path(), "run", |files| files.generations.len() > 1).expect("remove");
        assert_eq!(kept, None);
        assert_eq!(store.list_generations().expect("list").len(), 1);

        fs::write(tmp.path().join("run.g00000001.ckpt.stale"), b"old").expect("write");
        // A temp file an interrupted save (or deletion) left is removed and
        // reported too.
        let temp = tmp.path().join(".run.g2.4242.0.tmp");
        fs::write(&temp, b"partial").expect("write");
        let removed = remove_run(tmp.path(), "run").expect("remove");
        assert_eq!(removed.len(), 3, "{removed:?}");
        assert!(removed.contains(&temp), "{removed:?}");
        assert!(fs::read_dir(tmp.path()).expect("list").next().is_none());
    }

    #[test]
    fn remove_run_in_a_missing_directory_is_an_error_and_creates_nothing() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("missing");
        let err = remove_run(&dir, "run").expect_err("missing dir");
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert!(!dir.exists());
    }
}

//! A simulated disk for tests: a [`FileSystem`] that counts every step that
//! changes the disk, can fail any one of them, and can lose power before
//! any one of them.
//!
//! It keeps two views of each file and directory: what the process sees,
//! and what is durable. `fsync` of a file makes its contents durable;
//! `fsync` of a directory makes the creations, renames and deletions in it
//! durable. A power loss keeps the durable view plus any subset of the
//! directory operations not yet fsynced (a kernel may write any of them
//! back on its own, in any order), and the contents written since the last
//! fsync are lost or torn: [`Sim::after_power_loss`] lists every such disk.
//!
//! Like Linux after a failed fsync (the "fsyncgate" behaviour), a file whose
//! fsync failed has lost its dirty pages: a later fsync of it reports
//! success without making anything durable.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::fs::{Entry, FileBytes, FileSystem, NewFile};

/// A step that changes the disk, as counted by the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    CreateDir,
    Create,
    Write,
    SyncFile,
    Rename,
    SyncDir,
    Remove,
}

/// One step the simulator saw, for checks on the protocol's behaviour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Logged {
    pub step: Step,
    pub path: PathBuf,
    /// The file the step applied to, for file steps.
    pub inode: Option<usize>,
    pub failed: bool,
}

/// What happens to file contents written since their last fsync when the
/// power goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsynced {
    /// Lost: the file has its last fsynced contents (or none).
    Lost,
    /// Torn: half of it reached the disk.
    Torn,
}

#[derive(Debug, Clone, Default)]
struct Inode {
    data: Vec<u8>,
    durable: Vec<u8>,
    /// A failed fsync dropped the dirty pages: nothing more becomes durable.
    pages_lost: bool,
}

#[derive(Debug, Clone)]
enum DirOp {
    Link {
        name: OsString,
        inode: usize,
    },
    Unlink {
        name: OsString,
        inode: usize,
    },
    Rename {
        from: OsString,
        to: OsString,
        inode: usize,
    },
}

#[derive(Debug, Clone, Default)]
struct Dir {
    entries: BTreeMap<OsString, usize>,
    durable: BTreeMap<OsString, usize>,
    /// Operations on `entries` since the last fsync of the directory.
    pending: Vec<DirOp>,
}

#[derive(Debug, Clone, Default)]
struct Disk {
    inodes: Vec<Inode>,
    dirs: BTreeMap<PathBuf, Dir>,
}

#[derive(Debug, Default)]
struct State {
    disk: Disk,
    /// Steps taken so far.
    steps: usize,
    /// Fail this step (it has no effect).
    fail_at: Option<usize>,
    /// Every write fails with ENOSPC while this is set: a full disk.
    full: bool,
    /// Lose power before this step: it and everything after fail.
    crash_at: Option<usize>,
    /// The disk as it was when the power went.
    crashed: Option<Disk>,
    /// Test-only sabotage of the protocol: fsyncs succeed but do nothing,
    /// exactly as if the protocol did not call them.
    ignore_file_sync: bool,
    ignore_dir_sync: bool,
    /// Directory listings from this one on (counting from 0) fail.
    fail_lists_from: Option<usize>,
    lists: usize,
    /// Whole-file reads so far.
    full_reads: usize,
    log: Vec<Logged>,
    /// File fsyncs wait here while it is held: a disk that is slow now.
    held: Arc<Held>,
}

/// A gate for file fsyncs: closed, they wait until it opens.
#[derive(Debug, Default)]
struct Held {
    state: Mutex<(bool, usize)>,
    changed: std::sync::Condvar,
}

impl Held {
    fn lock(&self) -> MutexGuard<'_, (bool, usize)> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Waits while the gate is closed.
    fn pass(&self) {
        let mut state = self.lock();
        state.1 += 1;
        self.changed.notify_all();
        while state.0 {
            state = self
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
        state.1 -= 1;
    }
}

/// The simulated disk. Clones share it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sim(Arc<Mutex<State>>);

impl Sim {
    pub(crate) fn new() -> Sim {
        Sim::default()
    }

    /// Fails step `step` (counting from 0) with an I/O error.
    pub(crate) fn fail_at(&self, step: usize) -> &Sim {
        self.state().fail_at = Some(step);
        self
    }

    /// Makes every write fail with ENOSPC until [`Sim::free_space`]: a
    /// disk that filled up.
    pub(crate) fn fill(&self) -> &Sim {
        self.state().full = true;
        self
    }

    /// Ends [`Sim::fill`]: writes succeed again.
    pub(crate) fn free_space(&self) -> &Sim {
        self.state().full = false;
        self
    }

    /// Loses power just before step `step`.
    pub(crate) fn crash_at(&self, step: usize) -> &Sim {
        self.state().crash_at = Some(step);
        self
    }

    /// Makes file fsyncs do nothing, as if the protocol skipped them.
    pub(crate) fn ignore_file_sync(&self) -> &Sim {
        self.state().ignore_file_sync = true;
        self
    }

    /// Makes directory fsyncs do nothing, as if the protocol skipped them.
    pub(crate) fn ignore_dir_sync(&self) -> &Sim {
        self.state().ignore_dir_sync = true;
        self
    }

    /// Makes every file fsync wait until [`Sim::release_file_syncs`]: a
    /// disk that does not finish a write yet.
    pub(crate) fn hold_file_syncs(&self) -> &Sim {
        self.state().held.lock().0 = true;
        self
    }

    /// Lets the held fsyncs, and all later ones, go on.
    pub(crate) fn release_file_syncs(&self) {
        let held = Arc::clone(&self.state().held);
        held.lock().0 = false;
        held.changed.notify_all();
    }

    /// Waits until `count` fsyncs are held.
    pub(crate) fn wait_for_held_syncs(&self, count: usize) {
        let held = Arc::clone(&self.state().held);
        let mut state = held.lock();
        while state.1 < count {
            state = held
                .changed
                .wait(state)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
        }
    }

    /// Makes directory listings fail from now on.
    pub(crate) fn fail_lists(&self) -> &Sim {
        let mut state = self.state();
        state.fail_lists_from = Some(state.lists);
        drop(state);
        self
    }

    /// Whole files read so far.
    pub(crate) fn full_reads(&self) -> usize {
        self.state().full_reads
    }

    /// Steps taken so far.
    pub(crate) fn steps(&self) -> usize {
        self.state().steps
    }

    /// Whether the power went.
    pub(crate) fn crashed(&self) -> bool {
        self.state().crashed.is_some()
    }

    /// Every step seen so far.
    pub(crate) fn log(&self) -> Vec<Logged> {
        self.state().log.clone()
    }

    /// Every disk the power loss may have left (each a fresh simulator, as
    /// found after a reboot): each subset of the directory operations not
    /// yet fsynced (each prefix, when there are more than 10), applied in
    /// order on top of the durable entries, with the unsynced file contents
    /// lost, then torn.
    pub(crate) fn after_power_loss(&self) -> Vec<Sim> {
        let state = self.state();
        let disk = state.crashed.as_ref().unwrap_or(&state.disk);
        let pending: Vec<(&PathBuf, &DirOp)> = disk
            .dirs
            .iter()
            .flat_map(|(path, dir)| dir.pending.iter().map(move |op| (path, op)))
            .collect();
        // Every subset while that is cheap (a correct protocol leaves at
        // most a few operations unsynced); past that, every prefix: the
        // operations reach the disk in the order they were made.
        let subsets: Vec<u64> = if pending.len() <= 10 {
            (0..1 << pending.len()).collect()
        } else {
            (0..=pending.len()).map(|n| (1 << n) - 1).collect()
        };
        let mut outcomes = Vec::new();
        for subset in subsets {
            for unsynced in [Unsynced::Lost, Unsynced::Torn] {
                let mut after = disk.clone();
                for dir in after.dirs.values_mut() {
                    dir.entries = dir.durable.clone();
                    dir.pending.clear();
                }
                for (i, (path, op)) in pending.iter().enumerate() {
                    if subset & (1 << i) != 0 {
                        let dir = after.dirs.get_mut(*path).expect("the directory exists");
                        replay(&mut dir.entries, op);
                    }
                }
                for dir in after.dirs.values_mut() {
                    dir.durable = dir.entries.clone();
                }
                for inode in &mut after.inodes {
                    let survived = match unsynced {
                        _ if inode.data == inode.durable => inode.durable.clone(),
                        Unsynced::Lost => inode.durable.clone(),
                        Unsynced::Torn => inode.data[..inode.data.len() / 2].to_vec(),
                    };
                    *inode = Inode {
                        data: survived.clone(),
                        durable: survived,
                        pages_lost: false,
                    };
                }
                outcomes.push(Sim(Arc::new(Mutex::new(State {
                    disk: after,
                    ..State::default()
                }))));
            }
        }
        outcomes
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the state from the others.
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Counts a step that changes the disk; fails it if it is the step to
    /// fail, or if the power is gone.
    fn step(
        &self,
        step: Step,
        path: &Path,
        inode: Option<usize>,
    ) -> io::Result<MutexGuard<'_, State>> {
        let mut state = self.state();
        if state.crashed.is_none() && state.crash_at == Some(state.steps) {
            state.crashed = Some(state.disk.clone());
        }
        if state.crashed.is_some() {
            return Err(io::Error::other("simulated power loss"));
        }
        let failed = state.fail_at == Some(state.steps) || (state.full && step == Step::Write);
        state.steps += 1;
        state.log.push(Logged {
            step,
            path: path.to_path_buf(),
            inode,
            failed,
        });
        if failed {
            if step == Step::SyncFile
                && let Some(inode) = inode
            {
                state.disk.inodes[inode].pages_lost = true;
            }
            return Err(match step {
                Step::Write => io::Error::from_raw_os_error(28), // ENOSPC
                _ => io::Error::from_raw_os_error(5),            // EIO
            });
        }
        Ok(state)
    }

    /// Fails reads once the power is gone.
    fn alive(&self) -> io::Result<MutexGuard<'_, State>> {
        let state = self.state();
        if state.crashed.is_some() {
            return Err(io::Error::other("simulated power loss"));
        }
        Ok(state)
    }
}

fn replay(entries: &mut BTreeMap<OsString, usize>, op: &DirOp) {
    match op {
        DirOp::Link { name, inode } => {
            entries.insert(name.clone(), *inode);
        }
        DirOp::Unlink { name, inode } => {
            if entries.get(name) == Some(inode) {
                entries.remove(name);
            }
        }
        DirOp::Rename { from, to, inode } => {
            if entries.get(from) == Some(inode) {
                entries.remove(from);
            }
            entries.insert(to.clone(), *inode);
        }
    }
}

fn split(path: &Path) -> io::Result<(PathBuf, OsString)> {
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => Ok((dir.to_path_buf(), name.to_owned())),
        _ => Err(io::Error::from(io::ErrorKind::InvalidInput)),
    }
}

fn not_found() -> io::Error {
    io::Error::from(io::ErrorKind::NotFound)
}

impl Disk {
    fn dir(&mut self, dir: &Path) -> io::Result<&mut Dir> {
        self.dirs.get_mut(dir).ok_or_else(not_found)
    }

    fn lookup(&self, path: &Path) -> io::Result<usize> {
        let (dir, name) = split(path)?;
        let dir = self.dirs.get(&dir).ok_or_else(not_found)?;
        dir.entries.get(&name).copied().ok_or_else(not_found)
    }
}

impl FileSystem for Sim {
    fn create_dir_all(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.step(Step::CreateDir, dir, None)?;
        // Directories are taken as durable once made: the protocol never
        // creates one per save.
        for ancestor in dir.ancestors() {
            state.disk.dirs.entry(ancestor.to_path_buf()).or_default();
        }
        Ok(())
    }

    fn create_new(&self, path: &Path) -> io::Result<Box<dyn NewFile>> {
        let inode = self.state().disk.inodes.len();
        let mut state = self.step(Step::Create, path, Some(inode))?;
        let (dir, name) = split(path)?;
        let disk = &mut state.disk;
        if disk.dir(&dir)?.entries.contains_key(&name) {
            return Err(io::Error::from(io::ErrorKind::AlreadyExists));
        }
        disk.inodes.push(Inode::default());
        let dir = disk.dir(&dir)?;
        dir.entries.insert(name.clone(), inode);
        dir.pending.push(DirOp::Link { name, inode });
        Ok(Box::new(SimFile {
            sim: self.clone(),
            inode,
            path: path.to_path_buf(),
        }))
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let inode = self.state().disk.lookup(from).ok();
        let mut state = self.step(Step::Rename, to, inode)?;
        let inode = inode.ok_or_else(not_found)?;
        let ((from_dir, from), (to_dir, to)) = (split(from)?, split(to)?);
        if from_dir != to_dir {
            return Err(io::Error::from_raw_os_error(18)); // EXDEV
        }
        let dir = state.disk.dir(&to_dir)?;
        dir.entries.remove(&from);
        dir.entries.insert(to.clone(), inode);
        dir.pending.push(DirOp::Rename { from, to, inode });
        Ok(())
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        let mut state = self.step(Step::SyncDir, dir, None)?;
        if state.ignore_dir_sync {
            return Ok(());
        }
        let dir = state.disk.dir(dir)?;
        dir.durable = dir.entries.clone();
        dir.pending.clear();
        Ok(())
    }

    fn remove_file(&self, path: &Path) -> io::Result<()> {
        let inode = self.state().disk.lookup(path).ok();
        let mut state = self.step(Step::Remove, path, inode)?;
        let inode = inode.ok_or_else(not_found)?;
        let (dir, name) = split(path)?;
        let dir = state.disk.dir(&dir)?;
        dir.entries.remove(&name);
        dir.pending.push(DirOp::Unlink { name, inode });
        Ok(())
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<Entry>> {
        let mut state = self.alive()?;
        state.lists += 1;
        if state.fail_lists_from.is_some_and(|from| state.lists > from) {
            return Err(io::Error::other("simulated listing failure"));
        }
        let dir = state.disk.dirs.get(dir).ok_or_else(not_found)?;
        Ok(dir
            .entries
            .keys()
            .map(|name| Entry {
                name: name.clone(),
                is_file: true,
            })
            .collect())
    }

    fn read(&self, path: &Path) -> io::Result<FileBytes> {
        let mut state = self.alive()?;
        state.full_reads += 1;
        let inode = state.disk.lookup(path)?;
        Ok(FileBytes::Read(state.disk.inodes[inode].data.clone()))
    }

    fn not_a_directory(&self, path: &Path) -> io::Result<Option<&'static str>> {
        let state = self.alive()?;
        Ok(
            (!state.disk.dirs.contains_key(path) && state.disk.lookup(path).is_ok())
                .then_some("a file"),
        )
    }

    fn read_prefix(&self, path: &Path, len: usize) -> io::Result<Vec<u8>> {
        let state = self.alive()?;
        let inode = state.disk.lookup(path)?;
        let data = &state.disk.inodes[inode].data;
        Ok(data[..data.len().min(len)].to_vec())
    }

    fn len(&self, path: &Path) -> io::Result<u64> {
        let state = self.alive()?;
        let inode = state.disk.lookup(path)?;
        Ok(state.disk.inodes[inode].data.len() as u64)
    }

    fn exists(&self, path: &Path) -> io::Result<bool> {
        let state = self.alive()?;
        Ok(state.disk.lookup(path).is_ok() || state.disk.dirs.contains_key(path))
    }
}

/// A file created on the simulated disk.
struct SimFile {
    sim: Sim,
    inode: usize,
    path: PathBuf,
}

impl NewFile for SimFile {
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        let mut state = self.sim.step(Step::Write, &self.path, Some(self.inode))?;
        state.disk.inodes[self.inode].data.extend_from_slice(bytes);
        Ok(())
    }

    fn sync(&mut self) -> io::Result<()> {
        let held = Arc::clone(&self.sim.state().held);
        held.pass();
        let mut state = self
            .sim
            .step(Step::SyncFile, &self.path, Some(self.inode))?;
        if state.ignore_file_sync {
            return Ok(());
        }
        let inode = &mut state.disk.inodes[self.inode];
        if !inode.pages_lost {
            inode.durable = inode.data.clone();
        }
        Ok(())
    }
}

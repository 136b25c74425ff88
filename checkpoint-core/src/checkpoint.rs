//! The public handle of a run: open by name, `restore`, `sync` in the loop,
//! `save`, `finish`. The `#[checkpointed]` macro drives the same handle.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::bytes::format::{self, Codec, Header, Identity, Limits, LoopPosition};
use crate::bytes::identity;
use crate::error::{Error, Result};
use crate::machine::env_flag;
use crate::options::{OnCodeChange, Options, policy_from_env};
use crate::report::{self, Repeating};
use crate::run::policy::{Due, SavePolicy};
use crate::run::watchdog;
use crate::run::writer::{self, Job, Writer, Written};
use crate::run::{last_words, signals};
use crate::storage::backend::{self, Lock, Opened, Store};
use crate::storage::commit::{self, Outcome};
use crate::storage::group::{At, Group};
use crate::storage::store::{Kind, generation_name};

/// A checkpointed run, for code that prefers explicit calls to the
/// `#[checkpointed]` attribute: the restore/save/sync pattern.
///
/// ```
/// use checkpoint_core::Checkpoint;
/// # let dir = std::env::temp_dir().join(format!("ckpt-doc-{}", std::process::id()));
///
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Primes { found: Vec<u64>, candidate: u64 }
///
/// let mut checkpoint = Checkpoint::builder("primes").dir(&dir).every_iters(100).open()?;
/// // Resume where the last run stopped, or start afresh.
/// let mut state = checkpoint.restore::<Primes>()?.unwrap_or(Primes { found: vec![], candidate: 2 });
/// while state.found.len() < 1000 {
///     if state.found.iter().all(|p| state.candidate % p != 0) {
///         state.found.push(state.candidate);
///     }
///     state.candidate += 1;
///     checkpoint.sync(&state)?; // saves when due (here: every 100 calls)
/// }
/// checkpoint.finish()?; // the run is complete: its checkpoint is removed
/// assert_eq!(state.found[999], 7919);
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), checkpoint_core::Error>(())
/// ```
pub struct Checkpoint {
    identity: Identity,
    label: String,
    options: Options,
    code_fingerprint: u64,
    /// `None` when checkpointing is disabled, or the directory is unusable
    /// (a warning said so): the computation still runs.
    storage: Option<Storage>,
    due: Due,
    fresh: bool,
    next_generation: u64,
    save_count: u64,
    started_unix_ms: u64,
    compute_before_ms: u64,
    opened: Instant,
    stats: Stats,
    /// The file the latest save wrote, once it is durable; `None` while a
    /// save is in flight or after one failed.
    last_saved: Option<PathBuf>,
    /// A progress bar shows saves, so no line per save.
    quiet_saves: bool,
    /// The last save's buffer, which the next save serializes into: writing
    /// into memory the process already has is several times faster than
    /// into a fresh allocation (page faults), at the cost of keeping it.
    spare: Vec<u8>,
    /// Saves failing in a row, said without flooding the log.
    failing: Repeating,
    /// While the run is open, its signals make it save and exit.
    active: Option<signals::ActiveRun>,
    /// A run across the ranks of an MPI job: the group, and on rank 0 the
    /// store of commit records.
    coordinated: Option<Coordinated>,
}

/// What a run across several ranks adds to one rank's run (see
/// `storage/commit.rs`).
struct Coordinated {
    group: Group,
    /// The run's stem, without the rank.
    stem: String,
    /// Rank 0: the commit records, and the run's own lock, which keeps a
    /// second job off the run.
    records: Option<(Store, Lock)>,
}

impl Coordinated {
    fn records(&self) -> Option<&Store> {
        self.records.as_ref().map(|(store, _)| store)
    }
}

/// What the slow path of a loop decided: whether to save now, and the
/// signal to honour after the save.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Decision {
    pub save: bool,
    pub signal: Option<i32>,
}

struct Storage {
    store: Arc<Store>,
    // Held for the life of the run; released when dropped.
    lock: Lock,
    /// The writer thread, with `background = true` (started on first save).
    writer: Option<Writer>,
}

/// What a run did with its checkpoints, for the end-of-run summary.
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use checkpoint_core::Checkpoint;
/// let mut run = Checkpoint::builder("stats").dir(&dir).open()?;
/// run.save(&vec![1u64; 1000])?;
/// run.flush()?;
/// let stats = run.stats();
/// assert_eq!(stats.saves, 1);
/// assert!(stats.bytes_written > 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Saves that reached the disk.
    pub saves: u64,
    /// Saves that failed (and were retried at the next due point).
    pub failed_saves: u64,
    /// Bytes written in all saves.
    pub bytes_written: u64,
    /// Time spent compressing, writing and syncing, on whichever thread did it.
    pub save_time: Duration,
    /// Time the computation itself spent in saves: serializing the state,
    /// plus the whole write when saves are not in the background, plus any
    /// wait for the previous save.
    pub stall_time: Duration,
    /// How long the latest completed write took.
    pub last_write: Duration,
    /// Saves replaced by a newer one before the disk was free: the loop
    /// handed over a new state while the previous save was still being
    /// written and another waited its turn. Never written, never reported.
    pub superseded: u64,
}

/// A restored checkpoint: the decoded state and its header.
#[derive(Debug)]
pub(crate) struct Restored<S> {
    pub state: S,
    pub header: Header,
}

/// Builds a [`Checkpoint`]; see [`Checkpoint::builder`].
///
/// ```
/// # let dir = tempfile::tempdir()?;
/// use checkpoint_core::Checkpoint;
/// use std::time::Duration;
/// let run = Checkpoint::builder("sweep")
///     .dir(&dir)
///     .key(&(0.25_f64, 1000_u32))
///     .every(Duration::from_secs(60))
///     .keep(3)
///     .open()?;
/// assert!(run.is_active());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct CheckpointBuilder {
    identity: Identity,
    label: String,
    options: Options,
    code_fingerprint: u64,
    key_error: Option<String>,
    /// An option that cannot be used: `open` reports it.
    option_error: Option<String>,
    /// Opened without storage, as with `CHECKPOINT_DISABLE` (the resume
    /// verifier keeps its saves in memory).
    inert: bool,
    /// The ranks the run is checkpointed across, taken by the first `open`.
    group: Option<GroupSlot>,
}

/// A builder's group: builders are `Clone`, a communicator is not, and only
/// one run may use it.
#[derive(Clone)]
struct GroupSlot(Arc<std::sync::Mutex<Option<Group>>>);

impl std::fmt::Debug for GroupSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GroupSlot")
    }
}

impl CheckpointBuilder {
    /// The directory for checkpoint files (default `.checkpoints`;
    /// `CHECKPOINT_DIR` overrides it).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let run = checkpoint_core::Checkpoint::builder("in-dir").dir(dir.path().join("ckpt")).open()?;
    /// assert!(run.is_active());
    /// assert!(dir.path().join("ckpt").is_dir());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.options.dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// When saves happen (default: every 30 s).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use checkpoint_core::{Checkpoint, SavePolicy};
    /// use std::time::Duration;
    /// let policy = SavePolicy::every(Duration::from_secs(600)).and_every_iters(10_000);
    /// let run = Checkpoint::builder("policy").dir(&dir).policy(policy).open()?;
    /// assert_eq!(run.interval(), Some(Duration::from_secs(600)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn policy(mut self, policy: SavePolicy) -> Self {
        self.options.policy = policy;
        self
    }

    /// Save every `interval` of wall time.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use std::time::Duration;
    /// let run = checkpoint_core::Checkpoint::builder("every").dir(&dir).every(Duration::from_secs(5)).open()?;
    /// assert_eq!(run.interval(), Some(Duration::from_secs(5)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn every(self, interval: Duration) -> Self {
        self.policy(SavePolicy::every(interval))
    }

    /// Save every `iterations` calls of [`Checkpoint::sync`].
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut run = checkpoint_core::Checkpoint::builder("iters").dir(&dir).every_iters(3).open()?;
    /// let saved: Vec<bool> = (0..6).map(|i| run.sync(&i)).collect::<Result<_, _>>()?;
    /// assert_eq!(saved, [false, false, true, false, false, true]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn every_iters(self, iterations: u64) -> Self {
        self.policy(SavePolicy::every_iters(iterations))
    }

    /// The values that identify this run (e.g. the arguments): runs with
    /// different keys have different checkpoints.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use checkpoint_core::Checkpoint;
    /// let mut small = Checkpoint::builder("grid").dir(&dir).key(&16_u32).open()?;
    /// small.save(&"progress of the 16-point grid")?;
    /// drop(small);
    /// // Another key is another run: nothing to restore.
    /// let mut large = Checkpoint::builder("grid").dir(&dir).key(&64_u32).open()?;
    /// assert_eq!(large.restore::<String>()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn key<K: Serialize + ?Sized>(mut self, key: &K) -> Self {
        match identity::fingerprint_of(key) {
            Ok(fingerprint) => self.identity.key_fingerprint = fingerprint,
            Err(err) => self.key_error = Some(err.to_string()),
        }
        self
    }

    /// Opens the run without storage: nothing is read or written.
    pub(crate) fn inert(mut self) -> Self {
        self.inert = true;
        self
    }

    /// How many generations to keep on disk (at least 1; default 2).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut run = checkpoint_core::Checkpoint::builder("keep").dir(&dir).keep(3).open()?;
    /// for step in 0..5_u32 {
    ///     run.save(&step)?;
    ///     run.flush()?; // each written (not superseded by the next)
    /// }
    /// run.flush()?;
    /// let files = std::fs::read_dir(&dir)?.filter(|e| {
    ///     e.as_ref().is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".ckpt"))
    /// });
    /// assert_eq!(files.count(), 3);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keep(mut self, generations: usize) -> Self {
        self.options.keep = generations.max(1);
        self
    }

    /// The zstd level, or `None` to store the state uncompressed.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let run = checkpoint_core::Checkpoint::builder("raw").dir(&dir).zstd_level(None).open()?;
    /// assert!(run.is_active());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn zstd_level(mut self, level: Option<i32>) -> Self {
        self.options.zstd_level = level;
        self
    }

    /// Keep the last checkpoint when the run finishes (default: remove it).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use checkpoint_core::Checkpoint;
    /// let mut run = Checkpoint::builder("kept").dir(&dir).keep_on_success(true).open()?;
    /// run.save(&42_u32)?;
    /// run.finish()?;
    /// let mut again = Checkpoint::builder("kept").dir(&dir).open()?;
    /// assert_eq!(again.restore::<u32>()?, Some(42));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn keep_on_success(mut self, keep: bool) -> Self {
        self.options.keep_on_success = keep;
        self
    }

    /// What to do with a checkpoint written by different code.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use checkpoint_core::{Checkpoint, OnCodeChange};
    /// let mut v1 = Checkpoint::builder("model").dir(&dir).code_fingerprint(1).open()?;
    /// v1.save(&7_u32)?;
    /// drop(v1);
    /// let mut v2 = Checkpoint::builder("model")
    ///     .dir(&dir)
    ///     .code_fingerprint(2)
    ///     .on_code_change(OnCodeChange::Restart)
    ///     .open()?;
    /// assert_eq!(v2.restore::<u32>()?, None); // moved aside, fresh start
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn on_code_change(mut self, action: OnCodeChange) -> Self {
        self.options.on_code_change = action;
        self
    }

    /// A fingerprint of the code that writes the checkpoints; a change is
    /// handled as [`CheckpointBuilder::on_code_change`] says.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use checkpoint_core::{Checkpoint, Error, OnCodeChange};
    /// let mut v1 = Checkpoint::builder("solver").dir(&dir).code_fingerprint(1).open()?;
    /// v1.save(&7_u32)?;
    /// drop(v1);
    /// let mut v2 = Checkpoint::builder("solver")
    ///     .dir(&dir)
    ///     .code_fingerprint(2)
    ///     .on_code_change(OnCodeChange::Error)
    ///     .open()?;
    /// assert!(matches!(v2.restore::<u32>(), Err(Error::CodeChanged { .. })));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn code_fingerprint(mut self, fingerprint: u64) -> Self {
        self.code_fingerprint = fingerprint;
        self
    }

    /// Turn failed saves into errors instead of warnings.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let run = checkpoint_core::Checkpoint::builder("strict").dir(&dir).strict(true).open()?;
    /// assert!(run.is_active());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn strict(mut self, strict: bool) -> Self {
        self.options.strict = strict;
        self
    }

    /// Save at the interval Daly's formula gives for the measured cost of
    /// a save and this mean time between failures ([`SavePolicy::auto`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use std::time::Duration;
    /// let run = checkpoint_core::Checkpoint::builder("auto")
    ///     .dir(&dir)
    ///     .every_auto(Duration::from_secs(24 * 3600))
    ///     .open()?;
    /// // 30 s until a save has been measured; then Daly's interval for its cost.
    /// assert_eq!(run.interval(), Some(Duration::from_secs(30)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn every_auto(self, mtbf: Duration) -> Self {
        self.policy(SavePolicy::auto(mtbf))
    }

    /// The signals that make the run save and exit, by name (`"SIGTERM"` or
    /// `"TERM"`; SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGHUP, SIGXCPU). The
    /// default is SIGINT, SIGTERM and SIGUSR1; an empty list handles none.
    /// An unknown name makes [`CheckpointBuilder::open`] fail.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use checkpoint_core::Checkpoint;
    /// let run = Checkpoint::builder("slurm").dir(&dir).signals(&["SIGUSR1", "TERM"]).open()?;
    /// assert!(run.is_active());
    /// assert!(Checkpoint::builder("bad").dir(&dir).signals(&["SIGKILL"]).open().is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn signals<S: AsRef<str>>(mut self, names: &[S]) -> Self {
        let parsed: std::result::Result<Vec<i32>, String> = names
            .iter()
            .map(|name| signals::parse(name.as_ref()))
            .collect();
        match parsed {
            Ok(numbers) => self.options.signals = numbers,
            Err(reason) => self.option_error = Some(reason),
        }
        self
    }

    /// Warn once when an iteration or a save takes longer than this: after
    /// a scheduler's SIGTERM, the SIGKILL would come first (default 25 s).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use std::time::Duration;
    /// let run = checkpoint_core::Checkpoint::builder("k8s")
    ///     .dir(&dir)
    ///     .grace(Duration::from_secs(55)) // terminationGracePeriodSeconds: 60
    ///     .open()?;
    /// assert!(run.is_active());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn grace(mut self, grace: Duration) -> Self {
        self.options.grace = grace;
        self
    }

    /// Compress and write saves on a writer thread, so the loop pays only
    /// for serializing the state and never waits for the disk (default:
    /// on; see [`Checkpoint::save`]). Off: each save is durable before the
    /// loop goes on, for iterations with effects outside the state.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut run = checkpoint_core::Checkpoint::builder("sync").dir(&dir).background(false).open()?;
    /// run.save(&1_u32)?; // on disk when this returns
    /// assert_eq!(run.saves(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn background(mut self, background: bool) -> Self {
        self.options.background = background;
        self
    }

    /// Ignore checkpoints saved longer ago than `age`: they are moved aside
    /// with a warning and the run starts fresh.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use std::time::Duration;
    /// let run = checkpoint_core::Checkpoint::builder("weekly")
    ///     .dir(&dir)
    ///     .expire(Duration::from_secs(7 * 86_400))
    ///     .open()?;
    /// assert!(run.is_active());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expire(mut self, age: Duration) -> Self {
        self.options.expire = Some(age);
        self
    }

    /// When another process of the same run holds its lock, wait for it to
    /// finish instead of failing with [`Error::Locked`] (default: fail;
    /// `CHECKPOINT_WAIT=1` makes every run wait).
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("ckpt-doc-wait-{}", std::process::id()));
    /// let checkpoint = checkpoint_core::Checkpoint::builder("sweep")
    ///     .dir(&dir)
    ///     .wait_for_lock(true)
    ///     .open()?;
    /// # drop(checkpoint); std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), checkpoint_core::Error>(())
    /// ```
    pub fn wait_for_lock(mut self, wait: bool) -> Self {
        self.options.wait_for_lock = wait;
        self
    }

    /// Saves to a simulated disk (unit tests of crashes and I/O faults).
    #[cfg(test)]
    pub(crate) fn file_system(
        mut self,
        fs: std::sync::Arc<dyn crate::storage::store::FileSystem>,
    ) -> Self {
        self.options.file_system = Some(fs);
        self
    }

    /// Deletes old generations of `bytes` or more on another thread (unit
    /// tests of that path with small states).
    #[cfg(test)]
    pub(crate) fn delete_elsewhere_from(mut self, bytes: u64) -> Self {
        self.options.delete_elsewhere_from = Some(bytes);
        self
    }

    /// Checkpoints the run across the ranks of the MPI communicator `comm`
    /// (feature `mpi`): every rank of `comm` opens the same run at the
    /// same point of the program, saves its own part of the state, and a
    /// save counts only once every rank's file is durable and rank 0 has
    /// written a commit record naming them all. Every rank saves at the
    /// same iteration (time-based saves and signals are agreed on), and a
    /// rerun restores the newest commit that is whole on every rank. See
    /// the README's section for MPI users.
    ///
    /// Collective: every rank of `comm` calls `open` (which duplicates
    /// `comm`), and then the same saves, from the thread that calls MPI.
    /// Saves are written on that thread (`background` does not apply).
    ///
    /// ```no_run
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use mpi::traits::Communicator;
    /// let universe = mpi::initialize().ok_or("MPI was already initialized")?;
    /// let world = universe.world();
    /// let mut run = checkpoint_core::Checkpoint::builder("slab").comm(&world).open()?;
    /// let mut slab: Vec<f64> = run.restore()?.unwrap_or_else(|| vec![world.rank() as f64; 1000]);
    /// for _ in 0..100 {
    ///     slab.iter_mut().for_each(|x| *x *= 0.5);
    ///     run.sync(&slab)?;
    /// }
    /// run.finish()?;
    /// # Ok(())
    /// # }
    /// ```
    #[cfg(feature = "mpi")]
    pub fn comm<C: mpi::traits::Communicator + ?Sized>(self, comm: &C) -> Self {
        self.group(crate::storage::group::mpi::group_of(comm))
    }

    /// Checkpoints the run across the ranks of `group`.
    pub(crate) fn group(mut self, group: Group) -> Self {
        self.group = Some(GroupSlot(Arc::new(std::sync::Mutex::new(Some(group)))));
        self
    }

    pub(crate) fn identity(mut self, identity: Identity, label: String) -> Self {
        let key = self.identity.key_fingerprint;
        self.identity = identity;
        self.identity.key_fingerprint = key;
        self.label = label;
        self
    }

    /// Opens the run: creates the directory, takes the run's lock, cleans
    /// leftovers of interrupted saves.
    ///
    /// With `CHECKPOINT_DISABLE=1` nothing is read or written. A directory
    /// that cannot be used gives a warning and a run without checkpoints
    /// (an error in strict mode). Another live process of the same run is an
    /// error ([`Error::Locked`]), unless asked to wait
    /// ([`CheckpointBuilder::wait_for_lock`]).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use checkpoint_core::{Checkpoint, Error};
    /// let first = Checkpoint::builder("once").dir(&dir).open()?;
    /// // The same run in a second process (or twice in one) is refused.
    /// assert!(matches!(Checkpoint::builder("once").dir(&dir).open(), Err(Error::Locked { .. })));
    /// drop(first);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(self) -> Result<Checkpoint> {
        if let Some(reason) = self.key_error {
            return Err(Error::Encode(reason));
        }
        if let Some(reason) = self.option_error {
            return Err(Error::InvalidOption {
                option: "signals",
                reason,
            });
        }
        let disabled = self.inert || env_flag("CHECKPOINT_DISABLE");
        let mut options = self.options;
        match policy_from_env(options.policy) {
            Ok(policy) => options.policy = policy,
            Err(reason) if options.strict => {
                return Err(Error::InvalidOption {
                    option: "CHECKPOINT_EVERY",
                    reason,
                });
            }
            Err(reason) => report::warn(format_args!(
                "{reason}; {} saves as its code says ({})",
                self.label, options.policy
            )),
        }
        let mut checkpoint = Checkpoint {
            identity: self.identity,
            label: self.label,
            code_fingerprint: self.code_fingerprint,
            storage: None,
            due: if disabled {
                Due::never()
            } else {
                Due::new(options.policy, options.grace, None)
            },
            options,
            fresh: env_flag("CHECKPOINT_FRESH"),
            next_generation: 1,
            save_count: 0,
            started_unix_ms: unix_ms(),
            compute_before_ms: 0,
            opened: Instant::now(),
            stats: Stats::default(),
            last_saved: None,
            quiet_saves: false,
            spare: Vec::new(),
            failing: Repeating::default(),
            active: None,
            coordinated: None,
        };
        let group = match self.group {
            Some(GroupSlot(slot)) => match slot.lock().ok().and_then(|mut group| group.take()) {
                Some(group) => Some(group),
                None => {
                    return Err(Error::InvalidOption {
                        option: "comm",
                        reason: "this builder's communicator is already used by the run it opened first; make a builder per run".to_owned(),
                    });
                }
            },
            None => None,
        };
        if disabled {
            return Ok(checkpoint);
        }
        let stem = identity::file_stem(&checkpoint.identity);
        if let Some(group) = group {
            return checkpoint.open_across(group, stem);
        }
        warn_if_one_rank_of_many(&checkpoint.label);
        match backend::open(&checkpoint.options.place(), &stem, Kind::Checkpoint) {
            Ok(Opened {
                store,
                lock,
                newest,
            }) => {
                checkpoint.next_generation = newest + 1;
                checkpoint.storage = Some(Storage {
                    store: Arc::new(store),
                    lock,
                    writer: None,
                });
                checkpoint.activate();
                Ok(checkpoint)
            }
            // Another process of this run is alive: going on would compute
            // the same thing twice, and one of them unsaved.
            Err(err @ (Error::Locked { .. } | Error::BucketLocked { .. })) => Err(err),
            // A directory that cannot be created, written or read.
            Err(err) if !checkpoint.options.strict => {
                report::warn(format_args!(
                    "{err}; {} runs without checkpoints",
                    checkpoint.label
                ));
                Ok(checkpoint)
            }
            Err(err) => Err(err),
        }
    }
}

impl Checkpoint {
    /// [`CheckpointBuilder::open`] on every rank of `group`: each opens its
    /// own store (`{stem}.r{RANK}`), rank 0 also the commit records, and
    /// they go on only together: if one rank cannot open its store, every
    /// rank returns an error (or, if it is not locked and the run is not
    /// strict, every rank runs without checkpoints).
    fn open_across(mut self, group: Group, stem: String) -> Result<Checkpoint> {
        let place = self.options.place();
        let rank_stem = commit::rank_stem(&stem, group.rank());
        let opened = backend::open(&place, &rank_stem, Kind::Checkpoint);
        let records = (group.rank() == 0).then(|| backend::open(&place, &stem, Kind::Commit));
        let failure = match (&opened, &records) {
            (Err(err), _) | (_, Some(Err(err))) => Some(err),
            _ => None,
        };
        let locked = matches!(
            failure,
            Some(Error::Locked { .. } | Error::BucketLocked { .. })
        );
        let mut flags = [u64::from(failure.is_some()), u64::from(locked)];
        group.agree(At::Open, &mut flags, &self.label)?;
        let opened = match (opened, records) {
            (Ok(opened), None) if flags[0] == 0 => Ok((opened, None)),
            (Ok(opened), Some(Ok(records))) if flags[0] == 0 => Ok((opened, Some(records))),
            (Err(err), _) | (_, Some(Err(err))) => Err(err),
            _ => Err(Error::OtherRank(format!(
                "another rank of this {}-rank job could not open its checkpoints (its message says why)",
                group.size()
            ))),
        };
        let (opened, records) = match opened {
            Ok(opened) => opened,
            Err(err) if flags[1] != 0 || self.options.strict => return Err(err),
            Err(err) => {
                report::warn(format_args!(
                    "{err}; {} runs without checkpoints",
                    self.label
                ));
                return Ok(self);
            }
        };
        // The next generation is above every rank's files and every
        // commit, so no rank overwrites a file a commit may name.
        let mut newest = [opened.newest.max(records.as_ref().map_or(0, |r| r.newest))];
        group.agree(At::Open, &mut newest, &self.label)?;
        self.next_generation = newest[0] + 1;
        // Every rank must count to the same agreements and saves: rank 0's
        // policy is the job's, whatever the others' environment said.
        let policy =
            SavePolicy::from_words(&group.broadcast_words(&self.options.policy.to_words()));
        if policy != self.options.policy {
            report::warn(format_args!(
                "rank {} of {} was set to save {}, rank 0 {}: every rank follows rank 0 (set CHECKPOINT_EVERY alike on every rank)",
                group.rank(),
                self.label,
                self.options.policy,
                policy
            ));
            self.options.policy = policy;
        }
        self.storage = Some(Storage {
            store: Arc::new(opened.store),
            lock: opened.lock,
            writer: None,
        });
        self.coordinated = Some(Coordinated {
            group,
            stem,
            records: records.map(|records| (records.store, records.lock)),
        });
        self.due = Due::agreed(self.options.policy, self.options.grace);
        if !self.speaks() {
            watchdog::quiet_rank();
        }
        self.activate();
        Ok(self)
    }

    /// The run has its storage: its signals now make it save and exit.
    fn activate(&mut self) {
        self.active = Some(signals::ActiveRun::begin(&self.options.signals));
        // Until it restores or saves, a second Ctrl-C says so.
        last_words::LAST_WORDS.starts_over(&self.label);
        // The explicit API marks no loops: watched for the signal deadline
        // only.
        watchdog::watch_signals_only(self.due.watched(), &self.label);
    }

    /// Starts building a run named `name`. The name is the identity of the
    /// run: the same name finds the same checkpoint.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let run = checkpoint_core::Checkpoint::builder("train-resnet").dir(&dir).open()?;
    /// assert_eq!(run.saves(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder(name: &str) -> CheckpointBuilder {
        CheckpointBuilder {
            identity: Identity {
                crate_name: String::new(),
                module_path: String::new(),
                function: name.to_owned(),
                name: name.to_owned(),
                key_fingerprint: 0,
            },
            label: name.to_owned(),
            options: Options::default(),
            code_fingerprint: 0,
            key_error: None,
            option_error: None,
            inert: false,
            group: None,
        }
    }

    /// Opens the run `name` with the default settings.
    ///
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("ckpt-doc-open-{}", std::process::id()));
    /// # unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    /// let checkpoint = checkpoint_core::Checkpoint::open("sweep")?;
    /// assert_eq!(checkpoint.saves(), 0);
    /// # drop(checkpoint); std::fs::remove_dir_all(&dir).ok();
    /// # Ok::<(), checkpoint_core::Error>(())
    /// ```
    pub fn open(name: &str) -> Result<Checkpoint> {
        Checkpoint::builder(name).open()
    }

    /// Loads the newest usable checkpoint of this run, if any.
    ///
    /// A damaged, foreign or stale file is never decoded: it is moved aside
    /// with a warning naming it and the reason, and the previous generation
    /// is tried, then a fresh start (`Ok(None)`).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use checkpoint_core::Checkpoint;
    /// let mut run = Checkpoint::builder("restore").dir(&dir).open()?;
    /// assert_eq!(run.restore::<Vec<f64>>()?, None); // a fresh start
    /// run.save(&vec![0.5, 0.25])?;
    /// drop(run); // interrupted
    /// let mut rerun = Checkpoint::builder("restore").dir(&dir).open()?;
    /// assert_eq!(rerun.restore::<Vec<f64>>()?, Some(vec![0.5, 0.25]));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn restore<S: DeserializeOwned>(&mut self) -> Result<Option<S>> {
        let schema = type_schema::<S>();
        Ok(self.load::<S>(schema)?.map(|restored| restored.state))
    }

    /// Saves `state` if a save is due under the run's [`SavePolicy`]; call it
    /// once per iteration. Returns whether it saved. Cheap when not due: a
    /// counter and one relaxed atomic load.
    ///
    /// On a handled signal (SIGINT, SIGTERM, SIGUSR1 by default) it saves,
    /// says so, and ends the process with status 128 + signal.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut run = checkpoint_core::Checkpoint::builder("sync-loop").dir(&dir).every_iters(10).open()?;
    /// let mut total = 0_u64;
    /// let mut saved = 0;
    /// for i in 0..100_u64 {
    ///     total += i;
    ///     if run.sync(&total)? {
    ///         saved += 1;
    ///     }
    /// }
    /// run.flush()?;
    /// assert_eq!(saved, 10);
    /// // Each was written, or superseded by the next while the disk was busy.
    /// assert_eq!(run.stats().saves + run.stats().superseded, 10);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[inline]
    pub fn sync<S: Serialize>(&mut self, state: &S) -> Result<bool> {
        if !self.due.tick() {
            return Ok(false);
        }
        self.sync_slow(state)
    }

    #[cold]
    #[inline(never)]
    fn sync_slow<S: Serialize>(&mut self, state: &S) -> Result<bool> {
        self.check_grace();
        let decision = self.decide(&self.due, &[])?;
        if !decision.save {
            self.due.snooze();
            return Ok(false);
        }
        self.save_now(state)?;
        if let Some(signal) = decision.signal {
            self.stop_on_signal(signal, "its last save");
        }
        Ok(true)
    }

    /// Saves `state` now. A failed save is a warning (the previous checkpoint
    /// stays, and the next due point tries again) unless the run is strict.
    ///
    /// If a handled signal (see [`CheckpointBuilder::signals`]) is pending,
    /// it then says where the run stopped and ends the process with status
    /// 128 + signal, as [`Checkpoint::sync`] does.
    ///
    /// With background writes (the default) it returns once the state is
    /// serialized; the file is compressed, written and synced on a writer
    /// thread, and the loop never waits for the disk: while a save is
    /// being written, the next waits its turn, and a newer one replaces a
    /// waiting one (it is superseded, never written: [`Stats::superseded`]).
    /// So saving every iteration costs the loop only the serializing, and
    /// the disk writes the newest state whenever it is free. A save counts
    /// ([`Checkpoint::saves`]) only once it is durable. [`Checkpoint::flush`]
    /// waits until the newest save is on disk; [`Checkpoint::finish`],
    /// dropping the checkpoint and a signal do too. With
    /// [`CheckpointBuilder::background`]`(false)` every save is durable
    /// before this returns: for iterations with effects outside the state
    /// (a file appended, a message sent) that must not run twice.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut run = checkpoint_core::Checkpoint::builder("save").dir(&dir).open()?;
    /// run.save(&(3_u32, "three"))?;
    /// let file = run.flush()?.expect("saved");
    /// assert!(file.is_file());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn save<S: Serialize>(&mut self, state: &S) -> Result<()> {
        self.save_now(state)?;
        if let Some(signal) = self.agreed_signal()? {
            self.stop_on_signal(signal, "its last save");
        }
        Ok(())
    }

    /// Saves `state` for the macro-free API, and feeds what it cost the
    /// computation into the policy.
    fn save_now<S: Serialize>(&mut self, state: &S) -> Result<()> {
        let began = Instant::now();
        self.save_at(type_schema::<S>(), &[], state)?;
        self.record_save_cost(began.elapsed());
        Ok(())
    }

    /// Waits until the latest save is on disk (with background writes it may
    /// still be in flight), and the old generations it replaced are deleted
    /// (a large one is deleted on another thread), and returns its file;
    /// `None` if checkpointing is off or that save failed (a warning said
    /// so).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut run = checkpoint_core::Checkpoint::builder("flush").dir(&dir).open()?;
    /// run.save(&vec![1_u8; 1 << 20])?;
    /// let file = run.flush()?.expect("the save succeeded");
    /// assert!(file.exists());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&mut self) -> Result<Option<PathBuf>> {
        let saved = self.wait_for_writer();
        if let Some(storage) = &self.storage {
            storage.store.wait_for_deletions();
        }
        saved
    }

    /// Waits for the saves handed to the writer thread (the one being
    /// written and the newest waiting its turn) and accounts for them.
    fn wait_for_writer(&mut self) -> Result<Option<PathBuf>> {
        let outcomes = self
            .storage
            .as_mut()
            .and_then(|storage| storage.writer.as_mut())
            .map(Writer::wait)
            .unwrap_or_default();
        self.settle_all(outcomes)?;
        Ok(self.last_saved.clone())
    }

    /// Accounts for the saves the writer thread finished, without waiting.
    fn collect_finished(&mut self) -> Result<()> {
        let outcomes = self
            .storage
            .as_mut()
            .and_then(|storage| storage.writer.as_mut())
            .map(Writer::finished)
            .unwrap_or_default();
        self.settle_all(outcomes)
    }

    fn settle_all(&mut self, outcomes: Vec<Result<Written>>) -> Result<()> {
        let mut first_error = None;
        for outcome in outcomes {
            if let Err(err) = self.settle(outcome) {
                first_error.get_or_insert(err);
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Ends the run successfully: waits for the saves in flight, removes the
    /// run's checkpoints (unless asked to keep them), releases the lock and
    /// prints the summary.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut run = checkpoint_core::Checkpoint::builder("done").dir(&dir).open()?;
    /// run.save(&1_u32)?;
    /// let stats = run.finish()?;
    /// assert_eq!(stats.saves, 1);
    /// assert_eq!(std::fs::read_dir(&dir)?.count(), 0); // nothing left behind
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn finish(mut self) -> Result<Stats> {
        if let Some(signal) = self.agreed_signal()? {
            // Keep the checkpoint: the program has not used its result yet.
            self.stop_after_return(signal);
        }
        self.complete()?;
        self.summarize("finished");
        Ok(self.stats)
    }

    /// The current interval between time-based saves (with `auto`, as last
    /// recomputed from the measured cost of a save).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// use std::time::Duration;
    /// let run = checkpoint_core::Checkpoint::builder("interval").dir(&dir).open()?;
    /// assert_eq!(run.interval(), Some(checkpoint_core::DEFAULT_EVERY));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn interval(&self) -> Option<Duration> {
        self.due.interval()
    }

    /// Saves that reached the disk in this process.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut run = checkpoint_core::Checkpoint::builder("count").dir(&dir).background(false).open()?;
    /// run.save(&1_u32)?;
    /// run.save(&2_u32)?;
    /// assert_eq!(run.saves(), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn saves(&self) -> u64 {
        self.stats.saves
    }

    /// What this process did with its checkpoints so far.
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let mut run = checkpoint_core::Checkpoint::builder("stats2").dir(&dir).background(false).open()?;
    /// run.save(&vec![0_u64; 1000])?;
    /// assert!(run.stats().bytes_written > 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether checkpoints are actually being written (not disabled, and the
    /// directory was usable).
    ///
    /// ```
    /// # let dir = tempfile::tempdir()?;
    /// let run = checkpoint_core::Checkpoint::builder("active").dir(&dir).open()?;
    /// assert!(run.is_active()); // CHECKPOINT_DISABLE=1 would make it false
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_active(&self) -> bool {
        self.storage.is_some()
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn options(&self) -> &Options {
        &self.options
    }

    /// A signal this run handles that is waiting to be honoured.
    pub(crate) fn pending_signal(&self) -> Option<i32> {
        let active = self.active.as_ref()?;
        signals::pending().filter(|&signal| active.wants(signal))
    }

    /// [`Checkpoint::pending_signal`], in a multi-rank run as agreed by
    /// every rank (collective): any rank's signal stops them all.
    pub(crate) fn agreed_signal(&self) -> Result<Option<i32>> {
        let signal = self.pending_signal();
        let Some(coordinated) = &self.coordinated else {
            return Ok(signal);
        };
        let mut flags = [signal_word(signal)];
        coordinated.group.agree(At::Stop, &mut flags, &self.label)?;
        Ok(word_signal(flags[0]))
    }

    /// Whether this process says what the run does: every run but the
    /// ranks other than 0 of a multi-rank one (their warnings still show).
    fn speaks(&self) -> bool {
        self.coordinated
            .as_ref()
            .is_none_or(|coordinated| coordinated.group.rank() == 0)
    }

    /// The stem of the run's file names.
    #[cfg(test)]
    pub(crate) fn stem(&self) -> String {
        identity::file_stem(&self.identity)
    }

    /// Whether the run is checkpointed across the ranks of a group.
    pub(crate) fn is_coordinated(&self) -> bool {
        self.coordinated.is_some()
    }

    /// Hides the line per save: a progress bar shows saves instead.
    pub(crate) fn quiet_saves(&mut self) {
        self.quiet_saves = true;
    }

    /// The run is over and complete: flush, then remove the checkpoints
    /// (unless kept) and the lock file.
    pub(crate) fn complete(&mut self) -> Result<()> {
        let flushed = self.flush();
        // A multi-rank run's commits go first: a rank file no commit names
        // is never restored.
        if let Some((records, lock)) = self.coordinated.as_mut().and_then(|c| c.records.take()) {
            if !self.options.keep_on_success {
                records.remove_all()?;
            }
            lock.remove();
        }
        if let Some(storage) = self.storage.take() {
            drop(storage.writer);
            if !self.options.keep_on_success {
                storage.store.remove_all()?;
            }
            storage.lock.remove();
        }
        flushed.map(drop)
    }

    /// Feeds what a save cost the computation into an `auto` interval.
    pub(crate) fn record_save_cost(&mut self, stall: Duration) {
        self.due.record_save(stall, self.stats.last_write);
        self.due.restart();
    }

    /// Warns once if the iteration that just ended took longer than the
    /// grace period a scheduler gives after its signal.
    pub(crate) fn check_grace(&self) {
        warn_over_grace(&self.label, &self.due);
    }

    /// Honours a signal: waits for the save just made, says where the run
    /// stopped, and ends the process once every active run has saved.
    pub(crate) fn stop_on_signal(&mut self, signal: i32, place: &str) -> ! {
        let saved = self.flush().unwrap_or_else(|err| {
            report::warn(format_args!("{err}"));
            None
        });
        let name = signals::name(signal);
        match saved {
            _ if !self.speaks() => {}
            Some(path) => report::info(format_args!(
                "stopped {} on {name} at {place}; saved to {}; run the same command again to resume",
                self.label,
                path.display()
            )),
            None => report::warn(format_args!(
                "stopped {} on {name} at {place}, but this save failed (see above); a rerun resumes from the last good checkpoint",
                self.label
            )),
        }
        self.exit_on(signal)
    }

    /// Honours a signal that came after the run's last save point, as its
    /// function returns: nothing new to save, so the checkpoint is kept as
    /// it is (a rerun resumes from it and redoes only the tail) and the
    /// process exits once every active run has saved.
    pub(crate) fn stop_after_return(&mut self, signal: i32) -> ! {
        if let Err(err) = self.flush() {
            report::warn(format_args!("{err}"));
        }
        let kept = match self
            .storage
            .as_ref()
            .map(|storage| storage.store.list_generations())
        {
            Some(Ok(generations)) => generations.into_iter().next().map(|newest| newest.path),
            _ => None,
        };
        let name = signals::name(signal);
        match kept {
            _ if !self.speaks() => {}
            Some(path) => report::info(format_args!(
                "stopped {} on {name} as it returned; its checkpoint {} is kept; run the same command again to finish",
                self.label,
                path.display()
            )),
            None => report::info(format_args!(
                "stopped {} on {name} as it returned, before any save; a rerun starts it over",
                self.label
            )),
        }
        self.exit_on(signal)
    }

    /// Prints the summary, releases the run's lock and ends the process
    /// with 128 + `signal` once every active run has saved.
    fn exit_on(&mut self, signal: i32) -> ! {
        self.summarize("stopped");
        // The process exits without running destructors: release the lock
        // now, or a lock object in a bucket would stay until its TTL.
        drop(self.storage.take());
        if let Some(coordinated) = self.coordinated.take() {
            // Every rank stops at the same save; MPI wants each to say so.
            drop(coordinated.records);
            coordinated.group.finalize();
        }
        match &self.active {
            Some(active) => signals::stop(signal, active, self.options.grace),
            None => std::process::exit(128 + signal),
        }
    }

    /// The end-of-run summary: saves, bytes written, and the share of the
    /// run the computation spent on checkpoints. `how` says how it ended:
    /// `finished`, `stopped`, `kept its checkpoint`.
    ///
    /// A short run that neither saved nor resumed (a checkpointed function
    /// called many times, say) prints none.
    pub(crate) fn summarize(&self, how: &str) {
        if !self.speaks() {
            return;
        }
        let elapsed = self.opened.elapsed();
        let resumed = self.save_count > self.stats.saves + self.stats.failed_saves;
        if self.stats.saves == 0
            && self.stats.failed_saves == 0
            && !resumed
            && elapsed < Duration::from_secs(1)
        {
            return;
        }
        let share = if elapsed.is_zero() {
            0.0
        } else {
            100.0 * self.stats.stall_time.as_secs_f64() / elapsed.as_secs_f64()
        };
        let failed = match self.stats.failed_saves {
            0 => String::new(),
            n => format!(" ({n} failed)"),
        };
        let superseded = match self.stats.superseded {
            0 => String::new(),
            n => format!(", {n} superseded by a newer state while the disk was busy"),
        };
        report::info(format_args!(
            "summary of {} ({how}): {} save{}{failed}{superseded}, {} written; checkpointing took {:.3} s of {:.3} s ({share:.2}%) of the computation's time, writes {:.3} s",
            self.label,
            self.stats.saves,
            if self.stats.saves == 1 { "" } else { "s" },
            report::bytes(self.stats.bytes_written),
            self.stats.stall_time.as_secs_f64(),
            elapsed.as_secs_f64(),
            self.stats.save_time.as_secs_f64()
        ));
        tracing::info!(
            target: "checkpoint",
            run = %self.label,
            saves = self.stats.saves,
            failed_saves = self.stats.failed_saves,
            superseded = self.stats.superseded,
            bytes_written = self.stats.bytes_written,
            stall_s = self.stats.stall_time.as_secs_f64(),
            elapsed_s = elapsed.as_secs_f64(),
            "summary"
        );
    }

    /// Finds the newest checkpoint whose identity and schema match, falling
    /// back generation by generation; see [`Checkpoint::restore`].
    pub(crate) fn load<S: DeserializeOwned>(&mut self, schema: u64) -> Result<Option<Restored<S>>> {
        let Some(storage) = &self.storage else {
            return Ok(None);
        };
        if self.coordinated.is_some() {
            return self.load_across(schema);
        }
        // A directory that cannot be read is handled as at open: a warning,
        // and the run computes without checkpoints (strict: an error).
        let generations = match storage.store.list_generations() {
            Ok(generations) => generations,
            Err(err) if !self.options.strict => {
                report::warn(format_args!(
                    "{err}; {} runs without checkpoints",
                    self.label
                ));
                self.storage = None;
                self.active = None;
                return Ok(None);
            }
            Err(err) => return Err(err),
        };
        if self.fresh {
            if !generations.is_empty() {
                report::info(format_args!(
                    "CHECKPOINT_FRESH is set: {} starts fresh; its {} existing checkpoint(s) will be replaced",
                    self.label,
                    generations.len()
                ));
            }
            return Ok(None);
        }
        let count = generations.len();
        for (position, generation) in generations.iter().enumerate() {
            let fallback = if position + 1 < count {
                "trying the previous generation"
            } else {
                "starting fresh"
            };
            if let Some(restored) = self.judge::<S>(&generation.path, schema, None, fallback)? {
                self.announce_restore(&restored.header, &generation.path);
                return Ok(Some(restored));
            }
        }
        Ok(None)
    }

    /// [`Checkpoint::load`] on every rank of a multi-rank run: the ranks
    /// take the newest commit, each checks and decodes its own file, and
    /// they restore it only if every rank can; otherwise all of them fall
    /// back to the previous commit together. A commit of another rank
    /// count is an error on every rank.
    fn load_across<S: DeserializeOwned>(&mut self, schema: u64) -> Result<Option<Restored<S>>> {
        let Some(coordinated) = &self.coordinated else {
            return Ok(None);
        };
        let (rank, size) = (coordinated.group.rank(), coordinated.group.size());
        let mut fresh = [u64::from(self.fresh)];
        coordinated
            .group
            .agree(At::Restore, &mut fresh, &self.label)?;
        if fresh[0] != 0 {
            if rank == 0 {
                report::info(format_args!(
                    "CHECKPOINT_FRESH is set: {} starts fresh on its {size} ranks; its checkpoints will be replaced",
                    self.label
                ));
            }
            return Ok(None);
        }
        let mut below = u64::MAX;
        loop {
            let Some(coordinated) = &self.coordinated else {
                return Ok(None);
            };
            let group = &coordinated.group;
            let Some(record) = commit::next_record(group, coordinated.records(), below)? else {
                return Ok(None);
            };
            below = record.number;
            let Some(storage) = &self.storage else {
                return Ok(None);
            };
            let record_path = storage
                .store
                .sibling(&commit::record_name(&coordinated.stem, record.number));
            if record.ranks.len() != size {
                return Err(Error::RankCount {
                    record: record_path,
                    saved: record.ranks.len(),
                    now: size,
                });
            }
            let mine = record.ranks[rank].clone();
            // Only the file this rank would have written: a record is
            // checked, but never trusted to name any file.
            let own_name =
                generation_name(&commit::rank_stem(&coordinated.stem, rank), record.number);
            let path = storage.store.sibling(&own_name);
            let fallback = "all ranks fall back to the previous commit";
            let judged = if mine.name == own_name {
                self.judge::<S>(&path, schema, Some(&mine), fallback)
            } else {
                report::warn(format_args!(
                    "commit {} names {} for rank {rank}, not {own_name}; {fallback}",
                    record_path.display(),
                    mine.name
                ));
                Ok(None)
            };
            let Some(coordinated) = &self.coordinated else {
                return Ok(None);
            };
            let group = &coordinated.group;
            let usable = matches!(judged, Ok(Some(_)));
            let mut flags = [u64::from(!usable), u64::from(judged.is_err())];
            group.agree(At::Restore, &mut flags, &self.label)?;
            match judged {
                Err(err) => return Err(err),
                _ if flags[1] != 0 => {
                    return Err(Error::OtherRank(format!(
                        "another rank of this {size}-rank job could not restore its checkpoint (its message says why)"
                    )));
                }
                Ok(Some(restored)) if flags[0] == 0 => {
                    self.announce_restore(&restored.header, &record_path);
                    return Ok(Some(restored));
                }
                _ => {}
            }
            // Not whole: the next run must not try it again.
            if let Some(records) = coordinated.records() {
                let aside = records.move_aside(&record_path, "not whole")?;
                report::warn(format_args!(
                    "commit {} is not usable on every rank (see the rank's warning above); moved aside to {}; all {size} ranks fall back to the previous commit",
                    record_path.display(),
                    aside.display()
                ));
            }
        }
    }

    /// Restores generation file `path` if it is usable: intact (and, in a
    /// multi-rank run, the very file its commit names: `expected`), of
    /// this run, not expired, of this state schema, and of this code unless
    /// the run resumes across code changes. `Ok(None)`: it is not, a
    /// warning said why (ending with `fallback`), and it was moved aside
    /// when it can never be used. An error stops the run.
    fn judge<S: DeserializeOwned>(
        &mut self,
        path: &Path,
        schema: u64,
        expected: Option<&commit::RankFile>,
        fallback: &str,
    ) -> Result<Option<Restored<S>>> {
        let Some(storage) = &self.storage else {
            return Ok(None);
        };
        let store = Arc::clone(&storage.store);
        let limits = Limits::default();
        let bytes = match store.read(path) {
            Ok(bytes) => Ok(bytes),
            // Refused by its start, before the rest was read.
            Err(Error::Corrupt { reason, .. }) => Err(reason.to_string()),
            Err(err) => {
                report::warn(format_args!("{err}; {fallback}"));
                return Ok(None);
            }
        };
        let checked = match (&bytes, expected) {
            (Ok(bytes), Some(expected)) => commit::check_rank_file(bytes, expected),
            _ => Ok(()),
        };
        let decoded = match (&bytes, checked) {
            (Ok(bytes), Ok(())) => format::decode_file(bytes, &limits)
                .map_err(|reason| format!("it is damaged or not a checkpoint: {reason}")),
            (Ok(_), Err(reason)) => Err(reason),
            (Err(reason), _) => Err(format!("it is damaged or not a checkpoint: {reason}")),
        };
        let verdict = match decoded {
            Err(reason) => Err(reason),
            Ok((header, _)) if header.identity != self.identity => Err(format!(
                "it belongs to another run ({}::{})",
                header.identity.module_path, header.identity.name
            )),
            Ok((header, _)) if self.is_expired(&header) => {
                let aside = store.move_aside(path, "expired")?;
                report::warn(format_args!(
                    "checkpoint {} was saved {} ago, longer ago than expire = {}; it is ignored: moved aside to {}; {fallback}",
                    path.display(),
                    report::duration(Duration::from_millis(
                        unix_ms().saturating_sub(header.saved_unix_ms)
                    )),
                    report::duration(self.options.expire.unwrap_or_default()),
                    aside.display()
                ));
                return Ok(None);
            }
            Ok((header, _)) if header.schema_fingerprint != schema => {
                let aside = store.move_aside(path, "stale")?;
                report::warn(format_args!(
                    "checkpoint {} was written for a different state (its #[state] locals, their types or the loops changed); it is never decoded: moved aside to {}; {fallback}",
                    path.display(),
                    aside.display()
                ));
                return Ok(None);
            }
            Ok((header, payload)) => {
                if header.code_fingerprint != self.code_fingerprint {
                    match self.options.on_code_change {
                        OnCodeChange::Resume => report::warn(format_args!(
                            "checkpoint {} was written by a different version of {}'s code (same state schema); resuming from it (CHECKPOINT_FRESH=1 starts over instead; on_code_change = \"restart\" or \"error\" decides it in the code)",
                            path.display(),
                            self.label
                        )),
                        OnCodeChange::Restart => {
                            let aside = store.move_aside(path, "code changed")?;
                            report::warn(format_args!(
                                "checkpoint {} was written by a different version of {}'s code; moved aside to {}; {fallback}",
                                path.display(),
                                self.label,
                                aside.display()
                            ));
                            return Ok(None);
                        }
                        OnCodeChange::Error => {
                            return Err(Error::CodeChanged {
                                path: path.to_path_buf(),
                            });
                        }
                    }
                }
                format::decode_state::<S>(&header, payload, &limits)
                    .map(|state| (header, state))
                    .map_err(|reason| reason.to_string())
            }
        };
        if let Ok(bytes) = bytes {
            bytes.release();
        }
        match verdict {
            Ok((header, state)) => {
                self.save_count = header.save_count;
                self.started_unix_ms = header.started_unix_ms;
                self.compute_before_ms = header.compute_ms;
                Ok(Some(Restored { state, header }))
            }
            Err(reason) => {
                let aside = store.move_aside(path, "unusable")?;
                report::warn(format_args!(
                    "checkpoint {} is unusable: {reason}; moved aside to {}; {fallback}",
                    path.display(),
                    aside.display()
                ));
                Ok(None)
            }
        }
    }

    /// Says that the run resumed, and where: one line, and a `tracing`
    /// event. A checkpoint saved inside loops names the iteration.
    fn announce_restore(&self, header: &Header, path: &Path) {
        last_words::LAST_WORDS.resumes_from(path, header);
        if self.speaks() {
            let at = if header.position.is_empty() {
                String::new()
            } else {
                format!(" at {}", format::describe_position(&header.position))
            };
            report::info(format_args!(
                "resumed {}{at} from {} (save {})",
                self.label,
                path.display(),
                header.save_count
            ));
        }
        tracing::info!(
            target: "checkpoint",
            path = %path.display(),
            save = header.save_count,
            bytes = header.state_len,
            "restored"
        );
    }

    /// Saves one generation: serializes `state` here, then compresses and
    /// writes it, on the writer thread with `background` (never waiting for
    /// it: see [`Checkpoint::save`]). A failure is a warning (an error when
    /// strict), now or when the background save is collected.
    pub(crate) fn save_at<V: Serialize + ?Sized>(
        &mut self,
        schema: u64,
        position: &[LoopPosition],
        state: &V,
    ) -> Result<()> {
        self.due.restart();
        if self.storage.is_none() {
            return Ok(());
        }
        if self.coordinated.is_some() {
            return self.save_across(schema, position, state);
        }
        let began = Instant::now();
        // Never wait for the writer thread: account for what it finished.
        self.collect_finished()?;
        let (room, buffer, header) = match self.serialize_next(schema, position, state) {
            Ok(serialized) => serialized,
            Err(err) => {
                self.stats.stall_time += began.elapsed();
                return self.settle(Err(err)).map(drop);
            }
        };
        let job = Job {
            number: self.next_generation,
            header,
            buffer,
            room,
            zstd_level: self.options.zstd_level,
            // A save the computation waits for may use every core; a
            // background one leaves them to the computation.
            parallel: !self.options.background,
            keep: self.options.keep,
            announce: !self.quiet_saves,
            checksum: false,
        };
        self.next_generation += 1;
        self.save_count += 1;
        self.last_saved = None;
        let background = self.options.background;
        let Some(storage) = &mut self.storage else {
            return Ok(());
        };
        let mut outcome = None;
        if background {
            if storage.writer.as_ref().is_none_or(Writer::is_dead) {
                match Writer::spawn(Arc::clone(&storage.store)) {
                    Ok(writer) => storage.writer = Some(writer),
                    Err(err) => report::warn(format_args!(
                        "could not start the checkpoint writer thread ({err}); {} saves on its own thread",
                        self.label
                    )),
                }
            }
            match storage.writer.as_mut() {
                Some(writer) => {
                    if let Some(superseded) = writer.submit(job) {
                        // A newer state replaced it before the disk was free.
                        self.stats.superseded += 1;
                        self.spare = superseded.buffer;
                    }
                }
                None => outcome = Some(writer::write(&storage.store, job)),
            }
        } else {
            outcome = Some(writer::write(&storage.store, job));
        }
        self.stats.stall_time += began.elapsed();
        match outcome {
            Some(outcome) => self.settle(outcome).map(drop),
            None => Ok(()),
        }
    }

    /// The next save of `state`, of `schema` at `position`: its state
    /// serialized into the previous save's buffer after the room its
    /// header needs, that room, and the header.
    fn serialize_next<V: Serialize + ?Sized>(
        &mut self,
        schema: u64,
        position: &[LoopPosition],
        state: &V,
    ) -> Result<(usize, Vec<u8>, Header)> {
        let header = self.next_header(schema, position);
        let room = format::room_for(&header)?;
        let buffer = format::serialize_state(state, room, std::mem::take(&mut self.spare))?;
        Ok((room, buffer, header))
    }

    /// The header of the next save, of `schema` at `position`.
    fn next_header(&self, schema: u64, position: &[LoopPosition]) -> Header {
        Header {
            identity: self.identity.clone(),
            schema_fingerprint: schema,
            code_fingerprint: self.code_fingerprint,
            position: position.to_vec(),
            save_count: self.save_count + 1,
            started_unix_ms: self.started_unix_ms,
            saved_unix_ms: unix_ms(),
            compute_ms: self.compute_before_ms
                + u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX),
            codec: Codec::Raw,
            state_len: 0,
        }
    }

    /// [`Checkpoint::save_at`] on every rank of a multi-rank run: each
    /// rank writes its own file on this thread, and the save counts only
    /// once rank 0 has committed it (see `storage/commit.rs`); then each
    /// rank deletes what the oldest commit kept no longer needs. Every rank
    /// takes part in the commit even when its own save failed, and every
    /// rank learns the same outcome.
    fn save_across<V: Serialize + ?Sized>(
        &mut self,
        schema: u64,
        position: &[LoopPosition],
        state: &V,
    ) -> Result<()> {
        let began = Instant::now();
        let serialized = self.serialize_next(schema, position, state);
        let number = self.next_generation;
        let attempt = self.stats.saves + self.stats.failed_saves + 1;
        self.next_generation += 1;
        self.save_count += 1;
        self.last_saved = None;
        let outcome = serialized.and_then(|(room, buffer, header)| {
            let Some(storage) = &self.storage else {
                return Err(Error::Writer("the run has no storage".to_owned()));
            };
            writer::write(
                &storage.store,
                Job {
                    number,
                    header,
                    buffer,
                    room,
                    zstd_level: self.options.zstd_level,
                    parallel: true,
                    // Pruned after the commit, not before.
                    keep: usize::MAX,
                    announce: false,
                    checksum: true,
                },
            )
        });
        let Some(coordinated) = &self.coordinated else {
            return self.settle(outcome);
        };
        let written = outcome
            .as_ref()
            .ok()
            .and_then(|written| Some((written.bytes, written.crc?)));
        let committed = commit::commit(
            &coordinated.group,
            coordinated.records(),
            &coordinated.stem,
            number,
            written,
            self.options.keep,
            attempt,
        );
        let (rank, size) = (coordinated.group.rank(), coordinated.group.size());
        let record = coordinated
            .records()
            .map(|records| records.sibling(&commit::record_name(&coordinated.stem, number)));
        self.stats.stall_time += began.elapsed();
        let outcome = match (committed, outcome) {
            (Outcome::Committed { oldest_kept }, Ok(mut written)) => {
                if let Some(storage) = &self.storage
                    && let Err(err) = storage.store.prune_below(oldest_kept)
                {
                    report::warn(format_args!("{err}"));
                }
                if let Some(record) = record {
                    if !self.quiet_saves {
                        report::info(format_args!(
                            "saved {} on {size} ranks, committed in {} ({} on rank 0 in {:.1} ms)",
                            format::describe_position(position),
                            record.display(),
                            report::bytes(written.bytes),
                            began.elapsed().as_secs_f64() * 1e3
                        ));
                    }
                    // What rank 0 names as the save: the commit.
                    written.path = record;
                }
                Ok(written)
            }
            // This rank's own failure: its warning says why.
            (_, Err(err)) => Err(err),
            (Outcome::RanksFailed(ranks), Ok(_)) => Err(Error::OtherRank(format!(
                "rank(s) {ranks:?} of this {size}-rank job could not write their part of save {} (their messages say why), so it is not committed",
                self.save_count
            ))),
            (_, Ok(_)) => Err(Error::OtherRank(format!(
                "rank 0 of this {size}-rank job could not write the commit record of save {} (its message says why)",
                self.save_count
            ))),
        };
        // Said once, by rank 0, for a failure elsewhere.
        let quiet = rank != 0 && matches!(outcome, Err(Error::OtherRank(_)));
        match outcome {
            Err(err) if quiet => {
                self.stats.failed_saves += 1;
                if self.options.strict {
                    Err(err)
                } else {
                    Ok(())
                }
            }
            outcome => self.settle(outcome),
        }
    }

    /// The slow path of a loop iteration decides whether to save now: a
    /// save is due or a signal asks for one. In a multi-rank run every rank
    /// decides the same, at the same iteration: their flags are combined
    /// (any rank's signal or due time makes every rank save), and the next
    /// agreement is planned (see `Due::agreed`).
    ///
    /// `position` is where the loops stand; ranks that disagree about it
    /// (or reach this point a different number of times) get an error.
    pub(crate) fn decide(&self, due: &Due, position: &[LoopPosition]) -> Result<Decision> {
        let signal = self.pending_signal();
        let Some(coordinated) = &self.coordinated else {
            return Ok(Decision {
                save: signal.is_some() || due.is_due(),
                signal,
            });
        };
        let mut flags = [
            signal_word(signal),
            u64::from(due.is_due()),
            due.since_agreement_us(),
        ];
        let at = At::Iteration(position_hash(position));
        coordinated.group.agree(at, &mut flags, &self.label)?;
        due.agreement_done(flags[2]);
        let signal = word_signal(flags[0]);
        Ok(Decision {
            save: signal.is_some() || flags[1] != 0,
            signal,
        })
    }

    /// Accounts for a finished save: stats on success; on failure a warning
    /// (the previous checkpoint is kept), or the error when strict.
    fn settle(&mut self, outcome: Result<Written>) -> Result<()> {
        match outcome {
            Ok(written) => {
                let failed = self.failing.stopped();
                if failed > 0 {
                    report::info(format_args!(
                        "saves of {} succeed again, after {failed} failed in a row; saved to {}",
                        self.label,
                        written.path.display()
                    ));
                }
                self.stats.saves += 1;
                self.stats.bytes_written += written.bytes;
                self.stats.save_time += written.took;
                self.stats.last_write = written.took;
                if self.due.save_over_grace(written.took) {
                    report::warn(format_args!(
                        "a save of {} took {:.1} s, longer than the {:.1} s grace period schedulers give after SIGTERM: a signal may not be honoured in time; save less state, or make saves cheaper (compress = false, a faster disk)",
                        self.label,
                        written.took.as_secs_f64(),
                        self.due.grace().as_secs_f64()
                    ));
                }
                self.last_saved = Some(written.path);
                self.spare = written.buffer;
                Ok(())
            }
            Err(err) => {
                self.stats.failed_saves += 1;
                if self.options.strict {
                    return Err(err);
                }
                match self.failing.came(Instant::now()) {
                    Some(0) => report::warn(format_args!(
                        "save of {} failed: {err}; the previous checkpoint is kept, and the next due save tries again (if they fail too, this is said again once a minute)",
                        self.label
                    )),
                    Some(held) => report::warn(format_args!(
                        "save of {} failed again: {err}; {held} more failed in the last {} s, and the newest checkpoint that succeeded is still kept",
                        self.label,
                        Repeating::QUIET.as_secs()
                    )),
                    None => {}
                }
                Ok(())
            }
        }
    }
}

impl Drop for Checkpoint {
    /// Lets the saves handed over complete, and reports how they went.
    fn drop(&mut self) {
        if let Err(err) = self.flush() {
            report::warn(format_args!("{err}"));
        }
    }
}

/// Warns once if the iteration that just ended took longer than the grace
/// period; shared by [`Checkpoint::sync`] and the macro's loops.
pub(crate) fn warn_over_grace(label: &str, due: &Due) {
    if let Some(took) = due.iteration_over_grace() {
        report::warn(format_args!(
            "an iteration of {label} took {:.1} s, longer than the {:.1} s grace period schedulers give after SIGTERM: a signal during such an iteration may not be honoured before the SIGKILL; mark an inner loop #[checkpoint(save)] so it saves within the iteration, or raise `grace` if your scheduler waits longer",
            took.as_secs_f64(),
            due.grace().as_secs_f64()
        ));
    }
}

impl Checkpoint {
    fn is_expired(&self, header: &Header) -> bool {
        self.options.expire.is_some_and(|expire| {
            let age = Duration::from_millis(unix_ms().saturating_sub(header.saved_unix_ms));
            age > expire
        })
    }
}

/// The schema fingerprint of a state type used through the macro-free API:
/// its type name (field-level changes of the same type are the user's to
/// version, e.g. by renaming the type).
fn type_schema<S: ?Sized>() -> u64 {
    identity::fingerprint(std::any::type_name::<S>().as_bytes())
}

/// A run opened without `comm` in a process that is one rank of an MPI job
/// is checkpointed by that rank alone: right for independent work per
/// rank, wrong for a computation the ranks do together, which must resume
/// every rank from the same iteration. Said once per process and run.
fn warn_if_one_rank_of_many(label: &str) {
    static WARNED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let Some((rank, size)) = crate::machine::mpi_job().filter(|&(_, size)| size > 1) else {
        return;
    };
    let mut warned = WARNED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if warned.iter().any(|seen| seen == label) {
        return;
    }
    warned.push(label.to_owned());
    report::warn(format_args!(
        "this process is rank {rank} of a job of {size}, and {label} is checkpointed by it alone: if the ranks compute it together (exchanging data), checkpoint it across them with `comm = world` (CheckpointBuilder::comm, feature `mpi`), or each rank resumes from its own iteration; if each rank does independent work under its own key, all is well"
    ));
}

/// A fingerprint of loop positions, for the ranks to check they stand at
/// the same one.
fn position_hash(position: &[LoopPosition]) -> u64 {
    let words: Vec<u8> = position
        .iter()
        .flat_map(|at| [u64::from(at.loop_id), at.index, at.len.unwrap_or(u64::MAX)])
        .flat_map(u64::to_le_bytes)
        .collect();
    identity::fingerprint(&words)
}

/// A signal as a word the ranks combine (0: none), and back.
fn signal_word(signal: Option<i32>) -> u64 {
    signal.map_or(0, |signal| u64::try_from(signal).unwrap_or(0))
}

fn word_signal(word: u64) -> Option<i32> {
    i32::try_from(word).ok().filter(|&signal| signal != 0)
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

//! The public handle of a run: open by name, `restore`, `sync` in the loop,
//! `save`, `finish`. The `#[checkpointed]` macro drives the same handle.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};
use crate::format::{self, Header, Identity, Limits, LoopPosition};
use crate::identity;
use crate::lock::RunLock;
use crate::options::{OnCodeChange, Options, env_flag};
use crate::policy::{Due, SavePolicy};
use crate::report;
use crate::store::DirStore;

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
}

struct Storage {
    store: DirStore,
    // Held for the life of the run; released when dropped.
    lock: RunLock,
}

/// What a run did with its checkpoints, for the end-of-run summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Saves that reached the disk.
    pub saves: u64,
    /// Saves that failed (and were retried at the next due point).
    pub failed_saves: u64,
    /// Bytes written in all saves.
    pub bytes_written: u64,
    /// Time spent saving.
    pub save_time: Duration,
}

/// A restored checkpoint: the decoded state and where it was saved.
#[derive(Debug)]
pub(crate) struct Restored<S> {
    pub state: S,
    pub header: Header,
    pub path: PathBuf,
}

/// Builds a [`Checkpoint`]; see [`Checkpoint::builder`].
#[derive(Debug, Clone)]
pub struct CheckpointBuilder {
    identity: Identity,
    label: String,
    options: Options,
    code_fingerprint: u64,
    key_error: Option<String>,
}

impl CheckpointBuilder {
    /// The directory for checkpoint files (default `.checkpoints`;
    /// `CHECKPOINT_DIR` overrides it).
    pub fn dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.options.dir = Some(dir.as_ref().to_path_buf());
        self
    }

    /// When saves happen (default: every 30 s).
    pub fn policy(mut self, policy: SavePolicy) -> Self {
        self.options.policy = policy;
        self
    }

    /// Save every `interval` of wall time.
    pub fn every(self, interval: Duration) -> Self {
        self.policy(SavePolicy::every(interval))
    }

    /// Save every `iterations` calls of [`Checkpoint::sync`].
    pub fn every_iters(self, iterations: u64) -> Self {
        self.policy(SavePolicy::every_iters(iterations))
    }

    /// The values that identify this run (e.g. the arguments): runs with
    /// different keys have different checkpoints.
    pub fn key<K: Serialize + ?Sized>(mut self, key: &K) -> Self {
        match identity::fingerprint_of(key) {
            Ok(fingerprint) => self.identity.key_fingerprint = fingerprint,
            Err(err) => self.key_error = Some(err.to_string()),
        }
        self
    }

    /// How many generations to keep on disk (at least 1; default 2).
    pub fn keep(mut self, generations: usize) -> Self {
        self.options.keep = generations.max(1);
        self
    }

    /// The zstd level, or `None` to store the state uncompressed.
    pub fn zstd_level(mut self, level: Option<i32>) -> Self {
        self.options.zstd_level = level;
        self
    }

    /// Keep the last checkpoint when the run finishes (default: remove it).
    pub fn keep_on_success(mut self, keep: bool) -> Self {
        self.options.keep_on_success = keep;
        self
    }

    /// What to do with a checkpoint written by different code.
    pub fn on_code_change(mut self, action: OnCodeChange) -> Self {
        self.options.on_code_change = action;
        self
    }

    /// A fingerprint of the code that writes the checkpoints; a change is
    /// handled as [`CheckpointBuilder::on_code_change`] says.
    pub fn code_fingerprint(mut self, fingerprint: u64) -> Self {
        self.code_fingerprint = fingerprint;
        self
    }

    /// Turn failed saves into errors instead of warnings.
    pub fn strict(mut self, strict: bool) -> Self {
        self.options.strict = strict;
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
    pub(crate) fn file_system(mut self, fs: std::sync::Arc<dyn crate::store::FileSystem>) -> Self {
        self.options.file_system = Some(fs);
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
    pub fn open(self) -> Result<Checkpoint> {
        if let Some(reason) = self.key_error {
            return Err(Error::Encode(reason));
        }
        let disabled = env_flag("CHECKPOINT_DISABLE");
        let mut checkpoint = Checkpoint {
            identity: self.identity,
            label: self.label,
            code_fingerprint: self.code_fingerprint,
            storage: None,
            due: if disabled {
                Due::never()
            } else {
                Due::new(self.options.policy)
            },
            options: self.options,
            fresh: env_flag("CHECKPOINT_FRESH"),
            next_generation: 1,
            save_count: 0,
            started_unix_ms: unix_ms(),
            compute_before_ms: 0,
            opened: Instant::now(),
            stats: Stats::default(),
        };
        if disabled {
            return Ok(checkpoint);
        }
        let dir = checkpoint.options.resolved_dir();
        let stem = identity::file_stem(&checkpoint.identity);
        let wait = checkpoint.options.resolved_wait_for_lock();
        let opened =
            DirStore::open_on(checkpoint.options.file_system(), &dir, &stem).and_then(|store| {
                let lock = if wait {
                    RunLock::wait_for(&dir, &stem)?
                } else {
                    RunLock::acquire(&dir, &stem)?
                };
                store.clean_temp_files();
                let newest = store.list_generations()?.first().map_or(0, |g| g.number);
                Ok((store, lock, newest))
            });
        match opened {
            Ok((store, lock, newest)) => {
                checkpoint.next_generation = newest + 1;
                checkpoint.storage = Some(Storage { store, lock });
                Ok(checkpoint)
            }
            // Another process of this run is alive: going on would compute
            // the same thing twice, and one of them unsaved.
            Err(err @ Error::Locked { .. }) => Err(err),
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
    /// Starts building a run named `name`. The name is the identity of the
    /// run: the same name finds the same checkpoint.
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
    pub fn restore<S: DeserializeOwned>(&mut self) -> Result<Option<S>> {
        let schema = type_schema::<S>();
        Ok(self.load::<S>(schema)?.map(|restored| {
            report::info(format_args!(
                "resumed {} from {} (save {})",
                self.label,
                restored.path.display(),
                restored.header.save_count
            ));
            restored.state
        }))
    }

    /// Saves `state` if a save is due under the run's [`SavePolicy`]; call it
    /// once per iteration. Returns whether it saved. Cheap when not due: a
    /// counter and one relaxed atomic load.
    #[inline]
    pub fn sync<S: Serialize>(&mut self, state: &S) -> Result<bool> {
        if self.due.tick() && self.due.is_due() {
            self.save(state)?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Saves `state` now. A failed save is a warning (the previous checkpoint
    /// stays, and the next due point tries again) unless the run is strict.
    pub fn save<S: Serialize>(&mut self, state: &S) -> Result<()> {
        self.save_at(type_schema::<S>(), &[], state).map(drop)
    }

    /// Ends the run successfully: removes its checkpoints (unless asked to
    /// keep them) and releases the lock.
    pub fn finish(mut self) -> Result<Stats> {
        self.complete()?;
        Ok(self.stats)
    }

    /// Saves that reached the disk in this process.
    pub fn saves(&self) -> u64 {
        self.stats.saves
    }

    /// What this process did with its checkpoints so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Whether checkpoints are actually being written (not disabled, and the
    /// directory was usable).
    pub fn is_active(&self) -> bool {
        self.storage.is_some()
    }

    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    pub(crate) fn complete(&mut self) -> Result<()> {
        if let Some(storage) = self.storage.take() {
            if !self.options.keep_on_success {
                storage.store.remove_all()?;
            }
            storage.lock.remove();
        }
        Ok(())
    }

    /// Finds the newest checkpoint whose identity and schema match, falling
    /// back generation by generation; see [`Checkpoint::restore`].
    pub(crate) fn load<S: DeserializeOwned>(&mut self, schema: u64) -> Result<Option<Restored<S>>> {
        let Some(storage) = &self.storage else {
            return Ok(None);
        };
        let store = &storage.store;
        let generations = store.list_generations()?;
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
        let limits = Limits::default();
        let count = generations.len();
        for (position, generation) in generations.iter().enumerate() {
            let path = &generation.path;
            let fallback = if position + 1 < count {
                "trying the previous generation"
            } else {
                "starting fresh"
            };
            let bytes = match store.read(path) {
                Ok(bytes) => bytes,
                Err(err) => {
                    report::warn(format_args!("{err}; {fallback}"));
                    continue;
                }
            };
            let verdict = match format::decode_file(&bytes, &limits) {
                Err(reason) => Err(format!("it is damaged or not a checkpoint: {reason}")),
                Ok((header, _)) if header.identity != self.identity => Err(format!(
                    "it belongs to another run ({}::{})",
                    header.identity.module_path, header.identity.name
                )),
                Ok((header, _)) if header.schema_fingerprint != schema => {
                    let aside = store.move_aside(path, "stale")?;
                    report::warn(format_args!(
                        "checkpoint {} was written for a different state (its #[state] locals, their types or the loops changed); it is never decoded: moved aside to {}; {fallback}",
                        path.display(),
                        aside.display()
                    ));
                    continue;
                }
                Ok((header, payload)) => {
                    if header.code_fingerprint != self.code_fingerprint {
                        match self.options.on_code_change {
                            OnCodeChange::Resume => report::warn(format_args!(
                                "checkpoint {} was written by a different version of {}'s code (same state schema); resuming",
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
                                continue;
                            }
                            OnCodeChange::Error => {
                                return Err(Error::CodeChanged { path: path.clone() });
                            }
                        }
                    }
                    format::decode_state::<S>(&header, payload, &limits)
                        .map(|state| (header, state))
                        .map_err(|reason| reason.to_string())
                }
            };
            match verdict {
                Ok((header, state)) => {
                    self.save_count = header.save_count;
                    self.started_unix_ms = header.started_unix_ms;
                    self.compute_before_ms = header.compute_ms;
                    return Ok(Some(Restored {
                        state,
                        header,
                        path: path.clone(),
                    }));
                }
                Err(reason) => {
                    let aside = store.move_aside(path, "unusable")?;
                    report::warn(format_args!(
                        "checkpoint {} is unusable: {reason}; moved aside to {}; {fallback}",
                        path.display(),
                        aside.display()
                    ));
                }
            }
        }
        Ok(None)
    }

    /// Writes one generation: the header, then `state` (postcard + zstd).
    /// Returns the file written, or `None` when the save was skipped
    /// (checkpointing off) or failed with a warning.
    pub(crate) fn save_at<V: Serialize + ?Sized>(
        &mut self,
        schema: u64,
        position: &[LoopPosition],
        state: &V,
    ) -> Result<Option<PathBuf>> {
        self.due.restart();
        let Some(storage) = &self.storage else {
            return Ok(None);
        };
        let began = Instant::now();
        let result = (|| {
            let (codec, state_len, payload) = format::encode_state(state, self.options.zstd_level)?;
            let header = Header {
                identity: self.identity.clone(),
                schema_fingerprint: schema,
                code_fingerprint: self.code_fingerprint,
                position: position.to_vec(),
                save_count: self.save_count + 1,
                started_unix_ms: self.started_unix_ms,
                saved_unix_ms: unix_ms(),
                compute_ms: self.compute_before_ms
                    + u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX),
                codec,
                state_len,
            };
            let bytes = format::encode_file(&header, &payload)?;
            let path = storage
                .store
                .write_generation(self.next_generation, &bytes)?;
            Ok::<_, Error>((bytes.len() as u64, path))
        })();
        match result {
            Ok((written, path)) => {
                self.next_generation += 1;
                self.save_count += 1;
                self.stats.saves += 1;
                self.stats.bytes_written += written;
                self.stats.save_time += began.elapsed();
                tracing::debug!(target: "checkpoint", path = %path.display(), bytes = written, "saved");
                if let Err(err) = storage.store.prune(self.options.keep) {
                    report::warn(format_args!("{err}"));
                }
                Ok(Some(path))
            }
            Err(err) => {
                self.stats.failed_saves += 1;
                if self.options.strict {
                    return Err(err);
                }
                report::warn(format_args!(
                    "save of {} failed: {err}; the previous checkpoint is kept, and the next due save tries again",
                    self.label
                ));
                Ok(None)
            }
        }
    }
}

/// The schema fingerprint of a state type used through the macro-free API:
/// its type name (field-level changes of the same type are the user's to
/// version, e.g. by renaming the type).
fn type_schema<S: ?Sized>() -> u64 {
    identity::fingerprint(std::any::type_name::<S>().as_bytes())
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

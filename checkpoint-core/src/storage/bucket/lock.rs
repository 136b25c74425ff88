//! The run lock in a bucket: an object `{stem}.lock`, created only if absent
//! (a conditional PUT, `PutMode::Create`), kept fresh by a heartbeat, and
//! deleted when the run ends.
//!
//! A process that dies (SIGKILL, a lost spot VM) cannot delete it, so a
//! lock also ends when it is abandoned: when its holder ran on this machine
//! and its pid is gone, or when nobody refreshed it for the TTL
//! (`CHECKPOINT_LOCK_TTL` seconds, default 60). Taking over is a
//! compare-and-swap on the abandoned object's version (`PutMode::Update`),
//! so of several processes taking over at once exactly one wins.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion};

use super::Bucket;
use crate::error::{Error, Result};
use crate::machine::{env_flag, hostname};
use crate::report;
use crate::storage::lock::{LOCK_SUFFIX, MAX_HOLDER_LEN};

/// How long a lock may go without a refresh before it counts as
/// abandoned, unless `CHECKPOINT_LOCK_TTL` says otherwise.
pub(crate) const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(60);

/// How often conflicts (another process taking over or releasing at the
/// same moment) are retried before giving up.
const ATTEMPTS: u32 = 5;

/// When a bucket lock held by someone else may be taken.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockRules {
    /// Wait for a live holder to release or abandon the lock, instead of
    /// failing with [`Error::BucketLocked`].
    pub wait: bool,
    /// A lock not refreshed for this long is abandoned.
    pub ttl: Duration,
    /// Take over any lock at once (`CHECKPOINT_BREAK_LOCK=1`): for an
    /// operator who knows its holder is gone.
    pub break_lock: bool,
}

impl LockRules {
    /// The rules in force: `wait` as configured, the TTL from
    /// `CHECKPOINT_LOCK_TTL` (seconds; a bad value is a warning and the
    /// default), `CHECKPOINT_BREAK_LOCK`.
    pub(crate) fn from_env(wait: bool) -> LockRules {
        let ttl = match std::env::var("CHECKPOINT_LOCK_TTL") {
            Err(_) => DEFAULT_LOCK_TTL,
            Ok(text) => match text.trim().trim_end_matches('s').parse::<u64>() {
                Ok(seconds) if seconds > 0 => Duration::from_secs(seconds),
                _ => {
                    report::warn(format_args!(
                        "CHECKPOINT_LOCK_TTL={text:?} is not a positive number of seconds; using {} s",
                        DEFAULT_LOCK_TTL.as_secs()
                    ));
                    DEFAULT_LOCK_TTL
                }
            },
        };
        LockRules {
            wait,
            ttl,
            break_lock: env_flag("CHECKPOINT_BREAK_LOCK"),
        }
    }
}

/// Exclusive ownership of one run's checkpoints in a bucket, until dropped.
#[derive(Debug)]
pub(crate) struct BucketLock {
    bucket: Arc<Bucket>,
    name: String,
    ttl: Duration,
    heartbeat: Option<Heartbeat>,
}

#[derive(Debug)]
struct Heartbeat {
    /// Dropping it stops the thread.
    stop: Sender<()>,
    thread: JoinHandle<()>,
}

/// What the lock object says about its holder, and how old it is.
struct Held {
    holder: Option<String>,
    age: Duration,
    version: UpdateVersion,
}

impl BucketLock {
    /// Takes the lock of run `stem` in `bucket` (see the module
    /// documentation), and starts refreshing it every quarter TTL.
    pub(crate) fn acquire(bucket: Arc<Bucket>, stem: &str, rules: LockRules) -> Result<BucketLock> {
        let name = format!("{stem}{LOCK_SUFFIX}");
        let object = bucket.object(&name);
        let url = bucket.url_of(&name).display().to_string();
        let text = holder_text();
        let mut conflicts = 0;
        let mut announced = false;
        loop {
            let created = bucket.block_on(bucket.store.put_opts(
                &object,
                text.clone(),
                PutOptions::from(PutMode::Create),
            ));
            match created {
                Ok(put) => {
                    let version = UpdateVersion {
                        e_tag: put.e_tag,
                        version: put.version,
                    };
                    return Ok(BucketLock::held(bucket, name, text, version, rules.ttl));
                }
                Err(object_store::Error::AlreadyExists { .. }) => {}
                Err(e) => return Err(Error::bucket("create the lock", &url, e)),
            }
            let held = match read_lock(&bucket, &name, &url)? {
                Some(held) => held,
                // Released since our PUT: try again.
                None => continue,
            };
            if let Some(reason) = abandoned(&held, &rules) {
                let taken = bucket.block_on(bucket.store.put_opts(
                    &object,
                    text.clone(),
                    PutOptions::from(PutMode::Update(held.version)),
                ));
                match taken {
                    Ok(put) => {
                        report::warn(format_args!(
                            "took over the lock {url} from {}: {reason}",
                            describe(held.holder.as_deref())
                        ));
                        let version = UpdateVersion {
                            e_tag: put.e_tag,
                            version: put.version,
                        };
                        return Ok(BucketLock::held(bucket, name, text, version, rules.ttl));
                    }
                    // Someone else took it over or released it first.
                    Err(
                        object_store::Error::Precondition { .. }
                        | object_store::Error::NotFound { .. },
                    ) if conflicts < ATTEMPTS => {
                        conflicts += 1;
                        continue;
                    }
                    Err(e) => return Err(Error::bucket("take over the lock", &url, e)),
                }
            }
            if !rules.wait {
                return Err(Error::BucketLocked {
                    lock_url: url,
                    holder: held.holder,
                    age: held.age,
                    ttl: rules.ttl,
                });
            }
            if !std::mem::replace(&mut announced, true) {
                report::info(format_args!(
                    "{url} is locked by {}; waiting until that process finishes or its lock goes {} s without a refresh (CHECKPOINT_WAIT)",
                    describe(held.holder.as_deref()),
                    rules.ttl.as_secs()
                ));
            }
            std::thread::sleep((rules.ttl / 4).min(Duration::from_secs(2)));
        }
    }

    fn held(
        bucket: Arc<Bucket>,
        name: String,
        text: PutPayload,
        version: UpdateVersion,
        ttl: Duration,
    ) -> BucketLock {
        let heartbeat = Heartbeat::start(Arc::clone(&bucket), name.clone(), text, version, ttl / 4);
        BucketLock {
            bucket,
            name,
            ttl,
            heartbeat,
        }
    }

    /// Deletes the lock object (dropping the lock does the same): the run
    /// is over.
    pub(crate) fn remove(self) {
        drop(self);
    }
}

impl Drop for BucketLock {
    /// Stops the heartbeat and deletes the lock object, unless another
    /// process took it over. Best effort: a lock left behind is abandoned
    /// after the TTL.
    fn drop(&mut self) {
        if let Some(heartbeat) = self.heartbeat.take() {
            drop(heartbeat.stop);
            let _ = heartbeat.thread.join();
        }
        if self.bucket.lost_lock.load(Ordering::SeqCst) {
            return;
        }
        let object = self.bucket.object(&self.name);
        if let Err(err) = self.bucket.block_on(self.bucket.store.delete(&object)) {
            report::warn(format_args!(
                "could not delete the lock {}: {err}; the next run takes it over once it is {} s old",
                self.bucket.url_of(&self.name).display(),
                self.ttl.as_secs()
            ));
        }
    }
}

impl Heartbeat {
    /// Refreshes the lock every `interval`, each time only if it is still
    /// the version this process wrote. Finding it changed means another
    /// process took it over: the bucket is marked lost, and this run
    /// writes nothing more. `None` (and a warning) if no thread can start:
    /// the run keeps its lock until it goes stale.
    fn start(
        bucket: Arc<Bucket>,
        name: String,
        text: PutPayload,
        version: UpdateVersion,
        interval: Duration,
    ) -> Option<Heartbeat> {
        let (stop, stopped) = mpsc::channel::<()>();
        let mut current = version;
        let spawned = std::thread::Builder::new()
            .name("checkpoint-lock".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    let object = bucket.object(&name);
                    let url = bucket.url_of(&name);
                    let refreshed = bucket.block_on(bucket.store.put_opts(
                        &object,
                        text.clone(),
                        PutOptions::from(PutMode::Update(current.clone())),
                    ));
                    match refreshed {
                        Ok(put) => {
                            current = UpdateVersion {
                                e_tag: put.e_tag,
                                version: put.version,
                            };
                        }
                        Err(object_store::Error::Precondition { .. } | object_store::Error::NotFound { .. }) => {
                            bucket.lost_lock.store(true, Ordering::SeqCst);
                            report::warn(format_args!(
                                "lost the lock {}: another process took it over (it looked abandoned, or CHECKPOINT_BREAK_LOCK was set); this run no longer writes checkpoints",
                                url.display()
                            ));
                            return;
                        }
                        // A network hiccup: the next beat tries again, and
                        // the TTL leaves room for a few missed beats.
                        Err(err) => report::warn(format_args!(
                            "could not refresh the lock {}: {err}",
                            url.display()
                        )),
                    }
                }
            });
        match spawned {
            Ok(thread) => Some(Heartbeat { stop, thread }),
            Err(err) => {
                report::warn(format_args!(
                    "could not start the lock heartbeat thread ({err})"
                ));
                None
            }
        }
    }
}

/// The lock object's holder, age and version; `None` if it is gone.
fn read_lock(bucket: &Bucket, name: &str, url: &str) -> Result<Option<Held>> {
    let object = bucket.object(name);
    let read = bucket.block_on(async {
        let got = bucket.store.get(&object).await?;
        let meta = got.meta.clone();
        Ok::<_, object_store::Error>((meta, got.bytes().await?))
    });
    let (meta, bytes) = match read {
        Ok(read) => read,
        Err(object_store::Error::NotFound { .. }) => return Ok(None),
        Err(e) => return Err(Error::bucket("read the lock", url, e)),
    };
    let shown = &bytes[..bytes.len().min(MAX_HOLDER_LEN as usize)];
    let text = String::from_utf8_lossy(shown).trim().to_owned();
    let modified_ms = u64::try_from(meta.last_modified.timestamp_millis()).unwrap_or(0);
    Ok(Some(Held {
        holder: (!text.is_empty()).then_some(text),
        age: Duration::from_millis(unix_ms().saturating_sub(modified_ms)),
        version: UpdateVersion {
            e_tag: meta.e_tag,
            version: meta.version,
        },
    }))
}

/// Why a lock held by someone else may be taken, if it may.
fn abandoned(held: &Held, rules: &LockRules) -> Option<String> {
    if rules.break_lock {
        return Some("CHECKPOINT_BREAK_LOCK is set".to_owned());
    }
    if let Some(pid) = held.holder.as_deref().and_then(dead_on_this_machine) {
        return Some(format!(
            "its process {pid} ran on this machine and has exited"
        ));
    }
    (held.age > rules.ttl).then(|| {
        format!(
            "it was last refreshed {} ago, longer than the {} s TTL (CHECKPOINT_LOCK_TTL)",
            report::duration(held.age),
            rules.ttl.as_secs()
        )
    })
}

/// The holder's pid if it ran on this machine (same host name and boot)
/// and no process has that pid any more. Unknown means alive.
fn dead_on_this_machine(holder: &str) -> Option<u32> {
    let field = |key: &str| {
        holder
            .split_whitespace()
            .find_map(|pair| pair.strip_prefix(key)?.strip_prefix('='))
    };
    let pid: u32 = field("pid")?.parse().ok()?;
    let boot = boot_id()?;
    let same_machine =
        field("host") == Some(hostname().as_str()) && field("boot") == Some(boot.as_str());
    (same_machine && crate::machine::has_exited(pid)).then_some(pid)
}

/// This boot of this machine (Linux); `None` elsewhere, where a holder's
/// pid cannot be checked.
fn boot_id() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|id| id.trim().to_owned())
        .filter(|id| !id.is_empty())
}

/// This process, as written into the lock object.
fn holder_text() -> PutPayload {
    PutPayload::from(format!(
        "pid={} host={} boot={} started_unix_ms={}\n",
        std::process::id(),
        hostname(),
        boot_id().unwrap_or_default(),
        unix_ms()
    ))
}

fn describe(holder: Option<&str>) -> String {
    crate::error::Holder(holder).to_string()
}

fn unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

//! The second half of a save: compress the serialized state, assemble the
//! file, write it durably as the next generation and prune old ones. A run
//! does it either on its own thread or on a writer thread ([`Writer`]), so
//! that the loop pays only for serializing the state.
//!
//! The loop never waits for the writer thread: at most one save is being
//! written and at most one waits its turn. A save handed over while another
//! waits replaces it (the newer state supersedes the older, which is never
//! written), so however often a loop saves, the disk writes the newest
//! state each time it is free. A save counts, and is reported, only once
//! it is durable; flushing, finishing and a signal wait for the newest.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, TryRecvError};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::bytes::format::{self, Codec, Header};
use crate::error::{Error, Result};
use crate::report;
use crate::run::clock;
use crate::run::last_words;
use crate::storage::backend::Store;

/// A serialized state on its way to disk.
pub(crate) struct Job {
    /// The generation number to write.
    pub number: u64,
    /// The header, whose `codec` and `state_len` are filled in here.
    pub header: Header,
    /// The state's postcard bytes, after `room` bytes left for the file's
    /// fixed fields and header (see [`format::room_for`]).
    pub buffer: Vec<u8>,
    pub room: usize,
    pub zstd_level: Option<i32>,
    /// Compress and checksum a large state on every core; see
    /// [`format::compress_state`].
    pub parallel: bool,
    /// Generations to keep after this one is durable.
    pub keep: usize,
    /// Print a line on stderr for this save (no progress bar shows it).
    pub announce: bool,
    /// Report the file's CRC-32 for a commit record (a multi-rank run).
    pub checksum: bool,
}

/// A save that reached the disk.
#[derive(Debug)]
pub(crate) struct Written {
    pub path: PathBuf,
    pub bytes: u64,
    /// The file's own CRC-32 (its last four bytes, over every byte before
    /// them), if the job asked for it: what a commit record names it by.
    pub crc: Option<u32>,
    /// Compressing, writing, fsyncing and pruning.
    pub took: Duration,
    /// The job's buffer, for the next save to serialize into.
    pub buffer: Vec<u8>,
}

/// Writes one generation; see the module documentation.
pub(crate) fn write(store: &Store, job: Job) -> Result<Written> {
    let began = Instant::now();
    let mut header = job.header;
    header.state_len = job.buffer.len().saturating_sub(job.room) as u64;
    // The file is assembled around the payload where it lies: no copy.
    let (mut file, spare) =
        match format::compress_state(&job.buffer, job.room, job.zstd_level, job.parallel)? {
            Some((codec, compressed)) => {
                header.codec = codec;
                (compressed, Some(job.buffer))
            }
            None => {
                header.codec = Codec::Raw;
                (job.buffer, None)
            }
        };
    let start = format::finish_file(&header, &mut file, job.room, job.parallel)?;
    let path = store.write_generation(job.number, &file[start..])?;
    last_words::LAST_WORDS.resumes_from(&path, &header);
    if let Err(err) = store.prune(job.keep) {
        report::warn(format_args!("{err}"));
    }
    let written = Written {
        path,
        bytes: (file.len() - start) as u64,
        crc: job.checksum.then(|| format::file_crc(&file[start..])),
        took: began.elapsed(),
        buffer: spare.unwrap_or(file),
    };
    tracing::info!(
        target: "checkpoint",
        path = %written.path.display(),
        bytes = written.bytes,
        duration_ms = written.took.as_secs_f64() * 1e3,
        save = header.save_count,
        "saved"
    );
    if job.announce && line_allowed() {
        report::info(format_args!(
            "saved {} to {} ({} in {:.1} ms)",
            format::describe_save(&header),
            written.path.display(),
            report::bytes(written.bytes),
            written.took.as_secs_f64() * 1e3
        ));
    }
    Ok(written)
}

/// At most one save line a second, however often saves happen.
fn line_allowed() -> bool {
    static LAST_LINE_MS: AtomicU64 = AtomicU64::new(u64::MAX);
    let now = clock::precise_ms();
    let last = LAST_LINE_MS.load(Ordering::Relaxed);
    if last != u64::MAX && now.saturating_sub(last) < 1000 {
        return false;
    }
    LAST_LINE_MS.store(now, Ordering::Relaxed);
    true
}

/// Saves handed to writer threads and not yet finished, in the process.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// How many saves writer threads are still writing; an exit on a signal
/// waits for them.
pub(crate) fn writes_in_flight() -> usize {
    IN_FLIGHT.load(Ordering::SeqCst)
}

/// A thread that runs [`write`] for one run, one job at a time, taking the
/// newest job handed over ([`Writer::submit`]).
pub(crate) struct Writer {
    shared: Arc<Shared>,
    results: Receiver<Result<Written>>,
    thread: Option<JoinHandle<()>>,
    /// Jobs handed over whose result has not been collected.
    outstanding: usize,
    dead: bool,
}

/// The job waiting for the thread, shared with it.
struct Shared {
    slot: Mutex<Slot>,
    wake: Condvar,
}

#[derive(Default)]
struct Slot {
    waiting: Option<Job>,
    /// The thread is waiting for a job (a hand-over must wake it).
    idle: bool,
    /// No more jobs: the thread ends once the waiting one is written.
    closed: bool,
}

impl Writer {
    pub(crate) fn spawn(store: Arc<Store>) -> std::io::Result<Writer> {
        let shared = Arc::new(Shared {
            slot: Mutex::new(Slot::default()),
            wake: Condvar::new(),
        });
        let (outbox, results) = mpsc::channel();
        let theirs = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("checkpoint-writer".into())
            .spawn(move || {
                while let Some(job) = theirs.next_job() {
                    let written = write(&store, job);
                    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
                    if outbox.send(written).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Writer {
            shared,
            results,
            thread: Some(thread),
            outstanding: 0,
            dead: false,
        })
    }

    /// Hands `job` to the thread without waiting. If a job is still waiting
    /// its turn, `job` replaces it and the older one comes back (its state
    /// is superseded: never written); its buffer can be reused.
    pub(crate) fn submit(&mut self, job: Job) -> Option<Job> {
        let mut slot = self.shared.lock();
        let superseded = slot.waiting.replace(job);
        if superseded.is_none() {
            self.outstanding += 1;
            IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        }
        if slot.idle {
            self.shared.wake.notify_one();
        }
        superseded
    }

    /// The results of the saves that finished since the last call, without
    /// waiting.
    pub(crate) fn finished(&mut self) -> Vec<Result<Written>> {
        self.collect(false)
    }

    /// Waits for every save handed over (the one being written and the one
    /// waiting its turn) and returns how they went, oldest first. A writer
    /// thread that died (a panic) is an error naming the cause, and its
    /// saves count as failed; the next save starts a new thread.
    pub(crate) fn wait(&mut self) -> Vec<Result<Written>> {
        self.collect(true)
    }

    /// The results of the saves handed over, oldest first: all of them,
    /// waiting for each (`wait`), or those already finished.
    fn collect(&mut self, wait: bool) -> Vec<Result<Written>> {
        let mut done = Vec::new();
        while self.outstanding > 0 {
            let next = if wait {
                self.results.recv().map_err(|_| TryRecvError::Disconnected)
            } else {
                self.results.try_recv()
            };
            match next {
                Ok(result) => {
                    self.outstanding -= 1;
                    done.push(result);
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    done.push(Err(self.died()));
                    break;
                }
            }
        }
        done
    }

    /// The thread is gone: its saves are lost, and the cause is the error.
    fn died(&mut self) -> Error {
        IN_FLIGHT.fetch_sub(self.outstanding, Ordering::SeqCst);
        self.outstanding = 0;
        self.dead = true;
        let cause = match self.thread.take().map(JoinHandle::join) {
            Some(Err(panic)) => panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "it panicked".to_owned()),
            _ => "it stopped".to_owned(),
        };
        Error::Writer(cause)
    }

    /// Whether the thread is gone (after a panic): the run needs a new one.
    pub(crate) fn is_dead(&self) -> bool {
        self.dead
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Slot> {
        self.slot.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The next job for the thread; `None` once closed with nothing left.
    fn next_job(&self) -> Option<Job> {
        let mut slot = self.lock();
        loop {
            if let Some(job) = slot.waiting.take() {
                slot.idle = false;
                return Some(job);
            }
            if slot.closed {
                return None;
            }
            slot.idle = true;
            slot = self.wake.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
    }
}

impl Drop for Writer {
    /// Lets the saves handed over complete, then ends the thread.
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use crate::Checkpoint;
    use crate::bytes::format::{self, Limits};
    use crate::storage::store::FileSystem;
    use crate::storage::store::sim::Sim;

    /// The checkpoints go to the simulated disk; the run's lock, to this
    /// real directory of the same path.
    fn run(sim: &Sim, dir: &Path) -> Checkpoint {
        Checkpoint::builder("coalesce")
            .dir(dir)
            .keep_on_success(true)
            .file_system(Arc::new(sim.clone()))
            .open()
            .expect("open")
    }

    /// The state of the newest generation file, on every disk a power
    /// loss now may leave (read directly: the run still holds its lock).
    fn after_a_crash(sim: &Sim, dir: &Path) -> Vec<Option<u64>> {
        sim.after_power_loss()
            .iter()
            .map(|disk| {
                let newest = disk
                    .list(dir)
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|entry| {
                        let name = entry.name.to_str()?.to_owned();
                        let (_, number) = crate::storage::store::split_generation_name(&name)?;
                        Some((number, name))
                    })
                    .max()?;
                let bytes = disk.read(&dir.join(newest.1)).expect("read");
                let limits = Limits::default();
                let (header, payload) = format::decode_file(&bytes, &limits).expect("intact");
                Some(format::decode_state(&header, payload, &limits).expect("decode"))
            })
            .collect()
    }

    /// Opens the held fsyncs when dropped: a failing test must not leave
    /// the writer thread, and the checkpoint's drop, waiting forever.
    struct Release(Sim);

    impl Drop for Release {
        fn drop(&mut self) {
            self.0.release_file_syncs();
        }
    }

    #[test]
    fn a_busy_disk_never_makes_a_save_wait_and_only_durable_saves_count() {
        let sim = Sim::new();
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path();
        let mut checkpoint = run(&sim, dir);
        let release = Release(sim.clone());
        sim.hold_file_syncs();
        checkpoint.save(&1_u64).expect("save");
        // The writer thread is in the fsync of save 1, which cannot end.
        sim.wait_for_held_syncs(1);
        for state in 2..=5_u64 {
            // Returns at once: a held fsync would block it forever otherwise.
            checkpoint.save(&state).expect("save");
        }
        let stats = checkpoint.stats();
        assert_eq!(
            stats.saves, 0,
            "no save is durable yet, so none is counted: {stats:?}"
        );
        assert_eq!(
            stats.superseded, 3,
            "2, 3 and 4 each waited their turn and were replaced by a newer one: {stats:?}"
        );
        assert!(
            after_a_crash(&sim, dir).iter().all(Option::is_none),
            "nothing is durable yet: a crash now resumes from nothing"
        );

        drop(release);
        let newest = checkpoint.flush().expect("flush").expect("saved");
        let stats = checkpoint.stats();
        assert_eq!(stats.saves, 2, "1, then the newest, 5: {stats:?}");
        assert!(
            after_a_crash(&sim, dir)
                .iter()
                .all(|state| *state == Some(5)),
            "flush waited for the newest state to be durable"
        );
        assert!(newest.starts_with(dir));
        checkpoint.finish().expect("finish");
    }

    #[test]
    fn finish_and_drop_wait_for_the_newest_state() {
        for finish in [true, false] {
            let sim = Sim::new();
            let tmp = tempfile::tempdir().expect("tempdir");
            let dir = tmp.path();
            let mut checkpoint = run(&sim, dir);
            let release = Release(sim.clone());
            sim.hold_file_syncs();
            checkpoint.save(&1_u64).expect("save");
            sim.wait_for_held_syncs(1);
            checkpoint.save(&2_u64).expect("save");
            checkpoint.save(&3_u64).expect("save");
            let releaser = std::thread::spawn(move || {
                std::thread::sleep(std::time::Duration::from_millis(50));
                drop(release);
            });
            if finish {
                let stats = checkpoint.finish().expect("finish");
                assert_eq!((stats.saves, stats.superseded), (2, 1), "{stats:?}");
            } else {
                drop(checkpoint);
            }
            releaser.join().expect("releaser");
            assert!(
                after_a_crash(&sim, dir)
                    .iter()
                    .all(|state| *state == Some(3)),
                "{} waits for the newest state to be durable",
                if finish { "finish" } else { "drop" }
            );
        }
    }
}

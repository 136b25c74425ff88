//! The second half of a save: compress the serialized state, assemble the
//! file, write it durably as the next generation and prune old ones. A run
//! does it either on its own thread or on a writer thread ([`Writer`]), so
//! that the loop pays only for serializing the state. At most one save is
//! in flight; the next waits for it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::backend::Store;
use crate::clock;
use crate::error::{Error, Result};
use crate::format::{self, Codec, Header};
use crate::report;
use crate::signals;

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
    /// Compress a large state on every core; see [`format::compress_state`].
    pub zstd_parallel: bool,
    /// Generations to keep after this one is durable.
    pub keep: usize,
    /// Print a line on stderr for this save (no progress bar shows it).
    pub announce: bool,
}

/// A save that reached the disk.
#[derive(Debug)]
pub(crate) struct Written {
    pub path: PathBuf,
    pub bytes: u64,
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
        match format::compress_state(&job.buffer, job.room, job.zstd_level, job.zstd_parallel)? {
            Some((codec, compressed)) => {
                header.codec = codec;
                (compressed, Some(job.buffer))
            }
            None => {
                header.codec = Codec::Raw;
                (job.buffer, None)
            }
        };
    let start = format::finish_file(&header, &mut file, job.room)?;
    let path = store.write_generation(job.number, &file[start..])?;
    signals::LAST_WORDS.resumes_from(&path, &header);
    if let Err(err) = store.prune(job.keep) {
        report::warn(format_args!("{err}"));
    }
    let written = Written {
        path,
        bytes: (file.len() - start) as u64,
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
            report::describe_save(&header),
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

/// A thread that runs [`write`] for one run, one job at a time.
pub(crate) struct Writer {
    jobs: Option<Sender<Job>>,
    results: Receiver<Result<Written>>,
    thread: Option<JoinHandle<()>>,
    in_flight: bool,
}

impl Writer {
    pub(crate) fn spawn(store: Arc<Store>) -> std::io::Result<Writer> {
        let (jobs, inbox) = mpsc::channel::<Job>();
        let (outbox, results) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("checkpoint-writer".into())
            .spawn(move || {
                for job in inbox {
                    let written = write(&store, job);
                    IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
                    if outbox.send(written).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Writer {
            jobs: Some(jobs),
            results,
            thread: Some(thread),
            in_flight: false,
        })
    }

    /// Hands `job` to the thread. Call [`Writer::wait`] first if a save is
    /// in flight. Gives the job back if the thread is gone.
    pub(crate) fn submit(&mut self, job: Job) -> Option<Job> {
        debug_assert!(!self.in_flight, "at most one save in flight");
        let Some(jobs) = &self.jobs else {
            return Some(job);
        };
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        match jobs.send(job) {
            Ok(()) => {
                self.in_flight = true;
                None
            }
            Err(mpsc::SendError(job)) => {
                IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
                Some(job)
            }
        }
    }

    /// Waits for the save in flight, if any, and returns how it went. A
    /// writer thread that died (a panic) is an error naming the cause, and
    /// the save counts as failed; the next save starts a new thread.
    pub(crate) fn wait(&mut self) -> Option<Result<Written>> {
        if !std::mem::take(&mut self.in_flight) {
            return None;
        }
        Some(self.results.recv().unwrap_or_else(|_| {
            IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
            self.jobs = None;
            let cause = match self.thread.take().map(JoinHandle::join) {
                Some(Err(panic)) => panic
                    .downcast_ref::<&str>()
                    .map(|text| (*text).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "it panicked".to_owned()),
                _ => "it stopped".to_owned(),
            };
            Err(Error::Writer(cause))
        }))
    }

    /// Whether the thread is gone (after a panic): the run needs a new one.
    pub(crate) fn is_dead(&self) -> bool {
        self.jobs.is_none()
    }
}

impl Drop for Writer {
    /// Lets the save in flight complete: closing the channel ends the
    /// thread's loop after its current job.
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

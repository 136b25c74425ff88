//! Save-and-exit on the signals schedulers send before they kill a job:
//! SIGINT, SIGTERM and SIGUSR1 by default (SLURM, Kubernetes and spot VMs),
//! configurable per run (`signals = [...]`, or none with `signals = []`).
//!
//! The handler only records the signal and makes the coarse clock fire, so
//! every running loop sees it at its next iteration boundary and saves.
//! The process exits with 128 + signal once every active run that handles
//! it, on every thread, has saved or returned, waiting at most the grace
//! period ([`stop`]). A second SIGINT exits at once (the last good
//! checkpoint stays), printing one line prepared beforehand
//! ([`LastWords`]): which checkpoint a rerun resumes from. A signal no active run asked for does what it would
//! do without this library: its default action, or the handler the
//! program installed before us; an ignored signal stays ignored.

use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGXCPU};
use signal_hook::low_level;

use crate::run::{clock, last_words};

/// The signals a run handles unless told otherwise.
pub(crate) const DEFAULT_SIGNALS: [i32; 3] = [SIGINT, SIGTERM, SIGUSR1];

/// The signals a run may ask to handle, by name.
const KNOWN: [(&str, i32); 6] = [
    ("SIGINT", SIGINT),
    ("SIGTERM", SIGTERM),
    ("SIGUSR1", SIGUSR1),
    ("SIGUSR2", SIGUSR2),
    ("SIGHUP", SIGHUP),
    ("SIGXCPU", SIGXCPU),
];

/// The signal number for a name such as `SIGTERM` or `TERM` (any case).
pub(crate) fn parse(name: &str) -> Result<i32, String> {
    let upper = name.trim().to_ascii_uppercase();
    let full = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    KNOWN
        .iter()
        .find(|(known, _)| *known == full)
        .map(|&(_, number)| number)
        .ok_or_else(|| {
            format!(
                "unknown signal {name:?}; expected some of {}",
                KNOWN.map(|(known, _)| known).join(", ")
            )
        })
}

/// The conventional name of a signal, for messages.
pub(crate) fn name(signal: i32) -> &'static str {
    KNOWN
        .iter()
        .find(|&&(_, number)| number == signal)
        .map_or("a signal", |&(known, _)| known)
}

/// The first signal received while a run wanted it, or 0.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// For each signal number, how many active runs want it.
static WANTED: [AtomicUsize; 32] = [const { AtomicUsize::new(0) }; 32];

/// Signals whose handler is installed, as a bit mask.
static INSTALLED: AtomicU64 = AtomicU64::new(0);

/// Signals whose disposition was the default action before we installed
/// ours: with no run wanting them, we carry out that default action. Any
/// other handler the program had is called by signal-hook itself.
static WAS_DEFAULT: AtomicU64 = AtomicU64::new(0);

/// One active run, as [`stop`] sees it.
struct Entry {
    id: u64,
    thread: ThreadId,
    signals: Vec<i32>,
    /// It saved on the signal (or is a caller of a run that did).
    settled: bool,
}

static RUNS: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
static RUNS_CHANGED: Condvar = Condvar::new();
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn runs() -> MutexGuard<'static, Vec<Entry>> {
    RUNS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Marks a run active for as long as the guard lives, installing the
/// handlers it asks for on first use.
pub(crate) struct ActiveRun {
    id: u64,
    signals: Vec<i32>,
}

impl ActiveRun {
    pub(crate) fn begin(signals: &[i32]) -> ActiveRun {
        // The claim comes before the handler, so that a signal arriving the
        // moment the handler is in place is already this run's to honour.
        let signals: Vec<i32> = signals
            .iter()
            .copied()
            .filter(|&signal| {
                WANTED[slot(signal)].fetch_add(1, Ordering::SeqCst);
                let installed = install(signal);
                if !installed {
                    WANTED[slot(signal)].fetch_sub(1, Ordering::SeqCst);
                }
                installed
            })
            .collect();
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        runs().push(Entry {
            id,
            thread: std::thread::current().id(),
            signals: signals.clone(),
            settled: false,
        });
        ActiveRun { id, signals }
    }

    /// Whether this run handles `signal`.
    pub(crate) fn wants(&self, signal: i32) -> bool {
        self.signals.contains(&signal)
    }
}

impl Drop for ActiveRun {
    /// Ends the run's claim on its signals. A signal that came while it
    /// was active and that no remaining run will honour is honoured here:
    /// the process exits with 128 + signal, as it would have at once
    /// without this library (the run's checkpoint, if any, stays).
    fn drop(&mut self) {
        for &signal in &self.signals {
            WANTED[slot(signal)].fetch_sub(1, Ordering::SeqCst);
        }
        let mut runs = runs();
        runs.retain(|entry| entry.id != self.id);
        RUNS_CHANGED.notify_all();
        drop(runs);
        if let Some(signal) = pending()
            && self.wants(signal)
            && WANTED[slot(signal)].load(Ordering::SeqCst) == 0
        {
            crate::report::info(format_args!(
                "exiting on {} now that the last run that handles it has ended",
                name(signal)
            ));
            std::process::exit(128 + signal);
        }
    }
}

fn slot(signal: i32) -> usize {
    usize::try_from(signal).unwrap_or(0) % 32
}

/// Installs the handler for `signal` once per process; false when the
/// signal cannot be used (it was ignored, or registering failed).
fn install(signal: i32) -> bool {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let bit = 1u64 << slot(signal);
    if INSTALLED.load(Ordering::SeqCst) & bit != 0 {
        return true;
    }
    let _guard = INSTALLING.lock().unwrap_or_else(PoisonError::into_inner);
    if INSTALLED.load(Ordering::SeqCst) & bit != 0 {
        return true;
    }
    match disposition(signal) {
        // Ignored on purpose (`trap '' TERM`, `nohup`): leave it so.
        Some(libc::SIG_IGN) => return false,
        Some(libc::SIG_DFL) => {
            WAS_DEFAULT.fetch_or(bit, Ordering::SeqCst);
        }
        _ => {}
    }
    // SAFETY: `on_signal` is async-signal-safe: atomics, and signal-hook's
    // `exit` / `emulate_default_handler`, which are documented as safe to
    // call from a handler.
    let registered = unsafe { low_level::register(signal, move || on_signal(signal)) };
    match registered {
        Ok(_) => {
            INSTALLED.fetch_or(bit, Ordering::SeqCst);
            true
        }
        Err(err) => {
            crate::report::warn(format_args!(
                "could not handle signal {}: {err}; it will end the run without a save",
                name(signal)
            ));
            false
        }
    }
}

/// The current handler of `signal` (`SIG_DFL`, `SIG_IGN` or a function),
/// or `None` if it cannot be read.
fn disposition(signal: i32) -> Option<libc::sighandler_t> {
    // SAFETY: sigaction with a null new action only reads the current one
    // into `old`, a properly sized, zeroed struct.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        (libc::sigaction(signal, std::ptr::null(), &raw mut old) == 0).then_some(old.sa_sigaction)
    }
}

fn on_signal(signal: i32) {
    let bit = 1u64 << slot(signal);
    if WANTED[slot(signal)].load(Ordering::SeqCst) == 0 {
        // No active run wants it: behave as if we were not here. A handler
        // the program installed before us is called by signal-hook.
        if WAS_DEFAULT.load(Ordering::SeqCst) & bit != 0
            && low_level::emulate_default_handler(signal).is_err()
        {
            low_level::exit(128 + signal);
        }
        return;
    }
    let previous = PENDING.swap(signal, Ordering::SeqCst);
    if previous == SIGINT && signal == SIGINT {
        // Ctrl-C twice: the user does not want to wait for the save.
        last_words::LAST_WORDS.write_to_stderr();
        low_level::exit(128 + SIGINT);
    }
    clock::fire();
}

/// The signal waiting to be honoured, if any.
pub(crate) fn pending() -> Option<i32> {
    match PENDING.load(Ordering::SeqCst) {
        0 => None,
        signal => Some(signal),
    }
}

/// Ends the process with 128 + `signal` once every other active run that
/// handles it has saved or returned, waiting at most `grace` for them, and
/// once no save is in flight on a writer thread.
///
/// The run `own` and every run on this thread count as settled: the
/// innermost saved, and the outer ones resume around it.
pub(crate) fn stop(signal: i32, own: &ActiveRun, grace: Duration) -> ! {
    STOPPING.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + grace;
    let this_thread = std::thread::current().id();
    let mut runs = runs();
    for entry in runs.iter_mut() {
        if entry.id == own.id || entry.thread == this_thread {
            entry.settled = true;
        }
    }
    RUNS_CHANGED.notify_all();
    loop {
        let waiting = runs
            .iter()
            .filter(|entry| !entry.settled && entry.signals.contains(&signal))
            .count();
        if waiting == 0 {
            break;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            crate::report::warn(format_args!(
                "{waiting} other checkpointed run(s) did not reach a save point within the {:.1} s grace period; exiting without their last progress",
                grace.as_secs_f64()
            ));
            break;
        }
        runs = RUNS_CHANGED
            .wait_timeout(runs, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    drop(runs);
    // An outer run on this thread may still be writing its last save.
    while crate::run::writer::writes_in_flight() > 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1));
    }
    exit_after_signal(signal);
}

/// A run is honouring a signal ([`stop`] is under way): the watchdog leaves
/// the exit to it.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Whether a run is honouring a signal.
pub(crate) fn stopping() -> bool {
    STOPPING.load(Ordering::SeqCst)
}

/// Exits with 128 + `signal`, once: a second thread that gets here (the
/// watchdog and a run at the same moment) waits for the first one's exit.
pub(crate) fn exit_after_signal(signal: i32) -> ! {
    static EXITING: AtomicBool = AtomicBool::new(false);
    if EXITING.swap(true, Ordering::SeqCst) {
        loop {
            std::thread::park();
        }
    }
    std::process::exit(128 + signal);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_names_parse_with_or_without_the_prefix() {
        assert_eq!(parse("SIGTERM").unwrap(), SIGTERM);
        assert_eq!(parse("usr1").unwrap(), SIGUSR1);
        assert_eq!(parse(" Hup ").unwrap(), SIGHUP);
        let err = parse("SIGKILL").unwrap_err();
        assert!(err.contains("SIGKILL") && err.contains("SIGTERM"), "{err}");
        assert_eq!(name(SIGUSR2), "SIGUSR2");
    }
}

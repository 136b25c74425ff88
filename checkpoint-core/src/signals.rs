//! Save-and-exit on the signals schedulers send before they kill a job:
//! SIGINT, SIGTERM and SIGUSR1 by default (SLURM, Kubernetes and spot VMs),
//! configurable per run (`signals = [...]`, or none with `signals = []`).
//!
//! The handler only records the signal and makes the coarse clock fire, so
//! every running loop sees it at its next iteration boundary and saves.
//! The process exits with 128 + signal once every active run on every
//! thread has saved or returned ([`stop`]). A second SIGINT exits at once
//! (the last good checkpoint stays). A signal no active run asked for does
//! what it would do without this library.

use std::cell::Cell;
use std::sync::atomic::{AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGXCPU};
use signal_hook::low_level;

use crate::clock;

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

/// Active runs that have neither saved on a signal nor returned.
static UNSETTLED: Mutex<usize> = Mutex::new(0);
static SETTLED: Condvar = Condvar::new();

thread_local! {
    /// Active runs on this thread (nested checkpointed calls).
    static ON_THREAD: Cell<usize> = const { Cell::new(0) };
}

/// Marks a run active for as long as the guard lives, installing the
/// handlers it asks for on first use.
pub(crate) struct ActiveRun {
    signals: Vec<i32>,
}

impl ActiveRun {
    pub(crate) fn begin(signals: &[i32]) -> ActiveRun {
        for &signal in signals {
            install(signal);
            WANTED[slot(signal)].fetch_add(1, Ordering::SeqCst);
        }
        *lock_unsettled() += 1;
        ON_THREAD.with(|count| count.set(count.get() + 1));
        ActiveRun {
            signals: signals.to_vec(),
        }
    }
}

impl Drop for ActiveRun {
    fn drop(&mut self) {
        for &signal in &self.signals {
            WANTED[slot(signal)].fetch_sub(1, Ordering::SeqCst);
        }
        let settled_here = ON_THREAD.with(|count| {
            let was = count.get();
            count.set(was.saturating_sub(1));
            was == 0
        });
        if !settled_here {
            let mut unsettled = lock_unsettled();
            *unsettled = unsettled.saturating_sub(1);
            SETTLED.notify_all();
        }
    }
}

fn slot(signal: i32) -> usize {
    usize::try_from(signal).unwrap_or(0) % 32
}

fn lock_unsettled() -> std::sync::MutexGuard<'static, usize> {
    UNSETTLED
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn install(signal: i32) {
    static INSTALLING: Mutex<()> = Mutex::new(());
    let bit = 1u64 << slot(signal);
    if INSTALLED.load(Ordering::SeqCst) & bit != 0 {
        return;
    }
    let _guard = INSTALLING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if INSTALLED.load(Ordering::SeqCst) & bit != 0 {
        return;
    }
    // SAFETY: `on_signal` is async-signal-safe: atomics, and signal-hook's
    // `exit` / `emulate_default_handler`, which are documented as safe to
    // call from a handler.
    let registered = unsafe { low_level::register(signal, move || on_signal(signal)) };
    match registered {
        Ok(_) => {
            INSTALLED.fetch_or(bit, Ordering::SeqCst);
        }
        Err(err) => crate::report::warn(format_args!(
            "could not handle signal {}: {err}; it will end the run without a save",
            name(signal)
        )),
    }
}

fn on_signal(signal: i32) {
    if WANTED[slot(signal)].load(Ordering::SeqCst) == 0 {
        // No active run asked for it: behave as if we were not here.
        if low_level::emulate_default_handler(signal).is_err() {
            low_level::exit(128 + signal);
        }
        return;
    }
    let previous = PENDING.swap(signal, Ordering::SeqCst);
    if previous == SIGINT && signal == SIGINT {
        // Ctrl-C twice: the user does not want to wait for the save.
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

/// Ends the process with 128 + `signal` once every active run has saved or
/// returned. The runs on this thread (nested calls) count as settled: the
/// innermost saved, and the outer ones resume around it. Runs on other
/// threads are waited for: each saves at its next iteration boundary.
pub(crate) fn stop(signal: i32) -> ! {
    let on_thread = ON_THREAD.with(|count| count.replace(0));
    let mut unsettled = lock_unsettled();
    *unsettled = unsettled.saturating_sub(on_thread);
    SETTLED.notify_all();
    while *unsettled > 0 {
        unsettled = SETTLED
            .wait(unsettled)
            .unwrap_or_else(std::sync::PoisonError::into_inner);
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

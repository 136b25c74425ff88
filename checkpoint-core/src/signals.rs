//! Save-and-exit on SIGINT, SIGTERM and SIGUSR1 (what SLURM, Kubernetes and
//! spot VMs send before they kill a job).
//!
//! The handler only records the signal and makes the coarse clock fire, so
//! the running loop sees it at its next iteration boundary, saves, and
//! exits with 128 + signal. A second SIGINT exits at once (the last good
//! checkpoint stays). When no checkpointed run is active, a signal does
//! what it would do without this library.

use std::sync::Once;
use std::sync::atomic::{AtomicI32, AtomicUsize, Ordering};

use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
use signal_hook::low_level;

use crate::clock;

/// The signals that make a run save and exit.
pub(crate) const HANDLED: [i32; 3] = [SIGINT, SIGTERM, SIGUSR1];

/// The first signal received while a run was active, or 0.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// How many checkpointed runs are active in this process.
static ACTIVE: AtomicUsize = AtomicUsize::new(0);

/// Marks a run active for as long as the guard lives, installing the
/// handlers on first use.
pub(crate) struct ActiveRun(());

impl ActiveRun {
    pub(crate) fn begin() -> ActiveRun {
        static INSTALL: Once = Once::new();
        INSTALL.call_once(|| {
            for signal in HANDLED {
                // SAFETY: `on_signal` is async-signal-safe: atomics, and
                // signal-hook's `exit` / `emulate_default_handler`, which are
                // documented as safe to call from a handler.
                let registered = unsafe { low_level::register(signal, move || on_signal(signal)) };
                if let Err(err) = registered {
                    crate::report::warn(format_args!(
                        "could not handle signal {}: {err}; it will end the run without a save",
                        name(signal)
                    ));
                }
            }
        });
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        ActiveRun(())
    }
}

impl Drop for ActiveRun {
    fn drop(&mut self) {
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

fn on_signal(signal: i32) {
    if ACTIVE.load(Ordering::SeqCst) == 0 {
        // Nobody to save: behave as if we were not here.
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

/// The conventional name of a signal, for messages.
pub(crate) fn name(signal: i32) -> &'static str {
    match signal {
        SIGINT => "SIGINT",
        SIGTERM => "SIGTERM",
        SIGUSR1 => "SIGUSR1",
        _ => "a signal",
    }
}

//! A thread that watches the runs from outside their loops: it warns while
//! an iteration outlasts the grace period (naming its loop), and ends the
//! process with 128 + signal when a signal cannot reach a save point
//! within the grace period, so that a stuck iteration never leaves a job
//! that ignores SIGTERM until the scheduler's SIGKILL.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use crate::report;
use crate::run::{clock, signals};

/// How often the watchdog looks.
const LOOK: Duration = Duration::from_millis(20);

/// No loop is running (`began_ms`, `loop_id`).
const NONE_MS: u64 = u64::MAX;
const NO_LOOP: u32 = u32::MAX;

/// What the watchdog can see of one run. The run's own thread writes it with
/// relaxed stores only: the same instructions as a plain `Cell`.
#[derive(Debug)]
pub(crate) struct Watched {
    /// When the running iteration began (coarse milliseconds), or `NONE_MS`
    /// outside the run's save-point loops.
    began_ms: AtomicU64,
    /// The innermost save-point loop running, or `NO_LOOP`.
    loop_id: AtomicU32,
    grace_ms: u64,
    /// Set when registered: what the messages call the run.
    about: OnceLock<About>,
    warned: AtomicBool,
}

#[derive(Debug)]
struct About {
    label: String,
    /// The loops' headers and enclosing loops, by loop id.
    titles: &'static [&'static str],
    parents: &'static [u32],
    /// Iterations are marked (the macro's loops); the explicit API only
    /// counts for the signal deadline.
    iterations: bool,
}

impl Watched {
    pub(crate) fn new(grace: Duration) -> Arc<Watched> {
        Arc::new(Watched {
            began_ms: AtomicU64::new(NONE_MS),
            loop_id: AtomicU32::new(NO_LOOP),
            grace_ms: u64::try_from(grace.as_millis()).unwrap_or(u64::MAX),
            about: OnceLock::new(),
            warned: AtomicBool::new(false),
        })
    }

    /// When the running iteration began, and from now on: `now`.
    #[inline(always)]
    pub(crate) fn next_iteration(&self, now: u64) -> u64 {
        let began = self.began_ms.load(Ordering::Relaxed);
        self.began_ms.store(now, Ordering::Relaxed);
        began
    }

    /// The running iteration begins again at `now` (after the slow path).
    pub(crate) fn restart_iteration(&self, now: u64) {
        self.began_ms.store(now, Ordering::Relaxed);
    }

    /// A save-point loop `id` starts; returns the loop it runs inside.
    pub(crate) fn enter_loop(&self, id: u32) -> u32 {
        self.began_ms.store(clock::now_ms(), Ordering::Relaxed);
        self.loop_id.swap(id, Ordering::Relaxed)
    }

    /// True the first time a grace warning is due for this run (from the
    /// watchdog, or from the run when a slow iteration or save ends): one
    /// warning per run.
    pub(crate) fn claim_warning(&self) -> bool {
        !self.warned.swap(true, Ordering::Relaxed)
    }

    /// The loop ended: back in the iteration of `outer`, or out of the loops.
    pub(crate) fn leave_loop(&self, outer: u32) {
        self.loop_id.store(outer, Ordering::Relaxed);
        if outer == NO_LOOP {
            self.began_ms.store(NONE_MS, Ordering::Relaxed);
        }
    }
}

static WATCHED: Mutex<Vec<Weak<Watched>>> = Mutex::new(Vec::new());

/// Starts watching `watched`, a checkpointed function called `label`
/// whose loops have these headers and enclosing loops.
pub(crate) fn watch(
    watched: &Arc<Watched>,
    label: &str,
    titles: &'static [&'static str],
    parents: &'static [u32],
) {
    register(
        watched,
        About {
            label: label.to_owned(),
            titles,
            parents,
            iterations: true,
        },
    );
}

/// Starts watching a run of the explicit API for the signal deadline: its
/// loops are the caller's, unmarked.
/// This process is a rank other than 0 of a multi-rank run: rank 0 says
/// what the job does, so the "got SIGTERM" line is not printed here.
static SECOND_RANK: AtomicBool = AtomicBool::new(false);

/// See [`SECOND_RANK`].
pub(crate) fn quiet_rank() {
    SECOND_RANK.store(true, Ordering::Relaxed);
}

pub(crate) fn watch_signals_only(watched: &Arc<Watched>, label: &str) {
    register(
        watched,
        About {
            label: label.to_owned(),
            titles: &[],
            parents: &[],
            iterations: false,
        },
    );
}

fn register(watched: &Arc<Watched>, about: About) {
    if watched.about.set(about).is_err() {
        return;
    }
    let mut all = WATCHED.lock().unwrap_or_else(PoisonError::into_inner);
    all.retain(|entry| entry.strong_count() > 0);
    all.push(Arc::downgrade(watched));
    drop(all);
    start();
}

fn start() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        clock::start();
        let spawned = std::thread::Builder::new()
            .name("checkpoint-watchdog".into())
            .spawn(|| {
                let mut signal = SignalSeen::default();
                loop {
                    std::thread::sleep(LOOK);
                    look(&mut signal);
                }
            });
        if let Err(err) = spawned {
            report::warn(format_args!(
                "could not start the watchdog thread ({err}): a stuck iteration is warned about only when it ends, and a signal waits for the next save point"
            ));
        }
    });
}

/// A signal the runs are honouring, as the watchdog saw it.
#[derive(Default)]
struct SignalSeen {
    /// When the watchdog first saw it pending.
    at_ms: Option<u64>,
    /// The line saying the runs finish their iteration first was printed.
    announced: bool,
}

/// How long a signal waits for a save point before the watchdog says so.
const ANNOUNCE_AFTER_MS: u64 = 1000;

fn look(seen_signal: &mut SignalSeen) {
    let now = clock::precise_ms();
    let watched: Vec<Arc<Watched>> = WATCHED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for run in &watched {
        warn_if_stuck(run, now);
    }
    let Some(signal) = signals::pending() else {
        return;
    };
    let seen = *seen_signal.at_ms.get_or_insert(now);
    let mut labels: Vec<String> = watched
        .iter()
        .filter_map(|run| run.about.get())
        .map(|about| about.label.clone())
        .collect();
    labels.sort();
    labels.dedup();
    let running = if labels.is_empty() {
        "the program".to_owned()
    } else {
        labels.join(", ")
    };
    if !seen_signal.announced
        && now.saturating_sub(seen) > ANNOUNCE_AFTER_MS
        && !signals::stopping()
    {
        // A long iteration: the stop line is still to come.
        seen_signal.announced = true;
        let again = if signal == libc::SIGINT {
            " (Ctrl-C again stops at once, without saving)"
        } else {
            ""
        };
        if !SECOND_RANK.load(Ordering::Relaxed) {
            report::info(format_args!(
                "{running} got {}: it saves at the end of the current iteration, then exits{again}",
                signals::name(signal)
            ));
        }
    }
    let grace = watched
        .iter()
        .map(|run| run.grace_ms)
        .max()
        .unwrap_or_else(|| u64::try_from(crate::DEFAULT_GRACE.as_millis()).unwrap_or(u64::MAX));
    if now.saturating_sub(seen) <= grace || signals::stopping() {
        return;
    }
    report::error(format_args!(
        "{running} reached no save point within the {:.1} s grace period after {}: exiting with {} without saving the iterations in progress; a rerun resumes from the last checkpoint written before, if any",
        Duration::from_millis(grace).as_secs_f64(),
        signals::name(signal),
        128 + signal
    ));
    signals::exit_after_signal(signal);
}

/// Warns once when the iteration running now is longer than the grace
/// period: a signal during it would not be honoured in time.
fn warn_if_stuck(run: &Watched, now: u64) {
    let Some(about) = run.about.get() else {
        return;
    };
    let began = run.began_ms.load(Ordering::Relaxed);
    if !about.iterations
        || began == NONE_MS
        || now.saturating_sub(began) <= run.grace_ms
        || !run.claim_warning()
    {
        return;
    }
    let id = run.loop_id.load(Ordering::Relaxed);
    let ran = Duration::from_millis(now.saturating_sub(began));
    report::warn(format_args!(
        "{}",
        stuck_message(about, id, ran, Duration::from_millis(run.grace_ms))
    ));
}

/// The warning for an iteration of loop `id` running for `ran`: it names
/// the loop and the loops directly inside it, one of which could save.
fn stuck_message(about: &About, id: u32, ran: Duration, grace: Duration) -> String {
    let place = match about.titles.get(id as usize) {
        Some(title) => format!("of the loop `{title}` "),
        None => String::new(),
    };
    let inner: Vec<String> = about
        .parents
        .iter()
        .enumerate()
        .filter(|&(_, &parent)| parent == id)
        .filter_map(|(child, _)| about.titles.get(child))
        .map(|title| format!("`{title}`"))
        .collect();
    let advice = if inner.is_empty() {
        "make the iteration shorter, or split it with an inner loop marked #[checkpoint(save)]"
            .to_owned()
    } else {
        format!(
            "mark an inner loop #[checkpoint(save)] ({}) so it saves within the iteration",
            inner.join(", ")
        )
    };
    format!(
        "an iteration {place}in {} has been running for {:.1} s, longer than the {:.1} s grace period schedulers give after SIGTERM: a signal now would not reach a save point in time; {advice}, or raise `grace` if your scheduler waits longer",
        about.label,
        ran.as_secs_f64(),
        grace.as_secs_f64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_names_the_loop_and_the_loops_inside_it() {
        let about = About {
            label: "train".to_owned(),
            titles: &[
                "for epoch in 0..epochs",
                "for batch in batches",
                "for k in 0..4",
                "for x in &out",
            ],
            parents: &[u32::MAX, 0, 1, u32::MAX],
            iterations: true,
        };
        let message = stuck_message(&about, 0, Duration::from_secs(40), Duration::from_secs(25));
        assert!(
            message.contains("of the loop `for epoch in 0..epochs` in train"),
            "{message}"
        );
        assert!(
            message.contains("running for 40.0 s") && message.contains("25.0 s grace"),
            "{message}"
        );
        // Only the loop directly inside is offered.
        assert!(message.contains("(`for batch in batches`)"), "{message}");
        assert!(
            !message.contains("for k in") && !message.contains("for x in"),
            "{message}"
        );
        let leaf = stuck_message(&about, 2, Duration::from_secs(40), Duration::from_secs(25));
        assert!(leaf.contains("split it with an inner loop"), "{leaf}");
    }
}

//! When a save is due: after a number of iterations, after a span of time,
//! or whichever comes first. The check in the hot loop is a counter
//! compare and one relaxed atomic load (see [`crate::clock`]).

use std::cell::Cell;
use std::time::Duration;

use crate::clock;

/// The interval used when neither `every` nor `every_iters` is given.
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30);

/// How often a run saves.
///
/// ```
/// use checkpoint_core::SavePolicy;
/// use std::time::Duration;
///
/// let policy = SavePolicy::every(Duration::from_secs(60)).and_every_iters(10_000);
/// assert_eq!(policy.interval(), Some(Duration::from_secs(60)));
/// assert_eq!(policy.iterations(), Some(10_000));
/// assert_eq!(SavePolicy::default().interval(), Some(Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SavePolicy {
    every: Option<Duration>,
    every_iters: Option<u64>,
}

impl Default for SavePolicy {
    /// Every 30 seconds of wall time.
    fn default() -> Self {
        SavePolicy::every(DEFAULT_EVERY)
    }
}

impl SavePolicy {
    /// Save when this much time has passed since the last save.
    pub fn every(interval: Duration) -> SavePolicy {
        SavePolicy {
            every: Some(interval),
            every_iters: None,
        }
    }

    /// Save after this many loop iterations (at least 1).
    pub fn every_iters(iterations: u64) -> SavePolicy {
        SavePolicy {
            every: None,
            every_iters: Some(iterations.max(1)),
        }
    }

    /// Also save after this many iterations, whichever comes first.
    pub fn and_every_iters(self, iterations: u64) -> SavePolicy {
        SavePolicy {
            every_iters: Some(iterations.max(1)),
            ..self
        }
    }

    /// Also save when this much time has passed, whichever comes first.
    pub fn and_every(self, interval: Duration) -> SavePolicy {
        SavePolicy {
            every: Some(interval),
            ..self
        }
    }

    /// The time interval, if saving by time.
    pub fn interval(&self) -> Option<Duration> {
        self.every
    }

    /// The iteration interval, if saving by iterations.
    pub fn iterations(&self) -> Option<u64> {
        self.every_iters
    }
}

/// The hot-loop side of a [`SavePolicy`]: counts iterations and compares
/// the coarse clock with the next deadline. Interior mutability lets nested
/// loops share it through `&`.
#[derive(Debug)]
pub(crate) struct Due {
    since_save: Cell<u64>,
    iteration_limit: u64,
    deadline_ms: Cell<u64>,
    interval_ms: Option<u64>,
}

impl Due {
    pub(crate) fn new(policy: SavePolicy) -> Due {
        clock::start();
        let interval_ms = policy
            .every
            .map(|every| u64::try_from(every.as_millis()).unwrap_or(u64::MAX));
        let due = Due {
            since_save: Cell::new(0),
            iteration_limit: policy.every_iters.unwrap_or(u64::MAX),
            deadline_ms: Cell::new(u64::MAX),
            interval_ms,
        };
        due.restart();
        due
    }

    /// A policy that never fires (checkpointing disabled).
    pub(crate) fn never() -> Due {
        Due {
            since_save: Cell::new(0),
            iteration_limit: u64::MAX,
            deadline_ms: Cell::new(u64::MAX),
            interval_ms: None,
        }
    }

    /// Counts one iteration and says whether the slow path should run: a
    /// save may be due, or a signal arrived. May fire early (the slow path
    /// decides), never late by more than a clock tick.
    #[inline(always)]
    pub(crate) fn tick(&self) -> bool {
        let since = self.since_save.get() + 1;
        self.since_save.set(since);
        since >= self.iteration_limit || clock::now_ms() >= self.deadline_ms.get()
    }

    /// Whether a save is really due, measured with the precise clock.
    pub(crate) fn is_due(&self) -> bool {
        self.since_save.get() >= self.iteration_limit
            || clock::precise_ms() >= self.deadline_ms.get()
    }

    /// Starts a new interval: called after every save attempt, successful or not,
    /// so that a failing disk is retried at the next due point, not every iteration.
    pub(crate) fn restart(&self) {
        self.since_save.set(0);
        let deadline = match self.interval_ms {
            Some(interval) => clock::precise_ms().saturating_add(interval),
            None => u64::MAX,
        };
        self.deadline_ms.set(deadline);
    }
}

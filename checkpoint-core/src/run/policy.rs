//! When a save is due: after a number of iterations, after a span of time,
//! whichever comes first, or at the interval Daly's formula gives for the
//! measured cost of a save and the mean time between failures. The check in
//! the hot loop is a counter compare and one relaxed atomic load (see
//! [`crate::run::clock`]); the system clock is read only on the slow path.

use std::cell::Cell;
use std::hint::select_unpredictable;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::report;
use crate::run::clock;
use crate::run::watchdog::Watched;

/// The interval used when neither `every` nor `every_iters` is given.
///
/// ```
/// assert_eq!(checkpoint_core::SavePolicy::default().interval(), Some(checkpoint_core::DEFAULT_EVERY));
/// ```
pub const DEFAULT_EVERY: Duration = Duration::from_secs(30);

/// The mean time between failures assumed by `every = "auto"` when no
/// `mtbf` is given.
///
/// ```
/// assert_eq!(checkpoint_core::DEFAULT_MTBF.as_secs(), 86_400);
/// ```
pub const DEFAULT_MTBF: Duration = Duration::from_secs(24 * 3600);

/// The shortest interval `every = "auto"` chooses, however cheap saves are.
///
/// ```
/// use checkpoint_core::{AUTO_MIN_INTERVAL, DEFAULT_MTBF, auto_interval};
/// assert_eq!(auto_interval(std::time::Duration::ZERO, DEFAULT_MTBF), AUTO_MIN_INTERVAL);
/// ```
pub const AUTO_MIN_INTERVAL: Duration = Duration::from_secs(1);

/// How long schedulers wait between SIGTERM and SIGKILL by default
/// (Kubernetes gives 30 s, SLURM's KillWait is 30 s), minus a margin: an
/// iteration longer than this cannot be saved in time after a signal.
///
/// ```
/// assert!(checkpoint_core::DEFAULT_GRACE < std::time::Duration::from_secs(30));
/// ```
pub const DEFAULT_GRACE: Duration = Duration::from_secs(25);

/// The optimal interval between checkpoints by Daly's higher-order formula
/// ("A higher order estimate of the optimum checkpoint interval for restart
/// dumps", 2006): for a save that costs `cost` (δ) and a mean time between
/// failures `mtbf` (M),
/// τ = √(2δM)·[1 + ⅓·√(δ/2M) + ⅑·(δ/2M)] − δ when δ < 2M, else M.
///
/// ```
/// use checkpoint_core::daly_interval;
/// use std::time::Duration;
///
/// // A 10 s save with a failure a day on average: save about every 22 minutes.
/// let tau = daly_interval(Duration::from_secs(10), Duration::from_secs(86_400));
/// assert_eq!(tau.as_secs(), 1_307);
/// // A save that costs more than twice the MTBF: once per MTBF.
/// let mtbf = Duration::from_secs(60);
/// assert_eq!(daly_interval(Duration::from_secs(200), mtbf), mtbf);
/// ```
pub fn daly_interval(cost: Duration, mtbf: Duration) -> Duration {
    let delta = cost.as_secs_f64();
    let m = mtbf.as_secs_f64();
    if delta >= 2.0 * m {
        return mtbf;
    }
    let ratio = delta / (2.0 * m);
    let tau = (2.0 * delta * m).sqrt() * (1.0 + ratio.sqrt() / 3.0 + ratio / 9.0) - delta;
    Duration::from_secs_f64(tau.max(0.0))
}

/// The interval `every = "auto"` uses: [`daly_interval`], clamped to
/// [`AUTO_MIN_INTERVAL`] ..= `mtbf`.
///
/// ```
/// use checkpoint_core::{AUTO_MIN_INTERVAL, auto_interval};
/// use std::time::Duration;
///
/// let day = Duration::from_secs(86_400);
/// assert_eq!(auto_interval(Duration::from_micros(1), day), AUTO_MIN_INTERVAL);
/// ```
pub fn auto_interval(cost: Duration, mtbf: Duration) -> Duration {
    daly_interval(cost, mtbf).clamp(AUTO_MIN_INTERVAL.min(mtbf), mtbf)
}

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
    /// `every = "auto"`: the mean time between failures.
    mtbf: Option<Duration>,
}

impl Default for SavePolicy {
    /// Every 30 seconds of wall time.
    fn default() -> Self {
        SavePolicy::every(DEFAULT_EVERY)
    }
}

impl SavePolicy {
    /// Save when this much time has passed since the last save.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = checkpoint_core::SavePolicy::every(Duration::from_secs(90));
    /// assert_eq!((policy.interval(), policy.iterations()), (Some(Duration::from_secs(90)), None));
    /// ```
    pub fn every(interval: Duration) -> SavePolicy {
        SavePolicy {
            every: Some(interval),
            every_iters: None,
            mtbf: None,
        }
    }

    /// Save at the interval Daly's formula gives ([`auto_interval`]) for the
    /// measured cost of a save and this mean time between failures,
    /// recomputed after every save. Until the first save is measured the
    /// interval is [`DEFAULT_EVERY`] (at most `mtbf`).
    ///
    /// ```
    /// use checkpoint_core::SavePolicy;
    /// use std::time::Duration;
    ///
    /// let policy = SavePolicy::auto(Duration::from_secs(3600));
    /// assert_eq!(policy.mtbf(), Some(Duration::from_secs(3600)));
    /// ```
    pub fn auto(mtbf: Duration) -> SavePolicy {
        SavePolicy {
            every: None,
            every_iters: None,
            mtbf: Some(mtbf.max(Duration::from_millis(1))),
        }
    }

    /// Save after this many loop iterations (at least 1).
    ///
    /// ```
    /// let policy = checkpoint_core::SavePolicy::every_iters(500);
    /// assert_eq!((policy.interval(), policy.iterations()), (None, Some(500)));
    /// ```
    pub fn every_iters(iterations: u64) -> SavePolicy {
        SavePolicy {
            every: None,
            every_iters: Some(iterations.max(1)),
            mtbf: None,
        }
    }

    /// Also save after this many iterations, whichever comes first.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = checkpoint_core::SavePolicy::every(Duration::from_secs(60)).and_every_iters(1000);
    /// assert_eq!(policy.iterations(), Some(1000));
    /// ```
    pub fn and_every_iters(self, iterations: u64) -> SavePolicy {
        SavePolicy {
            every_iters: Some(iterations.max(1)),
            ..self
        }
    }

    /// Also save when this much time has passed, whichever comes first.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = checkpoint_core::SavePolicy::every_iters(1000).and_every(Duration::from_secs(60));
    /// assert_eq!(policy.interval(), Some(Duration::from_secs(60)));
    /// ```
    pub fn and_every(self, interval: Duration) -> SavePolicy {
        SavePolicy {
            every: Some(interval),
            mtbf: None,
            ..self
        }
    }

    /// The fixed time interval, if saving by time (not `auto`).
    ///
    /// ```
    /// use std::time::Duration;
    /// assert_eq!(checkpoint_core::SavePolicy::every_iters(5).interval(), None);
    /// assert_eq!(checkpoint_core::SavePolicy::auto(Duration::from_secs(3600)).interval(), None);
    /// ```
    pub fn interval(&self) -> Option<Duration> {
        self.every
    }

    /// The mean time between failures, if the interval is `auto`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let policy = checkpoint_core::SavePolicy::auto(Duration::from_secs(12 * 3600));
    /// assert_eq!(policy.mtbf(), Some(Duration::from_secs(12 * 3600)));
    /// ```
    pub fn mtbf(&self) -> Option<Duration> {
        self.mtbf
    }

    /// The iteration interval, if saving by iterations.
    ///
    /// ```
    /// assert_eq!(checkpoint_core::SavePolicy::every_iters(0).iterations(), Some(1)); // at least 1
    /// ```
    pub fn iterations(&self) -> Option<u64> {
        self.every_iters
    }
}

impl SavePolicy {
    /// The policy as three numbers (milliseconds and a count, `u64::MAX`
    /// for none), for the ranks of a job to agree on one.
    pub(crate) fn to_words(self) -> [u64; 3] {
        let ms = |d: Option<Duration>| d.map_or(u64::MAX, millis);
        [
            ms(self.every),
            ms(self.mtbf),
            self.every_iters.unwrap_or(u64::MAX),
        ]
    }

    /// The policy [`SavePolicy::to_words`] gave (a word missing: none).
    pub(crate) fn from_words(words: &[u64]) -> SavePolicy {
        let word = |at: usize| words.get(at).copied().filter(|&word| word != u64::MAX);
        SavePolicy {
            every: word(0).map(Duration::from_millis),
            mtbf: word(1).map(Duration::from_millis),
            every_iters: word(2),
        }
    }
}

impl std::fmt::Display for SavePolicy {
    /// How often a run saves, for people: `every 30.0 s`,
    /// `every 1000 iterations`, `every 5.0 min or 500 iterations`,
    /// `auto (MTBF 24.0 h)`.
    ///
    /// ```
    /// use checkpoint_core::SavePolicy;
    /// use std::time::Duration;
    /// let policy = SavePolicy::every(Duration::from_secs(300)).and_every_iters(500);
    /// assert_eq!(policy.to_string(), "every 5.0 min or 500 iterations");
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.mtbf, self.every, self.every_iters) {
            (Some(mtbf), _, None) => write!(f, "auto (MTBF {})", report::duration(mtbf)),
            (Some(mtbf), _, Some(n)) => {
                write!(
                    f,
                    "auto (MTBF {}) or every {n} iterations",
                    report::duration(mtbf)
                )
            }
            (None, Some(every), None) => write!(f, "every {}", report::duration(every)),
            (None, Some(every), Some(n)) => {
                write!(f, "every {} or {n} iterations", report::duration(every))
            }
            (None, None, Some(n)) => write!(f, "every {n} iterations"),
            (None, None, None) => f.write_str("never"),
        }
    }
}

/// The hot-loop side of a [`SavePolicy`]: counts iterations and compares
/// the coarse clock with the next deadline. Interior mutability lets nested
/// loops share it through `&`.
///
/// It also measures, on the slow path only, how long the iteration that
/// just ended took (from the coarse time the hot check already loads), so a
/// run can warn when a signal could not be honoured within a grace period.
#[derive(Debug)]
pub(crate) struct Due {
    since_save: Cell<u64>,
    iteration_limit: u64,
    /// The count at which the hot path next goes slow: `iteration_limit`,
    /// or in a multi-rank run the next agreement before it.
    check_at: Cell<u64>,
    /// Whether the clock sends the hot path to the slow path (a deadline,
    /// a signal's alarm, a long iteration): not in a multi-rank run, whose
    /// slow path must come at the same iteration on every rank.
    clock_wakes: bool,
    /// In a multi-rank run: how the ranks agree on when to save.
    agreement: Option<Agreement>,
    /// The next time the slow path runs: the save deadline, or earlier for
    /// a progress refresh.
    wake_ms: Cell<u64>,
    save_deadline_ms: Cell<u64>,
    interval_ms: Cell<Option<u64>>,
    mtbf: Option<Duration>,
    /// The smoothed cost of a save, as measured (`auto` only).
    cost_s: Cell<Option<f64>>,
    refresh_ms: Option<u64>,
    /// When the running iteration began, shared with the watchdog.
    watched: Arc<Watched>,
    iteration_began_ms: Cell<u64>,
    grace_ms: u64,
    /// How many iterations of a `for` loop run between two checks
    /// ([`Due::budget`]).
    chunk: Cell<u64>,
}

/// How the ranks of a multi-rank run decide together whether to save
/// without a collective per iteration: the hot path goes slow after the
/// same number of iterations on every rank (`stride`), and the slow path
/// combines every rank's flags (a signal, a save due by time) in one small
/// all-reduce. The stride is set from the slowest rank's time since the
/// last agreement, the same on every rank, so that agreements come every
/// `every_us` (see [`agreement_interval`]).
#[derive(Debug)]
struct Agreement {
    stride: Cell<u64>,
    last: Cell<Instant>,
    every_us: u64,
}

/// How often the ranks of a multi-rank run agree on whether to save: an
/// eighth of the save interval, between 10 ms and 1 s. A signal waits at
/// most this long (plus the iteration under way; schedulers give 30 s or
/// more), a time-based save comes at most this late, and the ranks, which
/// wait for the slowest of them at each agreement, do so at most once a
/// second with the default 30 s interval.
pub(crate) fn agreement_interval(save_interval: Option<Duration>) -> Duration {
    save_interval
        .map_or(Duration::from_secs(1), |interval| interval / 8)
        .clamp(Duration::from_millis(10), Duration::from_secs(1))
}

/// The most iterations run between two checks: at ~10 ns each, well under
/// a microsecond, so a loop whose iterations suddenly become slow still
/// sees a signal within 64 of them.
const MAX_CHUNK: u64 = 64;

impl Due {
    pub(crate) fn new(policy: SavePolicy, grace: Duration, refresh: Option<Duration>) -> Due {
        clock::start();
        let interval = match policy.mtbf {
            Some(mtbf) => Some(DEFAULT_EVERY.min(mtbf)),
            None => policy.every,
        };
        let iteration_limit = policy.every_iters.unwrap_or(u64::MAX);
        let due = Due {
            since_save: Cell::new(0),
            iteration_limit,
            check_at: Cell::new(iteration_limit),
            clock_wakes: true,
            agreement: None,
            wake_ms: Cell::new(u64::MAX),
            save_deadline_ms: Cell::new(u64::MAX),
            interval_ms: Cell::new(interval.map(millis)),
            mtbf: policy.mtbf,
            cost_s: Cell::new(None),
            refresh_ms: refresh.map(millis),
            watched: Watched::new(grace),
            iteration_began_ms: Cell::new(u64::MAX),
            grace_ms: millis(grace),
            chunk: Cell::new(1),
        };
        due.watched.restart_iteration(clock::precise_ms());
        due.restart();
        due
    }

    /// [`Due::new`] for a run across the ranks of a group: the hot path
    /// goes slow only at agreements ([`Agreement`]), never by the clock.
    pub(crate) fn agreed(policy: SavePolicy, grace: Duration) -> Due {
        let mut due = Due::new(policy, grace, None);
        let every = agreement_interval(due.interval());
        due.agreement = Some(Agreement {
            stride: Cell::new(1),
            last: Cell::new(Instant::now()),
            every_us: u64::try_from(every.as_micros()).unwrap_or(u64::MAX),
        });
        // Never woken by the clock: the time and signals are checked at
        // agreements.
        due.clock_wakes = false;
        due.restart();
        due
    }

    /// On the slow path of a multi-rank run: microseconds since the last
    /// agreement, for [`Due::agreement_done`].
    pub(crate) fn since_agreement_us(&self) -> u64 {
        self.agreement.as_ref().map_or(0, |agreement| {
            u64::try_from(agreement.last.get().elapsed().as_micros()).unwrap_or(u64::MAX)
        })
    }

    /// After an agreement: the next comes after as many iterations as
    /// should take the agreement interval, judged from `slowest_us`, the
    /// longest [`Due::since_agreement_us`] of any rank, so the same on
    /// every rank. It changes at most eightfold at a time.
    pub(crate) fn agreement_done(&self, slowest_us: u64) {
        let Some(agreement) = &self.agreement else {
            return;
        };
        let stride = agreement.stride.get();
        let scaled =
            u128::from(stride) * u128::from(agreement.every_us) / u128::from(slowest_us.max(1));
        let next = u64::try_from(scaled)
            .unwrap_or(u64::MAX)
            .clamp((stride / 8).max(1), stride.saturating_mul(8))
            .min(1 << 40);
        agreement.stride.set(next);
        agreement.last.set(Instant::now());
    }

    /// A policy that never fires (checkpointing disabled).
    pub(crate) fn never() -> Due {
        Due {
            since_save: Cell::new(0),
            iteration_limit: u64::MAX,
            check_at: Cell::new(u64::MAX),
            clock_wakes: true,
            agreement: None,
            wake_ms: Cell::new(u64::MAX),
            save_deadline_ms: Cell::new(u64::MAX),
            interval_ms: Cell::new(None),
            mtbf: None,
            cost_s: Cell::new(None),
            refresh_ms: None,
            watched: Watched::new(Duration::MAX),
            iteration_began_ms: Cell::new(u64::MAX),
            grace_ms: u64::MAX,
            chunk: Cell::new(MAX_CHUNK),
        }
    }

    /// Counts one iteration and says whether the slow path should run: a
    /// save may be due, a progress refresh is due, a signal arrived, or the
    /// iteration took longer than the grace period. May fire early (the slow
    /// path decides), never late by more than a clock tick.
    #[inline(always)]
    pub(crate) fn tick(&self) -> bool {
        self.count(1, false, &self.watched)
    }

    /// How many iterations a loop may run before its next check
    /// ([`Due::tick_many`]): the current chunk size, and never past an
    /// `every_iters` save. At least 1.
    #[inline(always)]
    pub(crate) fn budget(&self) -> u64 {
        let left = self.check_at.get().saturating_sub(self.since_save.get());
        self.chunk.get().min(left).max(1)
    }

    /// [`Due::tick`] for a chunk of `count` iterations that ran without a
    /// check in between; also sizes the next chunk so that one lasts about
    /// a clock tick: doubled (up to [`MAX_CHUNK`]) while chunks end within
    /// the tick they began in, halved when one spans more than one.
    /// `watched` is [`Due::watched`], read by the caller before the loop
    /// (see [`crate::__private::Watch`]).
    #[inline(always)]
    pub(crate) fn tick_many(&self, count: u64, watched: &Watched) -> bool {
        self.count(count, true, watched)
    }

    /// Counts `count` iterations (sizing the next chunk if `size_chunks`)
    /// and says whether the slow path should run: [`Due::tick`] and
    /// [`Due::tick_many`].
    ///
    /// Written without a branch (`select_unpredictable`, `|` and `&` on
    /// `bool`s, stores made whatever the outcome): a branch that rejoins
    /// here, in the loop around a chunk, keeps the optimizer from carrying
    /// a value the loop body stores to memory (an RNG's index) from one
    /// step to the next in a register, and each step loads it again (2-3%
    /// of a ~10 ns Metropolis step, the benchmark's row a).
    #[inline(always)]
    fn count(&self, count: u64, size_chunks: bool, watched: &Watched) -> bool {
        let since = self.since_save.get() + count;
        self.since_save.set(since);
        let now = clock::now_ms();
        let began = watched.next_iteration(now);
        if size_chunks {
            let chunk = self.chunk.get();
            let grown = (chunk * 2).min(MAX_CHUNK);
            let shrunk = (chunk / 2).max(1);
            let spanned = now > began.saturating_add(1);
            let next = select_unpredictable(
                now == began,
                grown,
                select_unpredictable(spanned, shrunk, chunk),
            );
            self.chunk.set(next);
        }
        // The slow path reads it (an iteration over the grace period) only
        // when this says it should run.
        self.iteration_began_ms.set(began);
        (since >= self.check_at.get())
            | (self.clock_wakes
                & ((now >= self.wake_ms.get()) | (now.saturating_sub(began) > self.grace_ms)))
    }

    /// Whether a save is really due, measured with the precise clock.
    pub(crate) fn is_due(&self) -> bool {
        self.since_save.get() >= self.iteration_limit
            || clock::precise_ms() >= self.save_deadline_ms.get()
    }

    /// After a slow path that did not save: wake again at the next progress
    /// refresh or the save deadline, whichever comes first.
    pub(crate) fn snooze(&self) {
        // The slow path's own time (a save, a progress refresh) is not the
        // next iteration's.
        self.watched.restart_iteration(clock::now_ms());
        if let Some(agreement) = &self.agreement {
            let next = self.since_save.get().saturating_add(agreement.stride.get());
            self.check_at.set(next.min(self.iteration_limit));
            return;
        }
        let deadline = self.save_deadline_ms.get();
        let wake = match self.refresh_ms {
            Some(refresh) => deadline.min(clock::precise_ms().saturating_add(refresh)),
            None => deadline,
        };
        self.wake_ms.set(wake);
    }

    /// Starts a new interval: called after every save attempt, successful or not,
    /// so that a failing disk is retried at the next due point, not every iteration.
    pub(crate) fn restart(&self) {
        self.since_save.set(0);
        let deadline = match self.interval_ms.get() {
            Some(interval) => clock::precise_ms().saturating_add(interval),
            None => u64::MAX,
        };
        self.save_deadline_ms.set(deadline);
        self.snooze();
    }

    /// Records what a save cost the computation (`stall`) and how long its
    /// write took in all (`write`, at most one is in flight): with `auto`,
    /// the interval becomes Daly's for the smoothed cost, and never shorter
    /// than a write.
    pub(crate) fn record_save(&self, stall: Duration, write: Duration) {
        let Some(mtbf) = self.mtbf else {
            return;
        };
        let cost = match self.cost_s.get() {
            Some(previous) => 0.5 * previous + 0.5 * stall.as_secs_f64(),
            None => stall.as_secs_f64(),
        };
        self.cost_s.set(Some(cost));
        let interval = auto_interval(Duration::from_secs_f64(cost), mtbf).max(write);
        self.interval_ms.set(Some(millis(interval)));
    }

    /// The current time interval between saves, if saving by time.
    pub(crate) fn interval(&self) -> Option<Duration> {
        self.interval_ms.get().map(Duration::from_millis)
    }

    /// On the slow path: the duration of the iteration that just ended, the
    /// first time one is longer than the grace period.
    pub(crate) fn iteration_over_grace(&self) -> Option<Duration> {
        let began = self.iteration_began_ms.get();
        if began == u64::MAX {
            return None;
        }
        let took = clock::precise_ms().saturating_sub(began);
        if took <= self.grace_ms || !self.watched.claim_warning() {
            return None;
        }
        Some(Duration::from_millis(took))
    }

    /// What the watchdog sees of this run.
    pub(crate) fn watched(&self) -> &Arc<Watched> {
        &self.watched
    }

    /// The grace period, once a save took longer than it (warned once,
    /// together with [`Due::iteration_over_grace`]).
    pub(crate) fn save_over_grace(&self, took: Duration) -> bool {
        millis(took) > self.grace_ms && self.watched.claim_warning()
    }

    pub(crate) fn grace(&self) -> Duration {
        Duration::from_millis(self.grace_ms)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Daly's formula worked by hand for δ = 10 s, M = 24 h:
    /// √(2·10·86400) = 1314.534; δ/2M = 5.787e-5, √ = 0.0076073;
    /// τ = 1314.534·(1 + 0.0025358 + 0.0000064) − 10 = 1307.876 s.
    #[test]
    fn daly_matches_the_formula_worked_by_hand() {
        let tau = daly_interval(Duration::from_secs(10), DEFAULT_MTBF).as_secs_f64();
        assert!((tau - 1307.876).abs() < 0.01, "{tau}");
        // δ = 1 s, M = 1 h: √7200 = 84.853; r = 1/7200; τ = 84.853·(1 + 0.0039284 + 0.0000154) − 1.
        let tau = daly_interval(Duration::from_secs(1), Duration::from_secs(3600)).as_secs_f64();
        assert!((tau - 84.188).abs() < 0.01, "{tau}");
        // At and past δ = 2M the interval is M.
        let m = Duration::from_secs(100);
        assert_eq!(daly_interval(Duration::from_secs(200), m), m);
        assert_eq!(daly_interval(Duration::from_secs(1000), m), m);
    }

    #[test]
    fn auto_interval_is_clamped_to_documented_bounds() {
        assert_eq!(
            auto_interval(Duration::ZERO, DEFAULT_MTBF),
            AUTO_MIN_INTERVAL
        );
        assert_eq!(
            auto_interval(Duration::from_secs(200), Duration::from_secs(60)),
            Duration::from_secs(60)
        );
        // Below 2M the formula stands (52.58 s here), within the bounds.
        let tau = auto_interval(Duration::from_secs(90), Duration::from_secs(60));
        assert!((tau.as_secs_f64() - 52.583).abs() < 0.01, "{tau:?}");
    }

    #[test]
    fn the_auto_interval_follows_the_measured_cost() {
        let mtbf = Duration::from_secs(3600);
        let due = Due::new(SavePolicy::auto(mtbf), DEFAULT_GRACE, None);
        assert_eq!(due.interval(), Some(DEFAULT_EVERY));
        due.record_save(Duration::from_secs(2), Duration::from_secs(2));
        let expected = auto_interval(Duration::from_secs(2), mtbf);
        assert_eq!(
            due.interval(),
            Some(Duration::from_millis(millis(expected)))
        );
        // Smoothed: the next cost is averaged with the previous one.
        due.record_save(Duration::from_secs(4), Duration::from_secs(4));
        let expected = auto_interval(Duration::from_secs(3), mtbf);
        assert_eq!(
            due.interval(),
            Some(Duration::from_millis(millis(expected)))
        );
        // Never shorter than a write, so saves do not queue behind each other.
        due.record_save(Duration::from_millis(1), Duration::from_secs(600));
        assert_eq!(due.interval(), Some(Duration::from_secs(600)));
    }

    #[test]
    fn fixed_policies_ignore_measurements() {
        let due = Due::new(
            SavePolicy::every(Duration::from_secs(5)),
            DEFAULT_GRACE,
            None,
        );
        due.record_save(Duration::from_secs(2), Duration::from_secs(2));
        assert_eq!(due.interval(), Some(Duration::from_secs(5)));
    }

    #[test]
    fn every_iters_fires_on_the_nth_tick() {
        let due = Due::new(SavePolicy::every_iters(3), DEFAULT_GRACE, None);
        assert!(!due.tick());
        assert!(!due.tick());
        assert!(due.tick());
        assert!(due.is_due());
        due.restart();
        assert!(!due.tick());
    }
}

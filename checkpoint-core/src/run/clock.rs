//! A coarse clock that the hot loop can read for the price of one relaxed
//! atomic load, so that deciding whether a save is due never reads the
//! system clock on every iteration.
//!
//! A background thread advances [`now_ms`] every [`TICK`]; it only ever
//! moves forward (`fetch_max`), so a later "fire now" of `u64::MAX` sticks.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often the clock advances; the resolution of time-based save intervals.
pub(crate) const TICK: Duration = Duration::from_millis(5);

/// Milliseconds since [`epoch`], or `u64::MAX` once an alarm was raised.
static NOW_MS: AtomicU64 = AtomicU64::new(0);

static EPOCH: OnceLock<Instant> = OnceLock::new();

/// The instant the clock counts from: the first time anything asked for it.
fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// Starts the ticking thread once per process. Cheap after the first call.
pub(crate) fn start() {
    static STARTED: OnceLock<()> = OnceLock::new();
    STARTED.get_or_init(|| {
        let epoch = epoch();
        NOW_MS.fetch_max(elapsed_ms(epoch), Ordering::Relaxed);
        let spawned = std::thread::Builder::new()
            .name("checkpoint-clock".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(TICK);
                    // fetch_max, not store: an alarm (u64::MAX) must never be undone.
                    NOW_MS.fetch_max(elapsed_ms(epoch), Ordering::Relaxed);
                }
            });
        if let Err(err) = spawned {
            // Without the thread the coarse clock stands still; `precise_ms`
            // still works, so time-based saves fall back to the slow path.
            crate::report::warn(format_args!(
                "could not start the clock thread ({err}); time-based saves use the system clock"
            ));
            NOW_MS.store(u64::MAX, Ordering::Relaxed);
        }
    });
}

fn elapsed_ms(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
}

/// The coarse time in milliseconds: one relaxed load. `u64::MAX` after an alarm.
#[inline(always)]
pub(crate) fn now_ms() -> u64 {
    NOW_MS.load(Ordering::Relaxed)
}

/// The exact time in milliseconds since the epoch, for the slow path.
pub(crate) fn precise_ms() -> u64 {
    elapsed_ms(epoch())
}

/// Makes every due check fire at its next iteration boundary. Async-signal-safe: one atomic store.
pub(crate) fn fire() {
    NOW_MS.store(u64::MAX, Ordering::Relaxed);
}

//! What the library tells the user: one line per message on stderr (never
//! stdout, which belongs to the program), mirrored as `tracing` events.
//! `CHECKPOINT_QUIET=1` silences the stderr lines; the events remain.

use std::fmt::Arguments;
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Whether `CHECKPOINT_QUIET` asks for silence on stderr.
pub(crate) fn quiet() -> bool {
    static QUIET: OnceLock<bool> = OnceLock::new();
    *QUIET.get_or_init(|| crate::machine::env_flag("CHECKPOINT_QUIET"))
}

fn line(level: &str, message: Arguments<'_>) {
    // One write call per line so that lines from several threads never interleave.
    let text = if level.is_empty() {
        format!("checkpoint: {message}\n")
    } else {
        format!("checkpoint: {level}: {message}\n")
    };
    #[cfg(test)]
    if capture::record(&text) {
        return;
    }
    if quiet() {
        return;
    }
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// An informational line: resumed, saved, finished.
pub(crate) fn info(message: Arguments<'_>) {
    tracing::info!(target: "checkpoint", "{message}");
    line("", message);
}

/// Something went wrong but the computation goes on.
pub(crate) fn warn(message: Arguments<'_>) {
    tracing::warn!(target: "checkpoint", "{message}");
    line("warning", message);
}

/// The run cannot go on.
pub(crate) fn error(message: Arguments<'_>) {
    tracing::error!(target: "checkpoint", "{message}");
    line("error", message);
}

/// A warning that may come many times a second (a save failing at every
/// iteration on a full disk) is said the first time, then at most once per
/// [`Repeating::QUIET`] with how many came since: a log on a cluster's
/// shared disk is not flooded, and the user still hears that it goes on.
#[derive(Debug, Default)]
pub(crate) struct Repeating {
    /// Times it came since the last time it was said.
    unsaid: u64,
    /// Times it came since it last stopped coming.
    in_a_row: u64,
    said_at: Option<Instant>,
}

impl Repeating {
    /// How long a repeating warning stays quiet after it is said.
    pub(crate) const QUIET: Duration = Duration::from_secs(60);

    /// It came again at `now`: `Some(held)` if it is to be said now, `held`
    /// being how many times it came unsaid before this one.
    pub(crate) fn came(&mut self, now: Instant) -> Option<u64> {
        self.in_a_row += 1;
        match self.said_at {
            Some(said) if now.saturating_duration_since(said) < Self::QUIET => {
                self.unsaid += 1;
                None
            }
            _ => {
                self.said_at = Some(now);
                Some(std::mem::take(&mut self.unsaid))
            }
        }
    }

    /// It stopped coming: how many times it came in a row (0 if it had
    /// not come), after which it is said at once again when it comes back.
    pub(crate) fn stopped(&mut self) -> u64 {
        std::mem::take(self).in_a_row
    }
}

/// A time in milliseconds since the Unix epoch as `2026-04-01 12:34:56 UTC`.
pub(crate) fn date(unix_ms: u64) -> String {
    let secs = unix_ms / 1000;
    let (year, month, day) = civil_from_days(secs / 86_400);
    let second_of_day = secs % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// The proleptic Gregorian date of a day number counted from 1970-01-01
/// (Howard Hinnant's `civil_from_days`, for non-negative days).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A byte count for people: `812 B`, `3.4 KiB`, `1.2 GiB`.
pub(crate) fn bytes(count: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = count as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{count} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A duration for people, in its largest whole unit: `90 s` → `1.5 min`.
pub(crate) fn duration(duration: std::time::Duration) -> String {
    let secs = duration.as_secs_f64();
    match secs {
        s if s < 120.0 => format!("{s:.1} s"),
        s if s < 7200.0 => format!("{:.1} min", s / 60.0),
        s if s < 172_800.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} days", s / 86400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeating_warning_is_said_first_then_once_a_minute_with_what_it_held() {
        let start = Instant::now();
        let mut repeating = Repeating::default();
        assert_eq!(repeating.came(start), Some(0), "said the first time");
        let second = Duration::from_secs(1);
        for i in 1..=59 {
            assert_eq!(repeating.came(start + second * i), None, "at {i} s");
        }
        assert_eq!(
            repeating.came(start + Repeating::QUIET),
            Some(59),
            "said again a minute later, with the 59 held back"
        );
        assert_eq!(repeating.came(start + Repeating::QUIET + second), None);
        assert_eq!(repeating.stopped(), 62, "all of them, in a row");
        assert_eq!(repeating.stopped(), 0, "nothing came since");
        assert_eq!(
            repeating.came(start + Repeating::QUIET + second * 2),
            Some(0),
            "back after it stopped: said at once"
        );
    }

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(bytes(812), "812 B");
        assert_eq!(bytes(3 * 1024 + 512), "3.5 KiB");
        assert_eq!(bytes(5 << 30), "5.0 GiB");
        assert_eq!(duration(std::time::Duration::from_secs(90)), "90.0 s");
        assert_eq!(
            duration(std::time::Duration::from_secs(8 * 86400)),
            "8.0 days"
        );
    }
}

/// Unit tests read what the library would have printed.
#[cfg(test)]
pub(crate) mod capture {
    use std::cell::RefCell;

    thread_local! {
        static LINES: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    }

    /// Runs `f`, and returns what it returned and the lines it printed on
    /// this thread (instead of printing them).
    pub(crate) fn lines<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
        let outer = LINES.with(|lines| lines.borrow_mut().replace(Vec::new()));
        let result = f();
        let captured = LINES.with(|lines| std::mem::replace(&mut *lines.borrow_mut(), outer));
        (result, captured.unwrap_or_default())
    }

    /// Keeps `text` if a capture is on; says whether it did.
    pub(super) fn record(text: &str) -> bool {
        LINES.with(|lines| match lines.borrow_mut().as_mut() {
            Some(lines) => {
                lines.push(text.trim_end().to_owned());
                true
            }
            None => false,
        })
    }
}

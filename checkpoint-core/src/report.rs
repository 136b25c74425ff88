//! What the library tells the user: one line per message on stderr (never
//! stdout, which belongs to the program), mirrored as `tracing` events.
//! `CHECKPOINT_QUIET=1` silences the stderr lines; the events remain.

use std::fmt::Arguments;
use std::io::Write;
use std::sync::OnceLock;

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

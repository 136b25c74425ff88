//! The one duration grammar of the project: `#[checkpointed(every = "...")]`
//! and its other duration options, `CHECKPOINT_EVERY`, and the `checkpoint`
//! command's `--older-than` all read durations here.
//!
//! A duration is one or more terms, each a number (a decimal point allowed)
//! and a unit, spaces allowed between them: `250ms`, `30s`, `5m`,
//! `5 minutes`, `1h30m`, `1.5h`, `2 days`, `2w`. Units (words in any
//! case, single letters in lower case):
//! `ms` (`msec`, `millisecond(s)`), `s` (`sec(s)`, `second(s)`), `m`
//! (`min(s)`, `minute(s)`), `h` (`hr(s)`, `hour(s)`), `d` (`day(s)`) and `w`
//! (`wk(s)`, `week(s)`). A bare number is refused: it has no unit.
//!
//! The parser is a `const fn`, so that the macro's options are checked by
//! the compiler with the same code (a bad duration is a compile error on the
//! literal) instead of by a second parser in the macro crate.

use std::fmt;
use std::time::Duration;

/// What is wrong with a duration's text. Its message says what would be
/// accepted.
///
/// ```
/// use checkpoint_core::{DurationError, parse_duration};
/// assert_eq!(parse_duration("30"), Err(DurationError::MissingUnit));
/// assert!(DurationError::MissingUnit.to_string().contains("\"30s\""));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DurationError {
    /// Nothing but spaces.
    Empty,
    /// A term does not start with a number (`-1s`, `m`, `5m and`).
    ExpectedNumber,
    /// A number without a unit (`30`).
    MissingUnit,
    /// A unit that is not one of the accepted ones (`5x`, `1M`).
    UnknownUnit,
    /// More than `u64::MAX` milliseconds.
    TooLarge,
}

/// What a duration looks like: the tail of every error message.
macro_rules! accepted {
    () => {
        "write a number and a unit (ms, s, m, h, d, w), for example \"30s\", \"5 minutes\", \"1h30m\" or \"1.5h\""
    };
}

impl DurationError {
    /// The message, as a constant so that a compile-time check can show it.
    pub const fn message(self) -> &'static str {
        match self {
            DurationError::Empty => concat!("the duration is empty: ", accepted!()),
            DurationError::ExpectedNumber => concat!("expected a number: ", accepted!()),
            DurationError::MissingUnit => concat!("a number needs a unit: ", accepted!()),
            DurationError::UnknownUnit => concat!("unknown unit: ", accepted!()),
            DurationError::TooLarge => concat!("the duration is too large: ", accepted!()),
        }
    }
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message())
    }
}

impl std::error::Error for DurationError {}

/// Reads a duration the way `#[checkpointed(every = "...")]`,
/// `CHECKPOINT_EVERY` and the `checkpoint` command do: one or more terms,
/// each a number and a unit (`ms`, `s`, `m`, `h`, `d`, `w`, or their
/// words), such as `"30s"`, `"5 minutes"`, `"1h30m"`, `"1.5h"`, `"2w"`.
/// Zero (`"0s"`) is a duration; a bare number is not.
///
/// ```
/// use checkpoint_core::parse_duration;
/// use std::time::Duration;
/// assert_eq!(parse_duration("5 minutes"), Ok(Duration::from_secs(300)));
/// assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
/// assert_eq!(parse_duration("1.5s"), Ok(Duration::from_millis(1500)));
/// assert!(parse_duration("5").is_err());
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    parse_ms(text).map(Duration::from_millis)
}

/// A duration in milliseconds, for a compile-time option: a bad duration,
/// or zero, stops the compilation with a message naming what is accepted.
pub const fn option_ms(text: &str) -> u64 {
    match parse_ms(text) {
        Ok(0) => panic!(
            "a duration of zero: the interval must be longer than zero, for example \"250ms\" or \"30s\""
        ),
        Ok(ms) => ms,
        Err(err) => panic!("{}", err.message()),
    }
}

/// [`parse_duration`] in milliseconds (rounded down), as a `const fn`.
pub(crate) const fn parse_ms(text: &str) -> Result<u64, DurationError> {
    let bytes = text.as_bytes();
    let mut at = skip_spaces(bytes, 0);
    if at == bytes.len() {
        return Err(DurationError::Empty);
    }
    let mut total: u64 = 0;
    while at < bytes.len() {
        // The number: digits, then perhaps a fraction.
        let whole_start = at;
        let mut whole: u64 = 0;
        while at < bytes.len() && bytes[at].is_ascii_digit() {
            whole = match whole.checked_mul(10) {
                Some(n) => match n.checked_add((bytes[at] - b'0') as u64) {
                    Some(n) => n,
                    None => return Err(DurationError::TooLarge),
                },
                None => return Err(DurationError::TooLarge),
            };
            at += 1;
        }
        let mut fraction: u64 = 0;
        let mut fraction_scale: u64 = 1;
        if at < bytes.len() && bytes[at] == b'.' {
            at += 1;
            while at < bytes.len() && bytes[at].is_ascii_digit() {
                // Digits beyond a nanosecond's worth change nothing.
                if fraction_scale < 1_000_000_000 {
                    fraction = fraction * 10 + (bytes[at] - b'0') as u64;
                    fraction_scale *= 10;
                }
                at += 1;
            }
        }
        if at == whole_start || (at == whole_start + 1 && bytes[whole_start] == b'.') {
            return Err(DurationError::ExpectedNumber);
        }
        at = skip_spaces(bytes, at);
        // The unit: letters.
        let unit_start = at;
        while at < bytes.len() && bytes[at].is_ascii_alphabetic() {
            at += 1;
        }
        if unit_start == at {
            return Err(DurationError::MissingUnit);
        }
        let scale = match unit_ms(bytes, unit_start, at) {
            Some(scale) => scale,
            None => return Err(DurationError::UnknownUnit),
        };
        let term = match whole.checked_mul(scale) {
            // `fraction < fraction_scale <= 10^9` and `scale <= 6.1e8`: no overflow.
            Some(ms) => ms.checked_add(fraction * scale / fraction_scale),
            None => None,
        };
        total = match term {
            Some(ms) => match total.checked_add(ms) {
                Some(total) => total,
                None => return Err(DurationError::TooLarge),
            },
            None => return Err(DurationError::TooLarge),
        };
        at = skip_spaces(bytes, at);
    }
    Ok(total)
}

const fn skip_spaces(bytes: &[u8], mut at: usize) -> usize {
    while at < bytes.len() && bytes[at].is_ascii_whitespace() {
        at += 1;
    }
    at
}

/// The milliseconds in one of `bytes[start..end]`, a unit, if it is one.
const fn unit_ms(bytes: &[u8], start: usize, end: usize) -> Option<u64> {
    const UNITS: [(&str, u64); 26] = [
        ("ms", 1),
        ("msec", 1),
        ("millisecond", 1),
        ("milliseconds", 1),
        ("s", 1_000),
        ("sec", 1_000),
        ("secs", 1_000),
        ("second", 1_000),
        ("seconds", 1_000),
        ("m", 60_000),
        ("min", 60_000),
        ("mins", 60_000),
        ("minute", 60_000),
        ("minutes", 60_000),
        ("h", 3_600_000),
        ("hr", 3_600_000),
        ("hrs", 3_600_000),
        ("hour", 3_600_000),
        ("hours", 3_600_000),
        ("d", 86_400_000),
        ("day", 86_400_000),
        ("days", 86_400_000),
        ("w", 604_800_000),
        ("wk", 604_800_000),
        ("week", 604_800_000),
        ("weeks", 604_800_000),
    ];
    let mut i = 0;
    while i < UNITS.len() {
        let name = UNITS[i].0.as_bytes();
        if name.len() == end - start {
            let mut j = 0;
            // Words in any case; a single letter in lower case only: `M`
            // reads as a month to many, `m` as minutes to all.
            while j < name.len()
                && (bytes[start + j] == name[j]
                    || (name.len() > 1 && bytes[start + j].to_ascii_lowercase() == name[j]))
            {
                j += 1;
            }
            if j == name.len() {
                return Some(UNITS[i].1);
            }
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forms_people_write_are_read() {
        for (text, ms) in [
            ("250ms", 250),
            ("30s", 30_000),
            ("5m", 300_000),
            ("5 m", 300_000),
            ("5 minutes", 300_000),
            ("5 Minutes", 300_000),
            ("1 min", 60_000),
            ("2h", 7_200_000),
            ("1h30m", 5_400_000),
            ("1h 30m", 5_400_000),
            ("1.5h", 5_400_000),
            ("0.25s", 250),
            ("1d12h", 129_600_000),
            ("2w", 1_209_600_000),
            (" 90s ", 90_000),
            ("0s", 0),
            ("3 days", 259_200_000),
        ] {
            assert_eq!(parse_ms(text), Ok(ms), "{text}");
        }
    }

    #[test]
    fn each_mistake_has_its_reason_and_the_accepted_forms() {
        for (text, err) in [
            ("", DurationError::Empty),
            ("  ", DurationError::Empty),
            ("30", DurationError::MissingUnit),
            ("5m 30", DurationError::MissingUnit),
            ("5x", DurationError::UnknownUnit),
            ("1M", DurationError::UnknownUnit),
            ("1M5", DurationError::UnknownUnit),
            ("1 month", DurationError::UnknownUnit),
            ("-1s", DurationError::ExpectedNumber),
            ("m", DurationError::ExpectedNumber),
            (".s", DurationError::ExpectedNumber),
            ("99999999999999999999d", DurationError::TooLarge),
            ("18446744073709551615s", DurationError::TooLarge),
        ] {
            assert_eq!(parse_ms(text), Err(err), "{text:?}");
            assert!(err.message().ends_with(accepted!()), "{err}");
        }
    }

    #[test]
    fn option_values_are_checked_at_compile_time() {
        const EVERY: u64 = option_ms("5 minutes");
        assert_eq!(EVERY, 300_000);
    }
}

//! How values read from checkpoint files are spelled for people: sizes,
//! ages, dates, loop positions, fingerprints, aligned tables; and the one
//! thing read from people, a duration like `7d`.

use std::time::Duration;

use checkpoint_core::inspect::{Codec, Identity, LoopPosition};

/// A fingerprint as 16 hex digits, as in file names.
pub fn hex(fingerprint: u64) -> String {
    format!("{fingerprint:016x}")
}

/// Who wrote a checkpoint, in the words of the library's messages:
/// `module::function`, with the chosen name if it differs.
pub fn run_name(identity: &Identity) -> String {
    let mut text = if identity.module_path.is_empty() {
        identity.function.clone()
    } else {
        format!("{}::{}", identity.module_path, identity.function)
    };
    if identity.name != identity.function {
        text.push_str(&format!(" (name {:?})", identity.name));
    }
    text
}

/// Loop positions, outermost first: `827/1000` where the length is known,
/// `99` where not, nested loops joined by `, `; `-` for none (a run saved
/// through the macro-free API has no loop positions).
pub fn progress(position: &[LoopPosition]) -> String {
    if position.is_empty() {
        return "-".to_owned();
    }
    let loops: Vec<String> = position
        .iter()
        .map(|p| match p.len {
            Some(len) => format!("{}/{len}", p.index),
            None => p.index.to_string(),
        })
        .collect();
    loops.join(", ")
}

/// One loop position in words: `loop 0: 827 of 1000 iterations done (82.7%)`.
pub fn loop_in_words(position: &LoopPosition) -> String {
    match position.len {
        Some(len) if len > 0 => format!(
            "loop {}: {} of {len} iterations done ({:.1}%)",
            position.loop_id,
            position.index,
            position.index as f64 * 100.0 / len as f64
        ),
        Some(len) => format!(
            "loop {}: {} of {len} iterations done",
            position.loop_id, position.index
        ),
        None => format!(
            "loop {}: {} iterations done (length unknown)",
            position.loop_id, position.index
        ),
    }
}

/// The codec in words.
pub fn codec(codec: &Codec) -> String {
    match codec {
        Codec::Raw => "raw (uncompressed)".to_owned(),
        Codec::Zstd { level } => format!("zstd level {level}"),
    }
}

/// A size in bytes, in the largest binary unit that keeps it at least 1:
/// `812 B`, `4.0 KiB`, `1.2 GiB`.
pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A span of time, coarsely: its two largest units (`45s`, `3m 20s`,
/// `2h 5m`, `9d 4h`).
pub fn span(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs == 0 {
        return format!("{}ms", duration.as_millis());
    }
    let parts = [
        (secs / 86_400, "d"),
        (secs / 3_600 % 24, "h"),
        (secs / 60 % 60, "m"),
        (secs % 60, "s"),
    ];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    parts[first..]
        .iter()
        .take(2)
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n}{unit}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long ago `then_ms` (ms since the Unix epoch) was, seen at `now_ms`;
/// a time in the future (another machine's clock) counts as now.
pub fn age(then_ms: u64, now_ms: u64) -> Duration {
    Duration::from_millis(now_ms.saturating_sub(then_ms))
}

/// A time as `2026-04-01 12:34:56 UTC`.
pub fn date(unix_ms: u64) -> String {
    checkpoint_core::inspect::utc_date(unix_ms)
}

/// Reads `--older-than`: a duration in the grammar of
/// `#[checkpointed(every = ...)]` and `CHECKPOINT_EVERY`
/// ([`checkpoint_core::parse_duration`]), such as `7d`, `12h` or `2w`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    checkpoint_core::parse_duration(text).map_err(|err| format!("bad duration {text:?}: {err}"))
}

/// Rows of cells as columns separated by two spaces, each as wide as its
/// widest cell; the last column is not padded.
pub fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|row| row.get(c))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (c, cell) in row.iter().enumerate() {
            if c + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = widths[c] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_or_say_why_not() {
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(
            parse_duration("2 weeks"),
            Ok(Duration::from_secs(1_209_600))
        );
        assert_eq!(parse_duration("0s"), Ok(Duration::ZERO));
        let err = parse_duration("7").unwrap_err();
        assert!(
            err.starts_with("bad duration \"7\": a number needs a unit") && err.contains("\"30s\""),
            "{err}"
        );
    }

    #[test]
    fn dates_spans_and_sizes_read_well() {
        assert_eq!(date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(date(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(date(1_700_000_000_123), "2023-11-14 22:13:20 UTC");
        assert_eq!(span(Duration::from_millis(250)), "250ms");
        assert_eq!(span(Duration::from_secs(45)), "45s");
        assert_eq!(span(Duration::from_secs(200)), "3m 20s");
        assert_eq!(span(Duration::from_secs(7_500)), "2h 5m");
        assert_eq!(span(Duration::from_secs(9 * 86_400 + 60)), "9d");
        assert_eq!(size(812), "812 B");
        assert_eq!(size(4096), "4.0 KiB");
        assert_eq!(size(3 << 30), "3.0 GiB");
    }

    #[test]
    fn positions_show_known_lengths() {
        let outer = LoopPosition {
            loop_id: 0,
            index: 3,
            len: Some(10),
        };
        let inner = LoopPosition {
            loop_id: 1,
            index: 99,
            len: None,
        };
        assert_eq!(progress(&[outer, inner]), "3/10, 99");
        assert_eq!(progress(&[]), "-");
        assert_eq!(
            loop_in_words(&outer),
            "loop 0: 3 of 10 iterations done (30.0%)"
        );
        assert_eq!(
            loop_in_words(&inner),
            "loop 1: 99 iterations done (length unknown)"
        );
    }

    #[test]
    fn tables_align_columns() {
        let rows = vec![
            vec!["A".to_owned(), "BB".to_owned(), "C".to_owned()],
            vec!["long".to_owned(), "x".to_owned(), "".to_owned()],
        ];
        assert_eq!(table(&rows), "A     BB  C\nlong  x\n");
    }
}

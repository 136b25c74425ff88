//! `checkpoint list`: one line per run.

use std::path::Path;

use serde_json::json;

use crate::runs::{self, Run};
use crate::{Report, text};

/// Lists the runs in `dir` as a table, or as JSON.
pub fn run(dir: &Path, as_json: bool) -> Result<Report, String> {
    let runs: Vec<Run> = crate::scan(dir)?.into_iter().map(Run::read).collect();
    let now = runs::now_ms();
    let mut report = Report::default();
    if as_json {
        let value = json!({
            "dir": dir,
            "runs": runs.iter().map(|run| run.to_json(now)).collect::<Vec<_>>(),
        });
        report.line(to_json_text(&value)?);
        return Ok(report);
    }
    if runs.is_empty() {
        report.line(format!("no checkpoints in {}", dir.display()));
        return Ok(report);
    }
    let mut rows = vec![
        [
            "RUN", "NAME", "KEY", "PROGRESS", "GENS", "AGE", "SIZE", "SCHEMA", "NOTE",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for run in &runs {
        let header = run.newest_good().map(|info| &info.header);
        let unknown = || "?".to_owned();
        rows.push(vec![
            run.files.stem.clone(),
            header.map_or_else(unknown, |h| text::run_name(&h.identity)),
            header.map_or_else(unknown, |h| text::hex(h.identity.key_fingerprint)),
            header.map_or_else(unknown, |h| text::progress(&h.position)),
            run.saves().to_string(),
            run.last_active_ms()
                .map_or_else(unknown, |ms| text::span(text::age(ms, now))),
            text::size(run.size()),
            header.map_or_else(unknown, |h| text::hex(h.schema_fingerprint)),
            run.note(),
        ]);
    }
    report.out = text::table(&rows);
    Ok(report)
}

/// Pretty JSON, or why it could not be made.
pub fn to_json_text(value: &serde_json::Value) -> Result<String, String> {
    serde_json::to_string_pretty(value).map_err(|e| format!("could not write JSON: {e}"))
}

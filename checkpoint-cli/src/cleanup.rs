//! `checkpoint rm` and `checkpoint gc`: removing runs, only ever while
//! holding their lock, so that a live run is never touched.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use checkpoint_core::Error;
use checkpoint_core::inspect;

use crate::runs::{self, Run};
use crate::{Report, text};

/// Removes every file of run `stem` in `dir`.
pub fn rm(dir: &Path, stem: &str) -> Result<Report, String> {
    if !crate::scan(dir)?.iter().any(|run| run.stem == stem) {
        return Err(format!(
            "no run {stem} in {} (`checkpoint list {}` shows the runs)",
            dir.display(),
            dir.display()
        ));
    }
    let removed = inspect::remove_run(dir, stem).map_err(|e| refusal(stem, e))?;
    let mut report = Report::default();
    report_removed(&mut report, stem, &removed);
    Ok(report)
}

/// Removes (with `yes`; otherwise lists) the runs whose last save is older
/// than `older_than`, and moved-aside files older than that.
pub fn gc(dir: &Path, older_than: Duration, yes: bool) -> Result<Report, String> {
    let runs: Vec<Run> = crate::scan(dir)?.into_iter().map(Run::read).collect();
    let now = runs::now_ms();
    let is_old = |ms: u64| text::age(ms, now) > older_than;
    let mut report = Report::default();
    let mut errors = Vec::new();
    let mut found = false;
    for run in &runs {
        let stem = &run.files.stem;
        if let Some(last) = run.last_active_ms().filter(|&ms| is_old(ms)) {
            found = true;
            let ago = text::span(text::age(last, now));
            if !yes {
                let count = run.saves() + run.files.moved_aside.len();
                report.line(format!(
                    "would remove run {stem} (last saved {ago} ago): {count} file{}",
                    plural(count)
                ));
                continue;
            }
            // A multi-rank run's saves are its commits.
            let newest_of = |files: &inspect::RunFiles| {
                files
                    .commits
                    .first()
                    .or(files.generations.first())
                    .map(|g| g.number)
            };
            let newest = newest_of(&run.files);
            let unchanged = |files: &inspect::RunFiles| newest_of(files) == newest;
            match inspect::remove_run_if(dir, stem, unchanged) {
                Ok(Some(removed)) => report_removed(&mut report, stem, &removed),
                Ok(None) => report
                    .warnings
                    .push(format!("kept run {stem}: it saved again meanwhile")),
                Err(err @ Error::Locked { .. }) => report.warnings.push(refusal(stem, err)),
                Err(err) => errors.push(err.to_string()),
            }
            continue;
        }
        for path in &run.files.moved_aside {
            let Some(modified) = runs::modified_ms(path).filter(|&ms| is_old(ms)) else {
                continue;
            };
            found = true;
            let ago = text::span(text::age(modified, now));
            if !yes {
                report.line(format!(
                    "would remove {} (moved aside, written {ago} ago)",
                    path.display()
                ));
                continue;
            }
            match fs::remove_file(path) {
                Ok(()) => report.line(format!("removed {}", path.display())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => errors.push(format!("could not delete {}: {e}", path.display())),
            }
        }
    }
    if !found {
        report.line(format!(
            "nothing in {} was last written more than {} ago",
            dir.display(),
            text::span(older_than)
        ));
    } else if !yes {
        report.line(
            "dry run: nothing was removed; run again with --yes to remove these (a run a live process still holds is skipped then)",
        );
    }
    if !errors.is_empty() {
        report.failure = Some(errors.join("; "));
    }
    Ok(report)
}

/// Why a run was not removed, in words.
fn refusal(stem: &str, err: Error) -> String {
    match err {
        Error::Locked { lock_path, holder } => format!(
            "run {stem} is in use, nothing removed: {} is locked by {}; stop that process first",
            lock_path.display(),
            checkpoint_core::inspect::describe_holder(holder.as_deref())
        ),
        other => format!("could not remove run {stem}: {other}"),
    }
}

/// Lists what removing a run deleted (its lock file goes too, unlisted).
fn report_removed(report: &mut Report, stem: &str, removed: &[PathBuf]) {
    report.line(format!(
        "removed run {stem}: {} file{}",
        removed.len(),
        plural(removed.len())
    ));
    for path in removed {
        report.line(format!("  {}", path.display()));
    }
}

fn plural(count: usize) -> &'static str {
    if count == 1 { "" } else { "s" }
}

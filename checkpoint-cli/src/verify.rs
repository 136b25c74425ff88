//! `checkpoint verify`: every generation file checked as a resume would
//! check it before decoding; a multi-rank run's commits checked whole.

use std::path::Path;

use crate::runs::Run;
use crate::{Report, text};

/// Checks every generation file in `dir`; the report fails, naming the
/// files, if any is bad. Moved-aside files are listed but not checked: a
/// resume already stopped using them, and `checkpoint gc` removes them.
pub fn run(dir: &Path) -> Result<Report, String> {
    let runs: Vec<Run> = crate::scan(dir)?.into_iter().map(Run::read).collect();
    let mut report = Report::default();
    let mut good = 0;
    let mut bad = Vec::new();
    for run in &runs {
        for generation in &run.generations {
            match &generation.verdict {
                Ok(info) => {
                    good += 1;
                    report.line(format!(
                        "OK    {} (save {}, progress {})",
                        generation.path.display(),
                        info.header.save_count,
                        text::progress(&info.header.position)
                    ));
                }
                Err(why) => {
                    report.line(format!("BAD   {}: {why}", generation.path.display()));
                    bad.push(generation.path.display().to_string());
                }
            }
        }
    }
    let mut unused = 0;
    for run in &runs {
        let mut whole = Vec::new();
        for commit in &run.commits {
            match &commit.verdict {
                Ok(ranks) => {
                    good += 1;
                    let first = ranks.first().map(|info| &info.header);
                    report.line(format!(
                        "OK    {} (commit of {} ranks, save {}, progress {})",
                        commit.path.display(),
                        ranks.len(),
                        first.map_or(0, |h| h.save_count),
                        first.map_or_else(|| "-".to_owned(), |h| text::progress(&h.position))
                    ));
                    whole.extend(ranks.iter().map(|info| info.path.clone()));
                }
                Err(why) => {
                    report.line(format!("BAD   {}: {why}", commit.path.display()));
                    bad.push(commit.path.display().to_string());
                }
            }
        }
        for generation in run.files.ranks.iter().flat_map(|rank| &rank.generations) {
            if !whole.contains(&generation.path) {
                unused += 1;
                report.line(format!(
                    "UNUSED {} (in no whole commit: never restored; the next commit prunes it)",
                    generation.path.display()
                ));
            }
        }
    }
    let aside: Vec<_> = runs
        .iter()
        .flat_map(|run| {
            run.files
                .moved_aside
                .iter()
                .chain(run.files.ranks.iter().flat_map(|rank| &rank.moved_aside))
        })
        .collect();
    for path in &aside {
        report.line(format!(
            "ASIDE {} (moved aside by a resume; not checked, not used)",
            path.display()
        ));
    }
    if good + bad.len() + aside.len() + unused == 0 {
        report.line(format!("no checkpoint files in {}", dir.display()));
        return Ok(report);
    }
    let unused = match unused {
        0 => String::new(),
        n => format!(", {n} unused"),
    };
    report.line(format!(
        "{good} ok, {} bad, {} moved aside{unused}",
        bad.len(),
        aside.len()
    ));
    if !bad.is_empty() {
        report.failure = Some(format!(
            "{} bad checkpoint file{} in {}: {}",
            bad.len(),
            if bad.len() == 1 { "" } else { "s" },
            dir.display(),
            bad.join(", ")
        ));
    }
    Ok(report)
}

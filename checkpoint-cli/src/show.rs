//! `checkpoint show`: one checkpoint file's header in words.

use std::path::Path;

use checkpoint_core::inspect::FileInfo;
use serde_json::json;

use crate::list::to_json_text;
use crate::runs::{self, Run};
use crate::{Report, text};

/// Shows `target`: a checkpoint file, or the newest generation of the run
/// whose stem it is (looked up in `dir`).
pub fn run(target: &str, dir: &Path, as_json: bool) -> Result<Report, String> {
    let info = find(target, dir)?;
    let mut report = Report::default();
    if as_json {
        report.line(to_json_text(&to_json(&info))?);
    } else {
        describe(&info, runs::now_ms(), &mut report);
    }
    Ok(report)
}

/// The file `target` names, read and verified: itself if it is a file,
/// else the newest generation of the run `target` in `dir`.
fn find(target: &str, dir: &Path) -> Result<FileInfo, String> {
    let unusable = |path: &Path, why| format!("checkpoint {} is unusable: {why}", path.display());
    let as_path = Path::new(target);
    if as_path.is_file() {
        return runs::verify(as_path, None).map_err(|why| unusable(as_path, why));
    }
    if target.contains('/') {
        return Err(format!("{target}: no such file"));
    }
    let all = crate::scan(dir)?;
    let run = match all.iter().position(|run| run.stem == target) {
        Some(at) => Run::read(all.into_iter().nth(at).expect("found above")),
        // `list`'s NAME column (`module::function`, or the `name` option):
        // the run, if only one has that name.
        None => by_name(target, all, dir)?,
    };
    if run.files.is_multi_rank() {
        return newest_commit(&run, target, dir);
    }
    let newest = run.generations.first().ok_or_else(|| {
        format!(
            "run {target} in {} has no checkpoint file (only a lock file or moved-aside files)",
            dir.display()
        )
    })?;
    if let (Err(why), Some(good)) = (&newest.verdict, run.newest_good()) {
        return Err(format!(
            "the newest checkpoint {} is unusable: {why}; a resume would fall back to {} (`checkpoint show {}`)",
            newest.path.display(),
            good.path.display(),
            good.path.display()
        ));
    }
    newest
        .verdict
        .clone()
        .map_err(|why| unusable(&newest.path, why))
}

/// Rank 0's file of the newest commit of a multi-rank run, if it is whole.
fn newest_commit(run: &Run, target: &str, dir: &Path) -> Result<FileInfo, String> {
    let newest = run.commits.first().ok_or_else(|| {
        format!(
            "run {target} in {} is a run of {} ranks with no commit yet: a rerun starts it over",
            dir.display(),
            run.rank_count()
        )
    })?;
    match (&newest.verdict, run.newest_good()) {
        (Ok(ranks), _) => ranks
            .first()
            .cloned()
            .ok_or_else(|| format!("commit {} names no rank", newest.path.display())),
        (Err(why), Some(good)) => Err(format!(
            "the newest commit {} is not whole: {why}; a resume would fall back to the commit whose rank 0 file is {} (`checkpoint show {}`)",
            newest.path.display(),
            good.path.display(),
            good.path.display()
        )),
        (Err(why), None) => Err(format!(
            "the newest commit {} is not whole: {why}; no commit of this run is",
            newest.path.display()
        )),
    }
}

/// The one run in `dir` whose name (as `list` shows it) is `name`.
fn by_name(
    name: &str,
    all: Vec<checkpoint_core::inspect::RunFiles>,
    dir: &Path,
) -> Result<Run, String> {
    let mut named: Vec<Run> = all
        .into_iter()
        .map(Run::read)
        .filter(|run| {
            run.newest_good()
                .is_some_and(|info| text::run_name(&info.header.identity) == name)
        })
        .collect();
    match named.len() {
        1 => Ok(named.remove(0)),
        0 => Err(format!(
            "no run {name} in {} and no file of that name (`checkpoint list {}` shows the runs)",
            dir.display(),
            dir.display()
        )),
        _ => Err(format!(
            "{} runs in {} are named {name} (one per key): show one by its RUN: {}",
            named.len(),
            dir.display(),
            named
                .iter()
                .map(|run| run.files.stem.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The header in words, one `label: value` line each.
fn describe(info: &FileInfo, now: u64, report: &mut Report) {
    let header = &info.header;
    let identity = &header.identity;
    let or_none = |s: &str| {
        if s.is_empty() {
            "(none)".to_owned()
        } else {
            s.to_owned()
        }
    };
    let mut rows = vec![
        ("file", info.path.display().to_string()),
        ("run", info.run.clone()),
        ("crate", or_none(&identity.crate_name)),
        ("module", or_none(&identity.module_path)),
        ("function", identity.function.clone()),
        ("name", identity.name.clone()),
        ("key fingerprint", text::hex(identity.key_fingerprint)),
        ("schema fingerprint", text::hex(header.schema_fingerprint)),
        ("code fingerprint", text::hex(header.code_fingerprint)),
    ];
    if header.position.is_empty() {
        rows.push((
            "position",
            "no loop positions (saved without the macro)".to_owned(),
        ));
    }
    for position in &header.position {
        rows.push(("position", text::loop_in_words(position)));
    }
    rows.extend([
        ("saves", header.save_count.to_string()),
        (
            "started",
            format!(
                "{} ({} ago)",
                text::date(header.started_unix_ms),
                text::span(text::age(header.started_unix_ms, now))
            ),
        ),
        (
            "saved",
            format!(
                "{} ({} ago)",
                text::date(header.saved_unix_ms),
                text::span(text::age(header.saved_unix_ms, now))
            ),
        ),
        (
            "compute",
            text::span(std::time::Duration::from_millis(header.compute_ms)),
        ),
        ("codec", text::codec(&header.codec)),
        (
            "state",
            format!(
                "{} bytes, stored in {} bytes",
                header.state_len, info.payload_len
            ),
        ),
        ("file size", format!("{} bytes", info.file_len)),
    ]);
    let rows: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(label, value)| vec![format!("{label}:"), value])
        .collect();
    report.out.push_str(&text::table(&rows));
}

/// The header as JSON; fingerprints as hex strings, as in file names.
fn to_json(info: &FileInfo) -> serde_json::Value {
    let header = &info.header;
    let identity = &header.identity;
    let (codec, level) = match header.codec {
        checkpoint_core::inspect::Codec::Raw => ("raw", None),
        checkpoint_core::inspect::Codec::Zstd { level } => ("zstd", Some(level)),
    };
    json!({
        "file": info.path,
        "run": info.run,
        "crate": identity.crate_name,
        "module": identity.module_path,
        "function": identity.function,
        "name": identity.name,
        "key_fingerprint": text::hex(identity.key_fingerprint),
        "schema_fingerprint": text::hex(header.schema_fingerprint),
        "code_fingerprint": text::hex(header.code_fingerprint),
        "position": runs::positions_json(&header.position),
        "save_count": header.save_count,
        "started_unix_ms": header.started_unix_ms,
        "saved_unix_ms": header.saved_unix_ms,
        "compute_ms": header.compute_ms,
        "codec": codec,
        "zstd_level": level,
        "state_len": header.state_len,
        "payload_len": info.payload_len,
        "file_len": info.file_len,
    })
}

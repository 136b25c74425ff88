//! Proves what happens when a program is edited between an interruption
//! and the rerun (the `versions` example): the same state schema with
//! different code resumes with a warning by default, restarts or stops when
//! asked to; a changed schema is never decoded — the old file is moved
//! aside as stale, with a warning naming both files, and the run starts
//! fresh; different arguments are a different run.

mod common;

use std::path::Path;

use common::{Finished, command, file_names, generations, run, run_ok, temp_dir};

const N: &str = "400";
const CRASH_AT: &str = "250";

/// Runs `version`, which dies abruptly when iteration 250 begins, after
/// saving every iteration before it (the save in flight, if any, is lost
/// as in a real crash); returns the newest checkpoint's name and the
/// iteration it resumes at (its generation number: one save per iteration).
fn crash_partway(version: &str, dir: &Path) -> (String, u64) {
    let crashed = run(command("versions", dir, &[version, N]).env("VERSIONS_CRASH_AT", CRASH_AT));
    assert_eq!(crashed.status.code(), Some(99), "{}", crashed.describe());
    let newest = generations(dir)
        .pop()
        .unwrap_or_else(|| panic!("no checkpoint after the crash\n{}", crashed.describe()));
    let name = newest
        .path
        .file_name()
        .expect("a file name")
        .to_string_lossy()
        .into_owned();
    assert!(
        (240..=250).contains(&newest.number),
        "at most the save in flight is lost: {name}"
    );
    (name, newest.number)
}

fn uninterrupted(version: &str) -> String {
    run_ok(&mut command("versions", temp_dir().path(), &[version, N]))
        .result()
        .to_owned()
}

fn only_warning(finished: &Finished) -> &str {
    let warnings = finished.warnings();
    assert_eq!(warnings.len(), 1, "one warning\n{}", finished.describe());
    warnings[0]
}

#[test]
fn the_same_schema_with_edited_code_resumes_with_a_warning() {
    let dir = temp_dir();
    let (file, at) = crash_partway("v1", dir.path());
    let edited = run_ok(&mut command("versions", dir.path(), &["v1-edited", N]));
    let warning = only_warning(&edited);
    assert!(
        warning.contains(&file)
            && warning.contains("different version")
            && warning.contains("resuming"),
        "{warning}"
    );
    assert_eq!(edited.resumed_at(), Some(at), "{}", edited.describe());
    assert_eq!(edited.result(), uninterrupted("v1"));
}

#[test]
fn on_code_change_restart_moves_the_old_file_aside_and_starts_fresh() {
    let dir = temp_dir();
    let (file, _) = crash_partway("v1", dir.path());
    let generations_before = generations(dir.path()).len();
    let restarted = run_ok(&mut command("versions", dir.path(), &["v1-restart", N]));
    assert_eq!(restarted.resumed_at(), None, "{}", restarted.describe());
    // Every generation written by the old code goes aside, the newest first.
    let warnings = restarted.warnings();
    assert_eq!(
        warnings.len(),
        generations_before,
        "{}",
        restarted.describe()
    );
    assert!(
        warnings[0].contains(&file) && warnings[0].contains("moved aside"),
        "{}",
        warnings[0]
    );
    assert_eq!(restarted.result(), uninterrupted("v1"));
    let names = file_names(dir.path());
    assert!(
        names.contains(&format!("{file}.stale")),
        "the old file is kept aside: {names:?}"
    );
}

#[test]
fn on_code_change_error_stops_and_keeps_the_checkpoint() {
    let dir = temp_dir();
    let (file, at) = crash_partway("v1", dir.path());
    let refused = run(&mut command("versions", dir.path(), &["v1-error", N]));
    assert_eq!(refused.status.code(), Some(1), "{}", refused.describe());
    assert!(
        refused.stderr.contains(&file) && refused.stderr.contains("CHECKPOINT_FRESH"),
        "the error names the file and the way out\n{}",
        refused.describe()
    );
    // Nothing was lost: the original code still resumes from it.
    let resumed = run_ok(&mut command("versions", dir.path(), &["v1", N]));
    assert_eq!(resumed.resumed_at(), Some(at), "{}", resumed.describe());
    assert_eq!(resumed.result(), uninterrupted("v1"));
}

#[test]
fn a_changed_schema_is_never_decoded_and_is_moved_aside_as_stale() {
    let dir = temp_dir();
    let (file, _) = crash_partway("v1", dir.path());
    let generations_before = generations(dir.path()).len();
    let v2 = run_ok(&mut command("versions", dir.path(), &["v2", N]));
    assert_eq!(v2.resumed_at(), None, "{}", v2.describe());
    assert_eq!(v2.result(), uninterrupted("v2"));
    // One warning per generation kept, the newest first, each naming the
    // old file and where it went.
    let warnings = v2.warnings();
    assert_eq!(warnings.len(), generations_before, "{}", v2.describe());
    let newest = warnings[0];
    assert!(
        newest.contains(&file) && newest.contains("different state") && newest.contains("stale"),
        "{newest}"
    );
    let names = file_names(dir.path());
    let stale: Vec<&String> = names.iter().filter(|name| name.contains("stale")).collect();
    assert_eq!(stale.len(), generations_before, "{names:?}");
    assert!(
        newest.contains(&format!("{file}.stale")),
        "the warning names where the file went: {newest}"
    );
}

#[test]
fn different_arguments_are_a_different_run() {
    let dir = temp_dir();
    let (_, at) = crash_partway("v1", dir.path());
    let other = run_ok(&mut command("versions", dir.path(), &["v1", "300"]));
    assert_eq!(other.resumed_at(), None, "{}", other.describe());
    assert!(other.warnings().is_empty(), "{}", other.describe());
    let reference = run_ok(&mut command("versions", temp_dir().path(), &["v1", "300"]));
    assert_eq!(other.result(), reference.result());
    // The first run's checkpoint is untouched and still resumes.
    let resumed = run_ok(&mut command("versions", dir.path(), &["v1", N]));
    assert_eq!(resumed.resumed_at(), Some(at), "{}", resumed.describe());
}

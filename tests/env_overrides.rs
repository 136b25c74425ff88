//! Proves the operators' environment overrides: `CHECKPOINT_FRESH=1` ignores
//! the checkpoint a killed run left and starts over, `CHECKPOINT_DISABLE=1`
//! neither reads nor writes anything in the checkpoint directory, and
//! `CHECKPOINT_EVERY` replaces the code's save interval (a bad value is a
//! warning that says what is accepted); all still compute the right result.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::time::Duration;

use common::{
    Generation, RESUMED, Running, assert_only_locks_left, command, file_names, generations, run_ok,
    temp_dir,
};

/// `sum 400`: 1 + 2 + ... + 400.
const EXPECTED: &str = "80200";

/// Runs `sum 400 --delay-ms 5` until it has saved, then SIGKILLs it; returns
/// the generations it left.
fn interrupted_sum(dir: &Path) -> Vec<Generation> {
    let mut running = Running::spawn(&mut command("sum", dir, &["400", "--delay-ms", "5"]));
    running.wait_until(
        "a checkpoint file appeared",
        Duration::from_secs(30),
        || !generations(dir).is_empty(),
    );
    let killed = running.kill();
    assert!(
        killed.was_killed(),
        "sum 400 finished before it could be killed\n{}",
        killed.describe()
    );
    let found = generations(dir);
    assert!(!found.is_empty(), "the killed run left no checkpoint");
    found
}

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    file_names(dir)
        .into_iter()
        .map(|name| {
            let bytes = fs::read(dir.join(&name)).expect("read a file of the directory");
            (name, bytes)
        })
        .collect()
}

#[test]
fn fresh_ignores_the_checkpoint_of_a_killed_run() {
    let dir = temp_dir();
    interrupted_sum(dir.path());

    let finished = run_ok(
        command("sum", dir.path(), &["400", "--delay-ms", "0"]).env("CHECKPOINT_FRESH", "1"),
    );
    assert!(
        !finished.stderr.contains(RESUMED),
        "CHECKPOINT_FRESH=1 starts over, yet the run resumed\n{}",
        finished.describe()
    );
    assert_eq!(finished.result(), EXPECTED, "{}", finished.describe());
    assert_only_locks_left(dir.path(), &finished.describe());
}

#[test]
fn disable_writes_nothing() {
    let scratch = temp_dir();
    // A directory that does not exist yet: creating it would be a write.
    let dir = scratch.path().join("checkpoints");

    // While it runs: no lock, no checkpoint, not even the directory.
    let running = Running::spawn(
        command("sum", &dir, &["4000", "--delay-ms", "2"]).env("CHECKPOINT_DISABLE", "1"),
    );
    std::thread::sleep(Duration::from_millis(300));
    let mid_run = file_names(scratch.path());
    let killed = running.kill();
    assert!(
        killed.was_killed(),
        "sum 4000 --delay-ms 2 finished within 300 ms\n{}",
        killed.describe()
    );
    assert!(
        mid_run.is_empty(),
        "CHECKPOINT_DISABLE=1 writes nothing, yet 300 ms into the run {} held {mid_run:?}\n{}",
        scratch.path().display(),
        killed.describe()
    );

    // To the end: the right result, still nothing on disk.
    let finished =
        run_ok(command("sum", &dir, &["400", "--delay-ms", "0"]).env("CHECKPOINT_DISABLE", "1"));
    assert_eq!(finished.result(), EXPECTED, "{}", finished.describe());
    assert!(
        !finished.stderr.contains(RESUMED),
        "CHECKPOINT_DISABLE=1 reads nothing, yet the run resumed\n{}",
        finished.describe()
    );
    let left = file_names(scratch.path());
    assert!(
        left.is_empty(),
        "CHECKPOINT_DISABLE=1 writes nothing, yet {} holds {left:?}\n{}",
        scratch.path().display(),
        finished.describe()
    );
}

#[test]
fn disable_neither_resumes_from_nor_touches_an_existing_checkpoint() {
    let dir = temp_dir();
    interrupted_sum(dir.path());
    let before = snapshot(dir.path());

    let finished = run_ok(
        command("sum", dir.path(), &["400", "--delay-ms", "0"]).env("CHECKPOINT_DISABLE", "1"),
    );
    assert_eq!(finished.result(), EXPECTED, "{}", finished.describe());
    assert!(
        !finished.stderr.contains(RESUMED),
        "CHECKPOINT_DISABLE=1 reads nothing, yet the run resumed\n{}",
        finished.describe()
    );
    let after = snapshot(dir.path());
    assert!(
        before == after,
        "CHECKPOINT_DISABLE=1 changed the checkpoint directory: {:?} before, {:?} after\n{}",
        before.keys(),
        after.keys(),
        finished.describe()
    );

    // The checkpoint is still good for a normal run.
    let resumed = run_ok(&mut command("sum", dir.path(), &["400", "--delay-ms", "0"]));
    assert_eq!(resumed.result(), EXPECTED, "{}", resumed.describe());
    assert!(
        resumed.resumed_at().is_some_and(|k| k > 0),
        "the checkpoint left alone by CHECKPOINT_DISABLE=1 resumes a normal run\n{}",
        resumed.describe()
    );
}

#[test]
fn every_replaces_the_interval_in_the_code() {
    // The code saves every 5 iterations: 12 saves in 60 iterations. An
    // hour between saves makes none in this 1.2 s run.
    let dir = temp_dir();
    let finished = run_ok(
        command("sum", dir.path(), &["60", "--delay-ms", "20"]).env("CHECKPOINT_EVERY", "1 hour"),
    );
    assert_eq!(finished.result(), "1830", "{}", finished.describe());
    assert!(
        finished.stderr.contains("(finished): 0 saves,"),
        "CHECKPOINT_EVERY=\"1 hour\" overrides every_iters = 5, yet the run saved\n{}",
        finished.describe()
    );

    // Without it, the code's interval: a save every 5 iterations.
    let finished = run_ok(&mut command("sum", dir.path(), &["60", "--delay-ms", "20"]));
    assert!(
        saves(&finished.stderr) == 12,
        "without CHECKPOINT_EVERY, sum saves every 5 iterations\n{}",
        finished.describe()
    );
}

#[test]
fn a_bad_every_is_a_warning_that_says_what_is_accepted() {
    let dir = temp_dir();
    let finished = run_ok(
        command("sum", dir.path(), &["60", "--delay-ms", "20"]).env("CHECKPOINT_EVERY", "5"),
    );
    assert_eq!(finished.result(), "1830", "{}", finished.describe());
    assert!(
        finished.stderr.contains(
            "CHECKPOINT_EVERY=\"5\" is not a duration: a number needs a unit: write a number and a unit (ms, s, m, h, d, w), for example \"30s\""
        ) && finished
            .stderr
            .contains("; sum::sum saves as its code says (every 5 iterations)"),
        "a unitless CHECKPOINT_EVERY is named, with the accepted forms and what the run does instead\n{}",
        finished.describe()
    );
    assert!(saves(&finished.stderr) == 12, "{}", finished.describe());
}

#[test]
fn relative_directories_are_made_in_the_working_directory() {
    // The README's demos run with the default `.checkpoints` in a fresh
    // checkout: a relative directory, and its missing parents, are made
    // where the program runs.
    for relative in [None, Some("runs/checkpoints")] {
        let work = temp_dir();
        let mut command = command("sum", work.path(), &["400", "--delay-ms", "5"]);
        command.current_dir(work.path());
        match relative {
            None => command.env_remove("CHECKPOINT_DIR"),
            Some(dir) => command.env("CHECKPOINT_DIR", dir),
        };
        let dir = work.path().join(relative.unwrap_or(".checkpoints"));
        let mut running = Running::spawn(&mut command);
        running.wait_until(
            &format!("a checkpoint in {}", dir.display()),
            Duration::from_secs(30),
            || !generations(&dir).is_empty(),
        );
        let killed = running.kill();
        assert!(
            killed.warnings().is_empty(),
            "{relative:?}: no warning\n{}",
            killed.describe()
        );
        let resumed = run_ok(&mut command);
        assert_eq!(resumed.result(), EXPECTED, "{}", resumed.describe());
        assert!(
            resumed.resumed_at().is_some_and(|at| at > 0),
            "{relative:?}: the rerun resumes from {}\n{}",
            dir.display(),
            resumed.describe()
        );
    }
}

/// The save count of the summary line in `stderr`.
fn saves(stderr: &str) -> u64 {
    stderr
        .split("(finished): ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("no summary line in\n{stderr}"))
}

/// A run without `comm` in a process that an MPI launcher started as one
/// rank of several says that it is checkpointed by that rank alone (and how
/// to checkpoint a computation the ranks do together); outside such a job
/// nothing is said.
#[test]
fn one_rank_of_an_mpi_job_without_comm_is_told_about_comm() {
    let dir = temp_dir();
    let finished = run_ok(
        command("sum", dir.path(), &["400"])
            .env("OMPI_COMM_WORLD_RANK", "2")
            .env("OMPI_COMM_WORLD_SIZE", "4"),
    );
    assert_eq!(finished.result(), EXPECTED, "{}", finished.describe());
    let warnings = finished.warnings();
    assert!(
        warnings
            .iter()
            .any(|line| line.contains("rank 2 of a job of 4") && line.contains("comm = world")),
        "{}",
        finished.describe()
    );
    let alone = run_ok(
        command("sum", temp_dir().path(), &["400"])
            .env_remove("OMPI_COMM_WORLD_SIZE")
            .env_remove("PMI_SIZE")
            .env_remove("SLURM_NTASKS")
            .env_remove("MV2_COMM_WORLD_SIZE"),
    );
    assert!(alone.warnings().is_empty(), "{}", alone.describe());
}

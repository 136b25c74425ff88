//! Proves the run lock: while one process of a run is alive, a second process
//! of the same run fails at once with an error naming the lock file and the
//! holder's pid, and disturbs nothing; a different run in the same directory
//! is not blocked; and a SIGKILLed holder leaves no stale lock behind.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{
    Running, assert_only_locks_left, command, file_names, generations, lock_files, run, run_ok,
    temp_dir,
};

/// Starts `sum {n} --delay-ms 1` and waits until it holds its lock and has
/// saved (its checkpoint is written under the lock).
fn start_holder(dir: &Path, n: &str) -> (Running, PathBuf) {
    let mut holder = Running::spawn(&mut command("sum", dir, &[n, "--delay-ms", "1"]));
    holder.wait_until(
        "the first run held its lock and saved",
        Duration::from_secs(30),
        || !lock_files(dir).is_empty() && !generations(dir).is_empty(),
    );
    let locks = lock_files(dir);
    assert_eq!(locks.len(), 1, "one run, one lock file: {locks:?}");
    (holder, locks[0].clone())
}

#[test]
fn a_second_process_of_the_same_run_is_refused() {
    let dir = temp_dir();
    let (mut holder, lock) = start_holder(dir.path(), "100000");

    let started = Instant::now();
    let second = Running::spawn(&mut command(
        "sum",
        dir.path(),
        &["100000", "--delay-ms", "1"],
    ))
    .wait(Duration::from_secs(10));
    let took = started.elapsed();
    assert!(
        !second.status.success() && !second.was_killed(),
        "a second process of a running run fails by itself\n{}",
        second.describe()
    );
    assert!(
        took < Duration::from_secs(5),
        "the second process gives up at once, not after {took:?}\n{}",
        second.describe()
    );
    let lock_path = lock.display().to_string();
    assert!(
        second.stderr.contains(&lock_path),
        "the refusal names the lock file {lock_path}\n{}",
        second.describe()
    );
    let holder_pid = holder.pid().to_string();
    assert!(
        second
            .stderr
            .split(|c: char| !c.is_ascii_digit())
            .any(|number| number == holder_pid),
        "the refusal names the holder's pid {holder_pid}\n{}",
        second.describe()
    );
    assert!(
        second.stdout.is_empty(),
        "the refused process computes nothing\n{}",
        second.describe()
    );
    assert!(
        second.resumed_lines().is_empty(),
        "the refused process does not load the holder's checkpoint\n{}",
        second.describe()
    );

    // The holder is undisturbed: still running, its checkpoint in place.
    assert!(
        holder.is_running(),
        "the first process is still running after the second was refused"
    );
    assert!(
        !generations(dir.path()).is_empty(),
        "the refused process left the holder's checkpoint alone: {:?}",
        file_names(dir.path())
    );
    let killed = holder.kill();
    assert!(killed.was_killed(), "{}", killed.describe());
}

#[test]
fn another_run_in_the_same_directory_is_not_blocked() {
    let dir = temp_dir();
    let (mut holder, _) = start_holder(dir.path(), "100000");

    // `sum 400` is a different run (its key, n, differs): its own lock.
    let other = run_ok(&mut command("sum", dir.path(), &["400", "--delay-ms", "0"]));
    assert_eq!(other.result(), "80200", "{}", other.describe());
    assert!(
        holder.is_running(),
        "the two runs ran side by side: the first still runs"
    );

    let killed = holder.kill();
    assert!(killed.was_killed(), "{}", killed.describe());
}

#[test]
fn a_killed_holder_leaves_no_stale_lock() {
    let dir = temp_dir();
    let (holder, lock) = start_holder(dir.path(), "2000");
    let killed = holder.kill();
    assert!(killed.was_killed(), "{}", killed.describe());
    assert!(lock.exists(), "the lock file stays after a kill");

    // The next process of the same run takes the lock and resumes.
    let next = run(&mut command(
        "sum",
        dir.path(),
        &["2000", "--delay-ms", "0"],
    ));
    assert!(
        next.status.success(),
        "the lock of a killed process is released with it\n{}",
        next.describe()
    );
    assert_eq!(next.result(), "2001000", "{}", next.describe());
    assert!(
        next.resumed_at().is_some_and(|k| k > 0),
        "the next process resumes the killed one's work\n{}",
        next.describe()
    );
    assert_only_locks_left(dir.path(), &next.describe());
}

#[test]
fn a_second_process_asked_to_wait_takes_over_when_the_first_dies() {
    let dir = temp_dir();
    let (holder, lock) = start_holder(dir.path(), "5000");

    let mut waiter_command = command("sum", dir.path(), &["5000", "--delay-ms", "0"]);
    waiter_command.env("CHECKPOINT_WAIT", "1");
    let mut waiter = Running::spawn(&mut waiter_command);
    waiter.wait_for_stderr(
        "waiting for that process to finish",
        Duration::from_secs(30),
    );
    assert!(waiter.is_running(), "the waiter waits instead of failing");

    let holder_pid = holder.pid().to_string();
    let killed = holder.kill();
    assert!(killed.was_killed(), "{}", killed.describe());
    let finished = waiter.wait(common::RUN_TIMEOUT);
    assert!(finished.status.success(), "{}", finished.describe());
    assert_eq!(finished.result(), "12502500", "{}", finished.describe());
    let waiting = finished
        .stderr
        .lines()
        .find(|l| l.contains("waiting"))
        .unwrap_or_default();
    assert!(
        waiting.contains(&lock.display().to_string())
            && waiting.contains(&format!("pid {holder_pid} on host ")),
        "the waiter names the lock and its holder: {waiting:?}"
    );
    assert!(
        finished.resumed_at().is_some_and(|k| k > 0),
        "the waiter resumes the killed holder's work\n{}",
        finished.describe()
    );
    assert_only_locks_left(dir.path(), &finished.describe());
}

/// The runs (stems) that have a generation in `dir`.
fn runs_with_checkpoints(dir: &Path) -> Vec<String> {
    let mut stems: Vec<String> = generations(dir)
        .iter()
        .filter_map(|g| {
            let name = g.path.file_name()?.to_str()?;
            Some(name.rsplit_once(".g")?.0.to_owned())
        })
        .collect();
    stems.dedup();
    stems
}

#[test]
fn two_runs_in_one_directory_do_not_interfere() {
    let dir = temp_dir();
    let runs = [("3000", "4501500"), ("2999", "4498500")];
    let spawn_both = |delay: &str| {
        runs.map(|(n, _)| {
            Running::spawn(&mut command("sum", dir.path(), &[n, "--delay-ms", delay]))
        })
    };
    for round in 0..3 {
        let mut both = spawn_both("1");
        let [first, _] = &mut both;
        first.wait_until("both runs saved", Duration::from_secs(30), || {
            runs_with_checkpoints(dir.path()).len() == 2
        });
        for running in both {
            let killed = running.kill();
            assert!(killed.was_killed(), "round {round}\n{}", killed.describe());
            assert!(
                killed.warnings().is_empty(),
                "round {round}\n{}",
                killed.describe()
            );
        }
    }
    for (running, (n, expected)) in spawn_both("0").into_iter().zip(runs) {
        let finished = running.wait(common::RUN_TIMEOUT);
        assert!(
            finished.status.success(),
            "sum {n}\n{}",
            finished.describe()
        );
        assert_eq!(
            finished.result(),
            expected,
            "sum {n}\n{}",
            finished.describe()
        );
        assert!(finished.warnings().is_empty(), "{}", finished.describe());
        assert!(
            finished.resumed_at().is_some_and(|k| k > 0),
            "sum {n} resumes its own work\n{}",
            finished.describe()
        );
    }
    assert_only_locks_left(dir.path(), "both runs finished");
}

//! Proves what a preempted job relies on: with `every = "1h"` (so the only
//! saves are the ones signals ask for), SIGTERM, SIGINT or SIGUSR1 at random
//! moments make the run save at the next iteration boundary and exit with
//! 128 + signal, naming a file that is on disk; the rerun finishes with the
//! uninterrupted result and prints the end-of-run summary. Several runs at
//! once (threads, and a function called many times) all save before the
//! process exits. An iteration longer than the grace period is warned
//! about, once.

mod common;

use std::path::Path;
use std::thread;
use std::time::Duration;

use common::{Finished, Rng, Running, command, lock_files, run_ok, temp_dir};

const SIGNALS: [(i32, &str); 3] = [
    (libc::SIGTERM, "SIGTERM"),
    (libc::SIGINT, "SIGINT"),
    (libc::SIGUSR1, "SIGUSR1"),
];

/// The `stopped ...` lines, each checked to name the signal and a file
/// that exists.
fn stop_lines<'a>(stopped: &'a Finished, name: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = stopped
        .stderr
        .lines()
        .filter(|line| line.starts_with("checkpoint: stopped "))
        .collect();
    for line in &lines {
        assert!(line.contains(name), "{line}");
        let file = line
            .split_once("saved to ")
            .and_then(|(_, rest)| rest.split_once("; run the same command again"))
            .map(|(file, _)| file)
            .unwrap_or_else(|| panic!("no file in {line}\n{}", stopped.describe()));
        assert!(Path::new(file).is_file(), "{file} is on disk");
    }
    lines
}

#[test]
fn random_signals_always_exit_with_128_plus_signal_and_the_rerun_finishes_right() {
    let mut rng = Rng::seeded();
    let args = ["3000", "--delay-ms", "2"];
    let expected = run_ok(&mut command("preemptible", temp_dir().path(), &["3000"]))
        .result()
        .to_owned();
    let dir = temp_dir();
    let mut history = format!("seed {}\n", rng.seed());
    for round in 0..6 {
        let (signal, name) = SIGNALS[rng.between(0, 2) as usize];
        let mut running = Running::spawn(&mut command("preemptible", dir.path(), &args));
        // Not the lock file: a stopped run leaves it, so from the second
        // round on it is there before the process has even started.
        running.wait_for_handler(signal, Duration::from_secs(30));
        let after = rng.between(30, 300);
        thread::sleep(Duration::from_millis(after));
        running.signal(signal, name);
        let stopped = running.wait(Duration::from_secs(30));
        history.push_str(&format!(
            "round {round}: {name} after {after} ms\n{}\n",
            stopped.stderr
        ));
        assert_eq!(
            stopped.status.code(),
            Some(128 + signal),
            "{history}{}",
            stopped.describe()
        );
        assert_eq!(stop_lines(&stopped, name).len(), 1, "{history}");
        assert!(stopped.warnings().is_empty(), "{history}");
    }
    let last = run_ok(&mut command("preemptible", dir.path(), &args));
    assert!(
        last.resumed_at().is_some_and(|at| at > 0),
        "{history}{}",
        last.describe()
    );
    assert_eq!(last.result(), expected, "{history}{}", last.describe());
    assert!(
        last.stderr
            .lines()
            .any(|line| line.starts_with("checkpoint: summary of ")
                && line.contains("(finished): ")
                && line.contains(" saves, ")
                && line.contains("of the computation's time")),
        "the end-of-run summary\n{}",
        last.describe()
    );
}

#[test]
fn every_run_of_a_process_saves_before_it_exits() {
    let reference = run_ok(&mut command("many_runs", temp_dir().path(), &["400"]))
        .result()
        .to_owned();
    let dir = temp_dir();
    // About 1.6 s of work per worker thread; each round below runs ~100 ms.
    let args = ["400", "--delay-ms", "4"];
    let mut history = String::new();
    for round in 0..3 {
        let mut running = Running::spawn(&mut command("many_runs", dir.path(), &args));
        if round == 0 {
            running.wait_until("both workers to open", Duration::from_secs(30), || {
                lock_files(dir.path()).len() >= 2
            });
        } else {
            // The stopped rounds left their lock files: wait for both
            // workers to have resumed instead.
            running.wait_for_stderr_times("resumed many_runs::worker", 2, Duration::from_secs(30));
        }
        running.wait_for_handler(libc::SIGTERM, Duration::from_secs(30));
        thread::sleep(Duration::from_millis(60));
        running.signal(libc::SIGTERM, "SIGTERM");
        let stopped = running.wait(Duration::from_secs(30));
        history.push_str(&format!("round {round}:\n{}\n", stopped.stderr));
        assert_eq!(
            stopped.status.code(),
            Some(143),
            "{history}{}",
            stopped.describe()
        );
        assert!(
            stop_lines(&stopped, "SIGTERM").len() >= 2,
            "both worker threads saved before the exit\n{history}"
        );
    }
    let last = run_ok(&mut command("many_runs", dir.path(), &args));
    assert!(
        last.resumed_lines().len() >= 2,
        "both workers resumed\n{history}{}",
        last.describe()
    );
    assert_eq!(last.result(), reference, "{history}{}", last.describe());
}

#[test]
fn an_iteration_longer_than_the_grace_period_is_warned_about_once() {
    let dir = temp_dir();
    let finished = run_ok(&mut command(
        "preemptible",
        dir.path(),
        &["3", "--delay-ms", "1300"],
    ));
    let warnings = finished.warnings();
    assert_eq!(warnings.len(), 1, "{}", finished.describe());
    assert!(
        warnings[0].contains("grace period") && warnings[0].contains("inner loop"),
        "{}",
        warnings[0]
    );
    let quick = run_ok(&mut command(
        "preemptible",
        dir.path(),
        &["30", "--delay-ms", "5"],
    ));
    assert!(quick.warnings().is_empty(), "{}", quick.describe());
}

/// The SLURM batch script of `examples/slurm`, run by bash as SLURM would
/// run it: SIGTERM to the batch shell is forwarded by its trap, the program
/// saves and exits 143, and the script passes that status on; run again,
/// the job resumes and finishes with the uninterrupted result.
#[test]
fn the_slurm_script_forwards_the_signal_and_the_requeued_job_resumes() {
    let scratch = temp_dir();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/slurm/preemptible.sbatch");
    let batch = || {
        let mut batch = std::process::Command::new("bash");
        batch
            .arg(&script)
            .env("SCRATCH", scratch.path())
            .env("SLURM_JOB_NAME", "test-job")
            .env("PROGRAM", common::example("preemptible"))
            .env("STEPS", "1500")
            .env("DELAY_MS", "2")
            .env_remove("CHECKPOINT_DIR")
            .env_remove("CHECKPOINT_QUIET")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        batch
    };
    let checkpoints = scratch.path().join("checkpoints/test-job");
    let mut running = Running::spawn(&mut batch());
    running.wait_until("the job to open its run", Duration::from_secs(30), || {
        !lock_files(&checkpoints).is_empty()
    });
    thread::sleep(Duration::from_millis(200));
    running.signal(libc::SIGTERM, "SIGTERM");
    let stopped = running.wait(Duration::from_secs(30));
    assert_eq!(stopped.status.code(), Some(143), "{}", stopped.describe());
    assert!(
        stopped.stdout.contains("forwarding to"),
        "{}",
        stopped.describe()
    );
    assert_eq!(
        stop_lines(&stopped, "SIGTERM").len(),
        1,
        "{}",
        stopped.describe()
    );

    let requeued = Running::spawn(&mut batch()).wait(Duration::from_secs(60));
    assert!(requeued.status.success(), "{}", requeued.describe());
    assert!(
        requeued.resumed_at().is_some_and(|at| at > 0),
        "{}",
        requeued.describe()
    );
    let reference = run_ok(&mut command("preemptible", temp_dir().path(), &["1500"]));
    let result = requeued
        .stdout
        .lines()
        .find(|line| line.contains(" 0x"))
        .unwrap_or_else(|| panic!("no result line\n{}", requeued.describe()));
    assert_eq!(result, reference.result());
}

/// A signal after the last save point, while the function finishes its
/// work: nothing new to save, so the checkpoint is kept as it is, the
/// process exits with 128 + signal, and the rerun resumes from it.
#[test]
fn a_signal_after_the_last_save_point_keeps_the_checkpoint() {
    let dir = temp_dir();
    let args = ["400", "--delay-ms", "3"];
    // A first run stopped mid-loop leaves a checkpoint.
    let mut first = Running::spawn(&mut command("preemptible", dir.path(), &args));
    first.wait_until("the run to open", Duration::from_secs(30), || {
        !lock_files(dir.path()).is_empty()
    });
    thread::sleep(Duration::from_millis(100));
    first.signal(libc::SIGTERM, "SIGTERM");
    let stopped = first.wait(Duration::from_secs(30));
    assert_eq!(stopped.status.code(), Some(143), "{}", stopped.describe());

    // The second run finishes the loop, then gets SIGTERM in its 0.5 s
    // tail (within the 1 s grace period); the signal is honoured when the
    // function returns.
    let mut second =
        Running::spawn(command("preemptible", dir.path(), &args).env("PREEMPTIBLE_TAIL_MS", "500"));
    second.wait_for_stderr("preemptible: writing results", Duration::from_secs(60));
    second.signal(libc::SIGTERM, "SIGTERM");
    let stopped = second.wait(Duration::from_secs(30));
    assert_eq!(stopped.status.code(), Some(143), "{}", stopped.describe());
    let line = stopped
        .stderr
        .lines()
        .find(|line| line.contains("as it returned"))
        .unwrap_or_else(|| panic!("no line for the stop\n{}", stopped.describe()));
    assert!(line.contains("is kept") && line.contains(".ckpt"), "{line}");

    let last = run_ok(&mut command("preemptible", dir.path(), &args));
    assert!(
        last.resumed_at().is_some_and(|at| at > 0),
        "{}",
        last.describe()
    );
    let reference = run_ok(&mut command("preemptible", temp_dir().path(), &["400"]));
    assert_eq!(last.result(), reference.result());
}

/// The macro-free API honours a signal at its next `save`: that save is
/// written, the process exits with 128 + signal, and the rerun restores it.
#[test]
fn the_explicit_api_honours_a_signal_at_its_next_save() {
    let reference = run_ok(&mut command("explicit", temp_dir().path(), &["40"]))
        .result()
        .to_owned();
    let dir = temp_dir();
    let args = ["40", "--delay-ms", "40"];
    let mut running = Running::spawn(&mut command("explicit", dir.path(), &args));
    running.wait_until("a first save", Duration::from_secs(30), || {
        !common::generations(dir.path()).is_empty()
    });
    running.signal(libc::SIGTERM, "SIGTERM");
    let stopped = running.wait(Duration::from_secs(30));
    assert_eq!(stopped.status.code(), Some(143), "{}", stopped.describe());
    assert_eq!(
        stop_lines(&stopped, "SIGTERM").len(),
        1,
        "{}",
        stopped.describe()
    );
    let last = run_ok(&mut command("explicit", dir.path(), &args));
    assert_eq!(last.resumed_lines().len(), 1, "{}", last.describe());
    assert_eq!(last.result(), reference, "{}", last.describe());
}

/// Workers on threads inside a checkpointed loop save on SIGTERM; the
/// outer run, blocked joining them, cannot: the process waits for it at
/// most its grace period (1 s here), exits with 143, and the rerun returns
/// the uninterrupted result.
#[test]
fn runs_that_cannot_reach_a_save_point_are_waited_for_at_most_the_grace_period() {
    let reference = run_ok(&mut command("nested_threads", temp_dir().path(), &["6"]))
        .result()
        .to_owned();
    let dir = temp_dir();
    let args = ["6", "--delay-ms", "5"];
    let mut running = Running::spawn(&mut command("nested_threads", dir.path(), &args));
    running.wait_until("the workers to open", Duration::from_secs(30), || {
        lock_files(dir.path()).len() >= 3
    });
    running.signal(libc::SIGTERM, "SIGTERM");
    let sent = std::time::Instant::now();
    let stopped = running.wait(Duration::from_secs(30));
    assert_eq!(stopped.status.code(), Some(143), "{}", stopped.describe());
    assert!(
        sent.elapsed() < Duration::from_secs(10),
        "exited {:?} after the signal\n{}",
        sent.elapsed(),
        stopped.describe()
    );
    assert!(
        stop_lines(&stopped, "SIGTERM").len() >= 2,
        "both workers saved\n{}",
        stopped.describe()
    );
    let last = run_ok(&mut command("nested_threads", dir.path(), &args));
    assert_eq!(last.result(), reference, "{}", last.describe());
}

/// A signal the program ignores (`trap '' TERM`, as `nohup` and batch
/// scripts do) stays ignored: the run neither saves nor stops on it.
#[test]
fn an_ignored_signal_stays_ignored() {
    let dir = temp_dir();
    let line = format!(
        "trap '' TERM; exec {} 300 --delay-ms 5",
        common::example("preemptible").display()
    );
    let mut running = Running::spawn(
        std::process::Command::new("bash")
            .args(["-c", &line])
            .env("CHECKPOINT_DIR", dir.path())
            .env_remove("CHECKPOINT_QUIET")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped()),
    );
    running.wait_until("the run to open", Duration::from_secs(30), || {
        !lock_files(dir.path()).is_empty()
    });
    running.signal(libc::SIGTERM, "SIGTERM");
    let finished = running.wait(Duration::from_secs(60));
    assert!(finished.status.success(), "{}", finished.describe());
    assert!(
        !finished.stderr.contains("stopped"),
        "{}",
        finished.describe()
    );
    let reference = run_ok(&mut command("preemptible", temp_dir().path(), &["300"]));
    assert_eq!(finished.result(), reference.result());
}

/// An iteration that outlasts the grace period is warned about while it is
/// still running, naming its loop: the run is still alive when the warning
/// is read, long before its 60 s iteration could have ended.
#[test]
fn a_stuck_iteration_is_warned_about_while_it_runs() {
    let dir = temp_dir();
    let mut stuck = Running::spawn(&mut command(
        "preemptible",
        dir.path(),
        &["2", "--delay-ms", "60000"],
    ));
    stuck.wait_for_stderr("has been running for", Duration::from_secs(30));
    assert!(stuck.is_running(), "the iteration ended first");
    let warning = stuck
        .stderr_so_far()
        .lines()
        .find(|line| line.contains("has been running for"))
        .map(str::to_owned)
        .expect("the warning was just seen");
    assert!(
        warning.contains("of the loop `for _ in 0..steps`") && warning.contains("grace period"),
        "{warning}"
    );
    stuck.kill();
}

/// A signal that cannot reach a save point within the grace period (an
/// iteration of 60 s, a grace of 1 s) still ends the process with 143, and
/// the checkpoint saved before is kept: a rerun resumes from it and returns
/// the uninterrupted result.
#[test]
fn a_signal_that_reaches_no_save_point_exits_after_the_grace_period() {
    let dir = temp_dir();
    let args = ["400", "--delay-ms", "3"];
    let mut first = Running::spawn(&mut command("preemptible", dir.path(), &args));
    first.wait_for_handler(libc::SIGTERM, Duration::from_secs(30));
    thread::sleep(Duration::from_millis(100));
    first.signal(libc::SIGTERM, "SIGTERM");
    let saved = first.wait(Duration::from_secs(30));
    assert_eq!(saved.status.code(), Some(143), "{}", saved.describe());
    let saved_at = saved
        .stderr
        .lines()
        .find(|line| line.contains("stopped"))
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("no stop line\n{}", saved.describe()));

    // Resumed with 60 s iterations, the run gets SIGTERM in the middle of
    // one: it cannot save, and exits after the grace period.
    let mut stuck = Running::spawn(&mut command(
        "preemptible",
        dir.path(),
        &["400", "--delay-ms", "60000"],
    ));
    stuck.wait_for_stderr("resumed", Duration::from_secs(30));
    stuck.wait_for_handler(libc::SIGTERM, Duration::from_secs(30));
    stuck.signal(libc::SIGTERM, "SIGTERM");
    let stopped = stuck.wait(Duration::from_secs(30));
    assert_eq!(stopped.status.code(), Some(143), "{}", stopped.describe());
    assert!(
        stopped
            .stderr
            .contains("reached no save point within the 1.0 s grace period after SIGTERM"),
        "{}",
        stopped.describe()
    );

    let last = run_ok(&mut command("preemptible", dir.path(), &["400"]));
    assert!(
        last.resumed_at().is_some_and(|at| at > 0),
        "resumes from the checkpoint saved before ({saved_at})\n{}",
        last.describe()
    );
    let reference = run_ok(&mut command("preemptible", temp_dir().path(), &["400"]));
    assert_eq!(last.result(), reference.result());
}

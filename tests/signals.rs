//! Proves that SIGINT, SIGTERM and SIGUSR1 make a run save at the next
//! iteration boundary and exit with 128 + signal, saying where it stopped,
//! and that the rerun resumes there and finishes with the uninterrupted
//! result; and that a second Ctrl-C exits at once with one line naming the
//! checkpoint a rerun resumes from.

mod common;

use std::time::Duration;

use common::{Running, command, generations, run_ok, temp_dir};

fn stops_saves_and_resumes(signal: i32, name: &str) {
    let dir = temp_dir();
    let args = ["200", "--delay-ms", "5"];
    // `every = "1h"` in spirit: `factorial` saves every 250 ms, so wait for
    // the first save, then signal; the save on the signal is the newest.
    let mut running = Running::spawn(&mut command("factorial", dir.path(), &args));
    running.wait_until("a first checkpoint", Duration::from_secs(30), || {
        !generations(dir.path()).is_empty()
    });
    running.signal(signal, name);
    let stopped = running.wait(Duration::from_secs(30));
    assert_eq!(
        stopped.status.code(),
        Some(128 + signal),
        "exit status after {name}\n{}",
        stopped.describe()
    );
    let line = stopped
        .stderr
        .lines()
        .find(|line| line.starts_with("checkpoint: stopped "))
        .unwrap_or_else(|| panic!("no `stopped` line\n{}", stopped.describe()));
    assert!(
        line.contains(name)
            && line.contains(".ckpt")
            && line.contains("run the same command again"),
        "the line says which signal, which file, and how to resume: {line}"
    );

    let resumed = run_ok(&mut command("factorial", dir.path(), &args));
    assert!(
        resumed.resumed_at().is_some_and(|at| at > 0),
        "{}",
        resumed.describe()
    );
    let reference = run_ok(&mut command("factorial", temp_dir().path(), &["200"]));
    assert_eq!(resumed.result(), reference.result());
}

#[test]
fn sigint_saves_and_exits_130() {
    stops_saves_and_resumes(libc::SIGINT, "SIGINT");
}

#[test]
fn sigterm_saves_and_exits_143() {
    stops_saves_and_resumes(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sigusr1_saves_and_exits_138() {
    stops_saves_and_resumes(libc::SIGUSR1, "SIGUSR1");
}

/// Runs `sum 40` with a second per iteration and a save after every one
/// (`CHECKPOINT_EVERY`), waits for `saves` checkpoints, then presses Ctrl-C
/// twice while an iteration is still running: the run cannot reach a save
/// point before the second one. Returns the run's end and its directory.
fn ctrl_c_twice(saves: u64) -> (common::Finished, tempfile::TempDir) {
    let dir = temp_dir();
    let mut running = Running::spawn(
        command("sum", dir.path(), &["40", "--delay-ms", "1000"]).env("CHECKPOINT_EVERY", "1ms"),
    );
    running.wait_for_handler(libc::SIGINT, Duration::from_secs(30));
    running.wait_until("the checkpoints", Duration::from_secs(30), || {
        let newest = generations(dir.path()).iter().map(|g| g.number).max();
        newest.unwrap_or(0) >= saves
    });
    running.signal(libc::SIGINT, "SIGINT");
    std::thread::sleep(Duration::from_millis(100));
    running.signal(libc::SIGINT, "SIGINT");
    (running.wait(Duration::from_secs(30)), dir)
}

#[test]
fn a_second_ctrl_c_exits_at_once_naming_the_checkpoint_a_rerun_resumes_from() {
    let (stopped, dir) = ctrl_c_twice(2);
    assert_eq!(stopped.status.code(), Some(130), "{}", stopped.describe());
    let line = stopped
        .stderr
        .lines()
        .find(|line| line.contains("second Ctrl-C"))
        .unwrap_or_else(|| panic!("no line for the second Ctrl-C\n{}", stopped.describe()));
    let newest = generations(dir.path())
        .into_iter()
        .max_by_key(|g| g.number)
        .expect("the checkpoints stay");
    assert!(
        line.starts_with(
            "checkpoint: second Ctrl-C: stopped at once without saving; a rerun resumes from "
        ) && line.contains(&newest.path.display().to_string())
            && line.contains("(iteration "),
        "the line names the newest checkpoint, {}, and where it stands: {line}",
        newest.path.display()
    );

    let resumed = run_ok(&mut command("sum", dir.path(), &["40", "--delay-ms", "0"]));
    assert_eq!(resumed.result(), "820", "{}", resumed.describe());
    assert!(
        resumed
            .stderr
            .contains(&format!("from {}", newest.path.display())),
        "the rerun resumes from the file the line named\n{}",
        resumed.describe()
    );
}

#[test]
fn a_second_ctrl_c_before_any_save_says_a_rerun_starts_over() {
    let (stopped, _dir) = ctrl_c_twice(0);
    assert_eq!(stopped.status.code(), Some(130), "{}", stopped.describe());
    assert!(
        stopped.stderr.contains(
            "checkpoint: second Ctrl-C: stopped at once without saving; sum::sum has no checkpoint yet, so a rerun starts it from the beginning"
        ),
        "{}",
        stopped.describe()
    );
}

/// With a save due every millisecond and no pause, saves are handed to a
/// disk that is still writing the previous one (the unit tests in
/// `writer.rs` hold the disk to show the superseding itself); a signal
/// still saves the newest state and waits for it: the rerun resumes
/// exactly where the stop line says, from the file it names.
#[test]
fn a_signal_saves_the_newest_state_while_saves_are_superseded() {
    let dir = temp_dir();
    let args = ["100000000", "--delay-ms", "0"];
    let mut running =
        Running::spawn(command("sum", dir.path(), &args).env("CHECKPOINT_EVERY", "1ms"));
    running.wait_until("a few saves", Duration::from_secs(30), || {
        generations(dir.path()).iter().any(|g| g.number >= 5)
    });
    running.signal(libc::SIGTERM, "SIGTERM");
    let stopped = running.wait(Duration::from_secs(30));
    assert_eq!(stopped.status.code(), Some(143), "{}", stopped.describe());
    let line = stopped
        .stderr
        .lines()
        .find(|line| line.starts_with("checkpoint: stopped "))
        .unwrap_or_else(|| panic!("no `stopped` line\n{}", stopped.describe()));
    // "stopped sum::sum on SIGTERM at iteration K of N; saved to FILE; ..."
    let place = line
        .split(" at ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("the place");
    let file = line
        .split("saved to ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("the file");

    let mut rerun = Running::spawn(&mut command("sum", dir.path(), &args));
    rerun.wait_for_stderr("checkpoint: resumed", Duration::from_secs(30));
    let resumed = rerun.kill();
    assert!(
        resumed
            .stderr
            .contains(&format!("resumed sum::sum at {place} from {file} ")),
        "the rerun resumes at {place} from {file}, the newest state the signal saved\n{}",
        resumed.describe()
    );
}

/// A signal during a long iteration: the run says at once (within about a
/// second) that it finishes the iteration first, then saves and stops.
#[test]
fn a_signal_during_a_long_iteration_says_the_run_finishes_it_first() {
    let dir = temp_dir();
    let mut running = Running::spawn(&mut command(
        "sum",
        dir.path(),
        &["40", "--delay-ms", "3000"],
    ));
    running.wait_for_handler(libc::SIGINT, Duration::from_secs(30));
    running.signal(libc::SIGINT, "SIGINT");
    running.wait_for_stderr(
        "checkpoint: sum::sum got SIGINT: it saves at the end of the current iteration, then exits (Ctrl-C again stops at once, without saving)",
        Duration::from_secs(10),
    );
    let stopped = running.wait(Duration::from_secs(30));
    assert_eq!(stopped.status.code(), Some(130), "{}", stopped.describe());
    assert!(
        stopped
            .stderr
            .contains("checkpoint: stopped sum::sum on SIGINT"),
        "{}",
        stopped.describe()
    );
}

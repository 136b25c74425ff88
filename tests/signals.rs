//! Proves that SIGINT, SIGTERM and SIGUSR1 make a run save at the next
//! iteration boundary and exit with 128 + signal, saying where it stopped,
//! and that the rerun resumes there and finishes with the uninterrupted
//! result.

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

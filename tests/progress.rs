//! Proves what a person watching a run sees: on a terminal, a progress bar
//! with position, rate, ETA and where the run resumed; elsewhere, one line
//! per save; `CHECKPOINT_QUIET=1` silences everything. The terminal is a
//! real pseudo-terminal made by `script(1)`; without it the terminal case
//! is skipped with a message.

mod common;

use std::process::Command;

use common::{command, example, run, run_ok, temp_dir};

/// Runs `preemptible args` on a pseudo-terminal; what the terminal showed,
/// or `None` when `script` is not available.
fn on_a_terminal(dir: &std::path::Path, args: &str) -> Option<String> {
    let line = format!("{} {args}", example("preemptible").display());
    let output = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .env("CHECKPOINT_DIR", dir)
        .env_remove("CHECKPOINT_QUIET")
        .output()
        .ok()?;
    Some(String::from_utf8_lossy(&output.stdout).replace('\r', "\n"))
}

#[test]
fn a_terminal_shows_a_progress_bar_with_rate_eta_and_where_the_run_resumed() {
    let dir = temp_dir();
    // A first run stopped by SIGTERM partway, with nothing but the signal's save.
    let mut first = common::Running::spawn(&mut command(
        "preemptible",
        dir.path(),
        &["400", "--delay-ms", "5"],
    ));
    first.wait_until(
        "the run to open",
        std::time::Duration::from_secs(30),
        || !common::lock_files(dir.path()).is_empty(),
    );
    std::thread::sleep(std::time::Duration::from_millis(300));
    first.signal(libc::SIGTERM, "SIGTERM");
    let stopped = first.wait(std::time::Duration::from_secs(30));
    assert_eq!(stopped.status.code(), Some(143), "{}", stopped.describe());

    let Some(screen) = on_a_terminal(dir.path(), "400 --delay-ms 5") else {
        eprintln!("skipped: script(1) is not available to make a terminal");
        return;
    };
    let bar = screen
        .lines()
        .rfind(|line| line.contains("preemptible::simulate [") && line.contains("/400"))
        .unwrap_or_else(|| panic!("no progress bar on the terminal:\n{screen}"));
    assert!(bar.contains("ETA") && bar.contains("/s"), "{bar}");
    assert!(bar.contains("resumed at "), "{bar}");
    assert!(
        screen.contains("summary of preemptible::simulate (finished)"),
        "{screen}"
    );
}

#[test]
fn without_a_terminal_each_save_is_one_line_and_quiet_silences_all() {
    let dir = temp_dir();
    let finished = run_ok(&mut command("sum", dir.path(), &["40", "--delay-ms", "30"]));
    let saves: Vec<&str> = finished
        .stderr
        .lines()
        .filter(|line| line.starts_with("checkpoint: saved iteration "))
        .collect();
    // Every 5 iterations of 30 ms: 8 saves, 150 ms apart, but at most one
    // line a second.
    assert!(!saves.is_empty(), "{}", finished.describe());
    assert!(saves.len() < 8, "{}", finished.describe());
    assert!(
        saves[0].contains(" of 40 to ")
            && saves[0].contains(".ckpt (")
            && saves[0].contains(" ms)"),
        "{}",
        saves[0]
    );
    assert!(
        finished
            .stderr
            .lines()
            .any(|line| line.starts_with("checkpoint: summary of sum::sum (finished): 8 saves")),
        "{}",
        finished.describe()
    );

    let quiet = run(
        command("sum", temp_dir().path(), &["40", "--delay-ms", "30"]).env("CHECKPOINT_QUIET", "1"),
    );
    assert!(quiet.status.success());
    assert_eq!(quiet.stderr, "", "CHECKPOINT_QUIET=1 prints nothing");
    assert_eq!(quiet.result(), finished.result());
}

/// The macro-free API has no loop positions: its save lines count saves
/// ("saved save 3 to ..."), not "the start" every time.
#[test]
fn explicit_api_save_lines_count_the_saves() {
    let dir = temp_dir();
    let finished = run_ok(&mut command(
        "explicit",
        dir.path(),
        &["5", "--delay-ms", "50"],
    ));
    let saves: Vec<&str> = finished
        .stderr
        .lines()
        .filter(|line| line.starts_with("checkpoint: saved "))
        .collect();
    assert!(!saves.is_empty(), "{}", finished.describe());
    let count = saves[0]
        .strip_prefix("checkpoint: saved save ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse::<u64>().ok());
    assert!(
        count.is_some_and(|n| (1..=5).contains(&n)) && !saves[0].contains("the start"),
        "{}",
        finished.describe()
    );
}

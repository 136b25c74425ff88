//! Proves that checkpointed functions running at once on several threads
//! (distinct keys, one directory) each save and resume their own run:
//! `examples/threads.rs` is killed at random moments, then finished, and
//! prints exactly what an uninterrupted run prints.

mod common;

use std::thread;
use std::time::Duration;

use common::{Rng, Running, assert_only_locks_left, command, generations, run_ok, temp_dir};

#[test]
fn threads_each_resume_their_own_run() {
    let mut rng = Rng::seeded();
    // 1000 iterations of 2 ms: four kills at most 200 ms apart cannot
    // reach the end (a CI run once saw 300 finish before its fourth kill).
    let args = ["1000", "--delay-ms", "2"];
    let reference_dir = temp_dir();
    let expected = run_ok(&mut command("threads", reference_dir.path(), &["1000"])).stdout;
    assert_eq!(expected.lines().count(), 9, "{expected}");

    let dir = temp_dir();
    let mut resumed = 0;
    let mut finished_early = None;
    for attempt in 0..4 {
        let mut running = Running::spawn(&mut command("threads", dir.path(), &args));
        if attempt == 0 {
            running.wait_until("every thread saved", Duration::from_secs(30), || {
                generations(dir.path()).len() >= 8
            });
        }
        thread::sleep(Duration::from_millis(rng.between(20, 200)));
        let killed = running.kill();
        assert!(
            killed.warnings().is_empty(),
            "seed {}\n{}",
            rng.seed(),
            killed.describe()
        );
        if !killed.was_killed() {
            // It finished before its kill: it is the last run, checked below.
            finished_early = Some(killed);
            break;
        }
        resumed += killed.resumed_lines().len();
    }
    let last = finished_early.unwrap_or_else(|| run_ok(&mut command("threads", dir.path(), &args)));
    assert!(last.status.success(), "{}", last.describe());
    resumed += last.resumed_lines().len();
    assert_eq!(
        last.stdout,
        expected,
        "seed {}\n{}",
        rng.seed(),
        last.describe()
    );
    assert!(last.warnings().is_empty(), "{}", last.describe());
    assert!(
        resumed >= 8,
        "the threads resumed their runs ({resumed} resumes)\n{}",
        last.describe()
    );
    assert_only_locks_left(dir.path(), &last.describe());
}

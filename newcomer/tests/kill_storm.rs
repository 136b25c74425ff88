//! The newcomer's six jobs, each SIGKILLed at random moments many times and
//! then run to the end, return what an uninterrupted run returns, bit for
//! bit (floating-point results are compared as bits).

#[path = "../../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::thread;
use std::time::Duration;

use common::{Rng, Running, command_at, generations, run_ok, temp_dir};

const KILLS: usize = 8;

fn newcomer() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_newcomer"))
}

fn survives_kills(job: &str, n: u64, delay_ms: u64) {
    let mut rng = Rng::seeded();
    let n = n.to_string();
    let delay = delay_ms.to_string();
    let expected = run_ok(&mut command_at(newcomer(), temp_dir().path(), &[job, &n]))
        .result()
        .to_owned();
    let dir = temp_dir();
    let args = [job, n.as_str(), "--delay-ms", delay.as_str()];
    let mut history = format!("seed {}; newcomer {}\n", rng.seed(), args.join(" "));
    let mut kills = 0;
    while kills < KILLS {
        let mut running = Running::spawn(&mut command_at(newcomer(), dir.path(), &args));
        if kills == 0 {
            running.wait_until("a first checkpoint", Duration::from_secs(30), || {
                !generations(dir.path()).is_empty()
            });
        }
        let after = rng.between(10, 120);
        thread::sleep(Duration::from_millis(after));
        let killed = running.kill();
        history.push_str(&format!(
            "kill after {after} ms: {}\n",
            killed.stderr.trim()
        ));
        assert!(
            killed.warnings().is_empty(),
            "a kill never leaves a damaged checkpoint\n{history}"
        );
        if !killed.was_killed() {
            // It finished before the kill: that run's answer must be right too.
            assert_eq!(killed.result(), expected, "{history}");
            break;
        }
        kills += 1;
    }
    let last = run_ok(&mut command_at(newcomer(), dir.path(), &args));
    assert_eq!(last.result(), expected, "{history}{}", last.describe());
    assert!(
        generations(dir.path()).is_empty(),
        "a completed run removes its checkpoints\n{history}"
    );
}

#[test]
fn nested_loops() {
    survives_kills("nested", 60, 8);
}

#[test]
fn two_phases_with_a_map_valued_state() {
    survives_kills("phases", 100, 4);
}

#[test]
fn monte_carlo_with_a_seeded_rng() {
    survives_kills("monte_carlo", 100, 5);
}

#[test]
fn a_method_on_self() {
    survives_kills("method", 150, 4);
}

#[test]
fn a_generic_function() {
    survives_kills("generic", 150, 4);
}

#[test]
fn a_result_with_the_question_mark() {
    survives_kills("result", 150, 4);
}

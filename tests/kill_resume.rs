//! Proves that `kill -9` loses nothing but time: every example is SIGKILLed
//! at random moments, again and again (for `sum`, often in the middle of a
//! save), then run to completion, and prints exactly what an uninterrupted
//! run prints; its progress carries across the kills, never goes backwards,
//! no kill leaves a checkpoint the next run finds damaged, and the finished
//! run leaves no checkpoint behind.

mod common;

use std::fmt::Write as _;
use std::thread;
use std::time::{Duration, Instant};

use common::{
    Finished, Rng, Running, assert_only_locks_left, command, generations, run, run_ok, temp_dir,
};

/// One example under repeated SIGKILL.
struct Torture {
    example: &'static str,
    n: u64,
    /// The example's pause per iteration: sets how long a whole run takes.
    delay_ms: u64,
    /// How many runs are killed before one may finish.
    kills: usize,
    /// Each run is killed this many milliseconds after it starts (the first
    /// run: after its first save), chosen at random.
    kill_after_ms: (u64, u64),
    /// A file the example writes as it goes, in its working directory: the
    /// last run must leave it byte for byte as the uninterrupted run did.
    output: Option<&'static str>,
}

/// The command running `example` with its working directory in `cwd`.
fn in_dir(mut command: std::process::Command, cwd: &std::path::Path) -> std::process::Command {
    command.current_dir(cwd);
    command
}

fn kill_repeatedly_then_finish(torture: &Torture) {
    let mut rng = Rng::seeded();
    let seed = rng.seed();
    let example = torture.example;
    let n = torture.n.to_string();
    let delay = torture.delay_ms.to_string();
    let args = [n.as_str(), "--delay-ms", delay.as_str()];

    // The reference. The pause only sleeps and is not part of the run's
    // identity, so the reference runs without it, in its own directory.
    let reference_dir = temp_dir();
    let reference_cwd = temp_dir();
    let reference = run_ok(&mut in_dir(
        command(example, reference_dir.path(), &[&n]),
        reference_cwd.path(),
    ));
    let expected = reference.result().to_owned();
    assert!(
        !expected.is_empty(),
        "the uninterrupted run printed no result\n{}",
        reference.describe()
    );
    assert!(
        reference.resumed_lines().is_empty() && reference.warnings().is_empty(),
        "a first run in an empty directory neither resumes nor warns\n{}",
        reference.describe()
    );

    let dir = temp_dir();
    let cwd = temp_dir();
    let run_in_dir = || in_dir(command(example, dir.path(), &args), cwd.path());
    // One line per run, printed with any failure.
    let mut history = format!("seed {seed}; {example} {}\n", args.join(" "));
    let mut furthest = 0;
    let mut finished_early = None;
    let mut completed_under_kill = false;
    for attempt in 0..torture.kills {
        let spawned = Instant::now();
        let mut running = Running::spawn(&mut run_in_dir());
        if attempt == 0 {
            // Some progress must exist to be carried over: wait for it.
            running.wait_until(
                "the first checkpoint file appeared",
                Duration::from_secs(30),
                || !generations(dir.path()).is_empty(),
            );
        }
        let after_ms = rng.between(torture.kill_after_ms.0, torture.kill_after_ms.1);
        thread::sleep(Duration::from_millis(after_ms));
        let killed = running.kill();
        let lived = spawned.elapsed();
        let resumed_at = killed.resumed_at();
        writeln!(
            history,
            "run {attempt}: killed {after_ms} ms in; resumed at {resumed_at:?}; {}",
            killed.status
        )
        .expect("write to a String");
        check_run(&killed, &mut furthest, &history);
        if killed.was_killed() && generations(dir.path()).is_empty() {
            // The kill landed after the computation returned and removed
            // its checkpoint, while the process was printing or exiting:
            // the computation is complete, and the next run is a new one.
            // Unless the run could not have got that far: its remaining
            // iterations each sleep `delay_ms`.
            // (`primes` counts candidates, which outnumber the primes.)
            let remaining = torture.n.saturating_sub(resumed_at.unwrap_or(0));
            assert!(
                lived >= Duration::from_millis(remaining * torture.delay_ms),
                "run {attempt} was killed {lived:?} after it started, too soon to finish its {remaining} remaining iterations of {} ms, yet no checkpoint is left: one was lost\n{history}{}",
                torture.delay_ms,
                killed.describe()
            );
            assert!(
                killed.result().is_empty() || killed.result() == expected,
                "run {attempt} finished its computation with a wrong result before the kill\n{history}{}",
                killed.describe()
            );
            writeln!(
                history,
                "run {attempt} had finished its computation when the kill landed: the next run starts afresh"
            )
            .expect("write to a String");
            completed_under_kill = true;
            break;
        }
        if !killed.was_killed() {
            assert!(
                killed.status.success(),
                "run {attempt} died, and not of the SIGKILL\n{history}{}",
                killed.describe()
            );
            // It finished before its kill: it is the last run.
            finished_early = Some(killed);
            break;
        }
    }

    let last = finished_early.unwrap_or_else(|| run(&mut run_in_dir()));
    let context = format!("{history}last run:\n{}", last.describe());
    assert!(last.status.success(), "the last run failed\n{context}");
    check_run(&last, &mut furthest, &context);
    assert_eq!(
        last.result(),
        expected,
        "the interrupted computation's result differs from the uninterrupted one\n{context}"
    );
    if completed_under_kill {
        assert_eq!(
            last.resumed_at(),
            None,
            "the computation had completed and removed its checkpoint, yet the next run resumed\n{context}"
        );
        assert!(
            furthest > 0,
            "no run resumed past iteration 0 before the computation completed\n{context}"
        );
    } else {
        assert!(
            last.resumed_at().is_some_and(|k| k > 0),
            "a checkpoint existed since the first kill, yet the last run did not resume past iteration 0\n{context}"
        );
    }
    assert_only_locks_left(dir.path(), &context);
    if let Some(output) = torture.output {
        let read = |cwd: &std::path::Path| {
            std::fs::read(cwd.join(output))
                .unwrap_or_else(|err| panic!("read {output}: {err}\n{context}"))
        };
        assert!(
            read(cwd.path()) == read(reference_cwd.path()),
            "{output} differs from the one an uninterrupted run wrote\n{context}"
        );
    }
    // Shown with `--nocapture`: how the kills went.
    eprintln!("{history}last run: resumed at {:?}", last.resumed_at());
}

/// What every run, killed or not, must show: no warning (a SIGKILL, even in
/// the middle of a save, never leaves a damaged or half-written checkpoint),
/// and a resume no earlier than any resume before it.
fn check_run(run: &Finished, furthest: &mut u64, history: &str) {
    assert!(
        run.warnings().is_empty(),
        "a run after SIGKILLs found something wrong with the checkpoints\n{history}{}",
        run.describe()
    );
    if let Some(k) = run.resumed_at() {
        assert!(
            k >= *furthest,
            "resumed at iteration {k}, before an earlier run's resume at {furthest}: progress went backwards\n{history}{}",
            run.describe()
        );
        *furthest = k;
    }
}

#[test]
fn factorial_survives_repeated_sigkill() {
    kill_repeatedly_then_finish(&Torture {
        example: "factorial",
        n: 1200,
        delay_ms: 3,
        kills: 6,
        kill_after_ms: (50, 700),
        output: None,
    });
}

#[test]
fn primes_survives_repeated_sigkill() {
    kill_repeatedly_then_finish(&Torture {
        example: "primes",
        n: 1000,
        delay_ms: 3,
        kills: 6,
        kill_after_ms: (50, 700),
        output: None,
    });
}

/// A rayon workload: each iteration of the save point runs a chunk on
/// every core; the float sum is combined in index order, so the result is
/// bit-identical however the threads were scheduled and wherever the kills
/// landed.
#[test]
fn parallel_survives_repeated_sigkill() {
    kill_repeatedly_then_finish(&Torture {
        example: "parallel",
        n: 300,
        delay_ms: 3,
        kills: 6,
        kill_after_ms: (50, 700),
        output: None,
    });
}

#[test]
fn sum_survives_repeated_sigkill() {
    kill_repeatedly_then_finish(&Torture {
        example: "sum",
        n: 1500,
        delay_ms: 1,
        kills: 10,
        kill_after_ms: (5, 150),
        output: None,
    });
}

/// An image written a row at a time as the run goes, the file's length in
/// the state: however the kills fall (after a row is written and before
/// its save, during a save), the last run leaves the file byte for byte as
/// an uninterrupted run does, no row twice and none missing.
#[test]
fn render_leaves_the_same_output_file_after_repeated_sigkill() {
    kill_repeatedly_then_finish(&Torture {
        example: "render",
        n: 200,
        delay_ms: 4,
        kills: 8,
        kill_after_ms: (20, 300),
        output: Some("render.pgm"),
    });
}

/// Without a pause, `sum` saves every few hundred microseconds: most kills
/// land in the middle of a save (temp file written, fsynced, renamed,
/// directory fsynced, old generation pruned).
#[test]
fn sum_survives_sigkill_during_saves() {
    kill_repeatedly_then_finish(&Torture {
        example: "sum",
        // Several times the longest run of kills: the loop never waits
        // for the disk, so 12000 took 9 ms; 2 million take about a second.
        n: 2_000_000,
        delay_ms: 0,
        kills: 15,
        kill_after_ms: (1, 40),
        output: None,
    });
}

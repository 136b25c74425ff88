//! Proves that the shapes real functions take resume correctly after
//! `kill -9`: nested loops with labelled `continue` and `break`, phases with
//! state declared between them, a `while` around a save point, `&mut self`
//! and `&self` methods with an early `return`, a generic function, and a
//! `Result` with `?` — each killed at random moments, then finished, must
//! print what an uninterrupted run prints. An early exit by error keeps the
//! checkpoint; a normal return removes it.

mod common;

use std::thread;
use std::time::Duration;

use common::{Rng, Running, command, generations, run, run_ok, temp_dir};

fn survives_kills(shape: &str, n: u64, delay_ms: u64) {
    let mut rng = Rng::seeded();
    let n = n.to_string();
    let delay = delay_ms.to_string();
    let reference_dir = temp_dir();
    let expected = run_ok(&mut command("shapes", reference_dir.path(), &[shape, &n]))
        .result()
        .to_owned();

    let dir = temp_dir();
    let args = [shape, n.as_str(), "--delay-ms", delay.as_str()];
    let mut resumed_past_start = false;
    let mut history = format!("seed {}; shapes {}\n", rng.seed(), args.join(" "));
    for attempt in 0..5 {
        let mut running = Running::spawn(&mut command("shapes", dir.path(), &args));
        if attempt == 0 {
            running.wait_until("a first checkpoint", Duration::from_secs(30), || {
                !generations(dir.path()).is_empty()
            });
        }
        let after = rng.between(20, 150);
        thread::sleep(Duration::from_millis(after));
        let killed = running.kill();
        resumed_past_start |= killed.resumed_at().is_some_and(|at| at > 0);
        history.push_str(&format!(
            "run {attempt}: killed after {after} ms, {}\n",
            killed.stderr.trim()
        ));
        assert!(
            killed.warnings().is_empty(),
            "a kill must never leave a damaged checkpoint\n{history}"
        );
    }
    let last = run_ok(&mut command("shapes", dir.path(), &args));
    resumed_past_start |= last.resumed_at().is_some_and(|at| at > 0);
    assert_eq!(last.result(), expected, "{history}{}", last.describe());
    assert!(
        resumed_past_start,
        "no rerun resumed past iteration 0\n{history}"
    );
    assert!(
        generations(dir.path()).is_empty(),
        "a completed run removes its checkpoints"
    );
}

#[test]
fn nested_loops_with_labelled_continue_and_break() {
    survives_kills("nested", 30, 2);
}

#[test]
fn phases_with_state_declared_between_them() {
    survives_kills("phases", 80, 3);
}

#[test]
fn while_loop_around_a_save_point() {
    survives_kills("collatz", 27, 2);
}

#[test]
fn mut_self_method() {
    survives_kills("walk", 200, 2);
}

#[test]
fn self_method_with_early_return() {
    survives_kills("first_multiple", 60, 2);
}

#[test]
fn generic_function() {
    survives_kills("generic", 200, 2);
}

#[test]
fn result_with_question_mark() {
    survives_kills("result", 200, 2);
}

#[test]
fn an_error_keeps_the_checkpoint_for_the_next_attempt() {
    let dir = temp_dir();
    let bad_input = |dir| {
        let mut command = command("shapes", dir, &["result", "40"]);
        command.env("SHAPES_BAD_LINE", "1");
        run(&mut command)
    };
    let failed = bad_input(dir.path());
    assert!(
        failed.result().starts_with("error:"),
        "{}",
        failed.describe()
    );
    assert!(
        !generations(dir.path()).is_empty(),
        "the run returned Err: its checkpoint stays for the next attempt"
    );
    let again = bad_input(dir.path());
    assert!(
        again.resumed_at().is_some_and(|at| at >= 20),
        "the second attempt resumes where the first failed\n{}",
        again.describe()
    );
    assert!(again.result().starts_with("error:"), "{}", again.describe());
}

/// A loop over the lines of a file replays them on resume. Saved after 10
/// lines, then rerun on a file of 3: it stops with exit 1, naming the loop
/// and the reason, instead of returning the sum of 3 lines as if done; the
/// checkpoint stays, and with the file restored (and grown) the rerun
/// resumes from it and returns the whole sum.
#[test]
fn a_replayed_iterator_that_ends_before_the_saved_iteration_stops() {
    let dir = temp_dir();
    let input = dir.path().join("numbers.txt");
    let sum_lines = |contents: &str| {
        std::fs::write(&input, contents).expect("write the input");
        let mut command = command("shapes", dir.path(), &["lines", "1"]);
        command.env("SHAPES_INPUT", &input);
        run(&mut command)
    };
    let ten: String = (1..=10).map(|i| format!("{i}\n")).collect();
    let failed = sum_lines(&format!("{ten}not a number\n"));
    assert!(
        failed.result().starts_with("error:"),
        "{}",
        failed.describe()
    );
    let kept = generations(dir.path());
    assert!(!kept.is_empty(), "{}", failed.describe());

    let short = sum_lines("1\n2\n3\n");
    assert_eq!(short.status.code(), Some(1), "{}", short.describe());
    assert!(
        short.stdout.is_empty()
            && short
                .stderr
                .contains("for line in std::io::BufReader::new(file).lines()")
            && short.stderr.contains("had done 10 iterations")
            && short.stderr.contains("checkpoint is kept"),
        "{}",
        short.describe()
    );
    assert_eq!(generations(dir.path()), kept, "{}", short.describe());

    let whole = sum_lines(&format!("{ten}11\n12\n"));
    assert_eq!(whole.resumed_at(), Some(10), "{}", whole.describe());
    assert_eq!(whole.result(), "78", "{}", whole.describe());
}

/// A save-point loop over a `HashMap` hidden behind an alias and a helper
/// compiles, but the run refuses to start it: exit 1, the loop and the fix
/// named, nothing printed on stdout and no checkpoint written.
#[test]
fn a_loop_over_a_hidden_hash_map_stops_before_it_starts() {
    let dir = temp_dir();
    let stopped = run(&mut command("unordered", dir.path(), &["50"]));
    assert_eq!(stopped.status.code(), Some(1), "{}", stopped.describe());
    assert!(
        stopped.stderr.contains("for (key, weight) in &table")
            && stopped.stderr.contains("hash-ordered")
            && stopped.stderr.contains("BTreeMap"),
        "{}",
        stopped.describe()
    );
    assert!(stopped.stdout.is_empty(), "{}", stopped.describe());
    assert!(generations(dir.path()).is_empty(), "{}", stopped.describe());
}

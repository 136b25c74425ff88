//! A storm of SIGKILLs over every loop shape the examples have: a `for`
//! over a range saving every 5 iterations (`sum`), a `while` over a growing
//! `Vec` (`primes`), a big integer (`factorial`), a `#[state]` RNG
//! (`monte_carlo`), nested loops, phases and a `while` around a save point
//! (`shapes`), and eight threads at once (`threads`). Each is killed at
//! random moments, whether it is starting, restoring, computing or saving,
//! until its quota of kills has landed, then finished; every finished run
//! prints exactly what an uninterrupted run prints, and no kill ever leaves
//! a checkpoint that the next run finds damaged.
//!
//! The total number of kills that landed is printed (past the test
//! harness's capture) and must reach [`AT_LEAST`].

mod common;

use std::io::Write;
use std::thread;
use std::time::Duration;

use common::{Rng, Running, assert_only_locks_left, command, run, run_ok, temp_dir};

/// The fewest SIGKILLs one run of this test lands.
const AT_LEAST: usize = 200;

/// One example under the storm.
struct Storm {
    example: &'static str,
    /// The arguments that set the problem (the pause is not part of a
    /// run's identity, so the reference runs without it).
    args: &'static [&'static str],
    delay_ms: &'static str,
    /// SIGKILLs that must land.
    kills: usize,
    /// Each run is killed this many milliseconds after it starts, at random.
    kill_after_ms: (u64, u64),
}

/// example, args, pause per iteration, kills, kill after (ms).
const STORMS: [Storm; 8] = [
    Storm::new("sum", &["4000"], "0", 50, (1, 40)),
    Storm::new("primes", &["1000"], "2", 25, (1, 500)),
    Storm::new("factorial", &["1200"], "3", 25, (1, 500)),
    Storm::new("monte_carlo", &["100"], "2", 25, (1, 500)),
    Storm::new("shapes", &["nested", "30"], "2", 25, (1, 120)),
    Storm::new("shapes", &["phases", "80"], "3", 25, (1, 120)),
    Storm::new("shapes", &["collatz", "27"], "2", 25, (1, 120)),
    Storm::new("threads", &["300"], "2", 25, (1, 300)),
];

impl Storm {
    const fn new(
        example: &'static str,
        args: &'static [&'static str],
        delay_ms: &'static str,
        kills: usize,
        kill_after_ms: (u64, u64),
    ) -> Storm {
        Storm {
            example,
            args,
            delay_ms,
            kills,
            kill_after_ms,
        }
    }
}

/// Runs one storm; returns the kills that landed.
fn run_storm(storm: &Storm, rng: &mut Rng) -> usize {
    let name = format!("{} {}", storm.example, storm.args.join(" "));
    let reference_dir = temp_dir();
    let expected = run_ok(&mut command(
        storm.example,
        reference_dir.path(),
        storm.args,
    ))
    .stdout;
    let mut args = storm.args.to_vec();
    args.extend(["--delay-ms", storm.delay_ms]);

    let mut landed = 0;
    // A round ends when a run finishes: by itself (it got through between
    // kills), or once the quota is reached. Then a new round starts afresh.
    while landed < storm.kills {
        let dir = temp_dir();
        let mut history = format!("{name}, seed {}\n", rng.seed());
        let last = loop {
            let running = Running::spawn(&mut command(storm.example, dir.path(), &args));
            let after = rng.between(storm.kill_after_ms.0, storm.kill_after_ms.1);
            thread::sleep(Duration::from_millis(after));
            let killed = running.kill();
            history.push_str(&format!("killed after {after} ms: {}\n", killed.status));
            assert!(
                killed.warnings().is_empty(),
                "a kill left a checkpoint the next run found damaged\n{history}{}",
                killed.describe()
            );
            if !killed.was_killed() {
                break killed;
            }
            landed += 1;
            if landed == storm.kills {
                break run(&mut command(storm.example, dir.path(), &args));
            }
        };
        let context = format!("{history}last run:\n{}", last.describe());
        assert!(last.status.success(), "{context}");
        assert!(last.warnings().is_empty(), "{context}");
        assert_eq!(last.stdout, expected, "{context}");
        assert_only_locks_left(dir.path(), &context);
    }
    landed
}

#[test]
fn a_storm_of_sigkills_changes_no_result() {
    let mut seeds = Rng::seeded();
    let rngs: Vec<Rng> = STORMS
        .iter()
        .map(|_| Rng::from_seed(seeds.next_u64()))
        .collect();
    let landed: Vec<usize> = thread::scope(|scope| {
        let storms: Vec<_> = STORMS
            .iter()
            .zip(rngs)
            .map(|(one, mut rng)| scope.spawn(move || run_storm(one, &mut rng)))
            .collect();
        storms
            .into_iter()
            .map(|s| s.join().expect("a storm failed; see its panic above"))
            .collect()
    });
    let total: usize = landed.iter().sum();
    let each: Vec<String> = STORMS
        .iter()
        .zip(&landed)
        .map(|(s, n)| format!("{} {}: {n}", s.example, s.args.join(" ")))
        .collect();
    let _ = writeln!(
        std::io::stderr(),
        "SIGKILL storm: {total} kills landed ({})",
        each.join(", ")
    );
    assert!(total >= AT_LEAST, "only {total} SIGKILLs landed");
}

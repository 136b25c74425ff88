//! Proves that a damaged checkpoint costs one generation, not the run: when
//! the newest generation is corrupted (a flipped byte, cut in half, garbage,
//! emptied), the next run warns naming that file and why, resumes from the
//! previous generation, and prints the uninterrupted result; when every
//! generation is damaged, it warns for each and starts fresh.

mod common;

use std::fs;
use std::path::Path;
use std::time::Duration;

use common::{
    Finished, Generation, RESUMED, Running, WARNING, assert_only_locks_left, command, generations,
    run_ok, temp_dir,
};

/// `sum 400`: 1 + 2 + ... + 400.
const EXPECTED: &str = "80200";

/// Runs `sum 400 --delay-ms 5` (a save every 5 iterations) until at least two
/// generations are on disk, SIGKILLs it, and returns the generations, oldest
/// first.
fn interrupted_sum(dir: &Path) -> Vec<Generation> {
    let mut running = Running::spawn(&mut command("sum", dir, &["400", "--delay-ms", "5"]));
    running.wait_until(
        "two checkpoint generations existed",
        Duration::from_secs(30),
        || generations(dir).len() >= 2,
    );
    // Let it run a little longer, so that the kill lands anywhere in a save.
    std::thread::sleep(Duration::from_millis(200));
    let killed = running.kill();
    assert!(
        killed.was_killed(),
        "sum 400 finished before it could be killed\n{}",
        killed.describe()
    );
    let found = generations(dir);
    assert!(
        found.len() >= 2,
        "at least two generations are kept, yet {found:?} are on disk after the kill"
    );
    found
}

/// Resumes `sum 400` to completion, and checks its result and that it leaves
/// no checkpoint behind.
fn finish_sum(dir: &Path) -> Finished {
    let finished = run_ok(&mut command("sum", dir, &["400", "--delay-ms", "0"]));
    assert_eq!(
        finished.result(),
        EXPECTED,
        "the resumed run's result differs from the uninterrupted one\n{}",
        finished.describe()
    );
    assert_only_locks_left(dir, &finished.describe());
    finished
}

/// The warning about `damaged`: it names the file and gives a reason.
fn warning_about<'a>(finished: &'a Finished, damaged: &Generation) -> &'a str {
    let path = damaged.path.display().to_string();
    let warnings = finished.warnings();
    let warning = warnings
        .iter()
        .find(|w| w.contains(&path))
        .unwrap_or_else(|| {
            panic!(
                "no warning names the damaged checkpoint {path}\n{}",
                finished.describe()
            )
        });
    // With the prefix and every mention of the file taken out, what is left
    // must still say something: the reason.
    let reason = warning.trim_start_matches(WARNING).replace(&path, "");
    assert!(
        reason.split_whitespace().count() >= 4,
        "the warning about {path} gives no reason: {warning:?}\n{}",
        finished.describe()
    );
    warning
}

/// Damages the newest generation with `damage`, resumes, and checks that the
/// run warned about it and resumed from the generation before it.
fn newest_damaged_falls_back(damage: impl FnOnce(&Path)) {
    let dir = temp_dir();
    let found = interrupted_sum(dir.path());
    let newest = &found[found.len() - 1];
    let previous = &found[found.len() - 2];
    damage(&newest.path);

    let finished = finish_sum(dir.path());
    let warning = warning_about(&finished, newest);
    let resumed = finished.resumed_lines();
    let previous_path = previous.path.display().to_string();
    assert!(
        resumed.len() == 1 && resumed[0].contains(&format!(" from {previous_path} ")),
        "the run did not resume from the previous generation {previous_path}\n{}",
        finished.describe()
    );
    let stderr: Vec<&str> = finished.stderr.lines().collect();
    let position = |line: &str| stderr.iter().position(|l| *l == line);
    assert!(
        position(warning) < position(resumed[0]),
        "the warning about the damaged file comes before the resume from the previous one\n{}",
        finished.describe()
    );
}

/// Flips every bit of the byte in the middle of `path`.
fn flip_middle_byte(path: &Path) {
    let mut bytes = fs::read(path).expect("read the checkpoint");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(path, bytes).expect("write the damaged checkpoint");
}

/// Cuts `path` to half its length, as a torn write would.
fn cut_in_half(path: &Path) {
    let length = fs::metadata(path).expect("stat the checkpoint").len();
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .and_then(|f| f.set_len(length / 2))
        .expect("truncate the checkpoint");
}

/// Replaces `path` by as many bytes of text that is not a checkpoint.
fn replace_by_garbage(path: &Path) {
    let length = fs::metadata(path).expect("stat the checkpoint").len() as usize;
    let garbage: Vec<u8> = b"this is not a checkpoint. "
        .iter()
        .copied()
        .cycle()
        .take(length.max(64))
        .collect();
    fs::write(path, garbage).expect("write garbage over the checkpoint");
}

/// Empties `path`, as a crash right after creating it would.
fn empty(path: &Path) {
    fs::write(path, b"").expect("empty the checkpoint");
}

#[test]
fn newest_with_a_flipped_byte_falls_back_to_the_previous_generation() {
    newest_damaged_falls_back(flip_middle_byte);
}

#[test]
fn newest_cut_in_half_falls_back_to_the_previous_generation() {
    newest_damaged_falls_back(cut_in_half);
}

#[test]
fn newest_replaced_by_garbage_falls_back_to_the_previous_generation() {
    newest_damaged_falls_back(replace_by_garbage);
}

#[test]
fn newest_emptied_falls_back_to_the_previous_generation() {
    newest_damaged_falls_back(empty);
}

#[test]
fn every_generation_damaged_starts_fresh() {
    let dir = temp_dir();
    let found = interrupted_sum(dir.path());
    let damages: [fn(&Path); 4] = [flip_middle_byte, cut_in_half, replace_by_garbage, empty];
    for (generation, damage) in found.iter().zip(damages.iter().cycle()) {
        damage(&generation.path);
    }

    let finished = finish_sum(dir.path());
    for generation in &found {
        warning_about(&finished, generation);
    }
    assert!(
        !finished.stderr.contains(RESUMED),
        "with every generation damaged the run starts fresh, yet it resumed\n{}",
        finished.describe()
    );
}

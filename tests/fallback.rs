//! Proves that a damaged checkpoint costs one generation, not the run: when
//! the newest generation is corrupted (a flipped byte, cut in half, garbage,
//! emptied) or is not this run's checkpoint at all (another format, a newer
//! format version, another run's file renamed), the next run never decodes
//! it: it warns naming that file and why, moves it aside, resumes from the
//! previous generation, and prints the uninterrupted result; when every
//! generation is bad, it warns for each and starts fresh.

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

/// Damages the newest generation with `damage`, resumes, checks that the
/// run warned about it and resumed from the generation before it, and
/// returns the warning (and the directory, to look at what is left).
fn newest_damaged_falls_back(damage: impl FnOnce(&Path)) -> (tempfile::TempDir, String) {
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
    let warning = warning.to_owned();
    (dir, warning)
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

/// Replaces `path` by the start of a PNG image: a file of another format.
fn replace_by_png(path: &Path) {
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89";
    fs::write(path, png).expect("write a PNG over the checkpoint");
}

/// CRC-32 (IEEE), as the format's trailer uses it.
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &byte| {
        (0..8).fold(crc ^ u32::from(byte), |crc, _| {
            (crc >> 1) ^ (0xedb8_8320 & (crc & 1).wrapping_neg())
        })
    })
}

/// Marks `path` as written by format version 2, with a valid checksum: a
/// checkpoint from a newer release of the library.
fn make_newer_version(path: &Path) {
    let mut bytes = fs::read(path).expect("read the checkpoint");
    let end = bytes.len() - 4;
    assert_eq!(
        u32::from_le_bytes(bytes[end..].try_into().expect("4 bytes")),
        crc32(&bytes[..end]),
        "the test's CRC-32 agrees with the format's"
    );
    bytes[8..10].copy_from_slice(&2u16.to_le_bytes());
    let crc = crc32(&bytes[..end]);
    bytes[end..].copy_from_slice(&crc.to_le_bytes());
    fs::write(path, bytes).expect("write the checkpoint back");
}

/// A checkpoint of another run (`sum 500`, a different key): a valid file
/// that a mix-up renamed to this run's name.
fn another_runs_checkpoint() -> Vec<u8> {
    let dir = temp_dir();
    let mut running = Running::spawn(&mut command("sum", dir.path(), &["500", "--delay-ms", "5"]));
    running.wait_until("sum 500 saved", Duration::from_secs(30), || {
        !generations(dir.path()).is_empty()
    });
    let killed = running.kill();
    assert!(killed.was_killed(), "{}", killed.describe());
    let newest = generations(dir.path()).pop().expect("a generation");
    fs::read(&newest.path).expect("read the other run's checkpoint")
}

/// The warning says why, and that the file was moved aside (and it was).
fn moved_aside_because(warning: &str, why: &str) {
    assert!(warning.contains(why), "the warning says {why:?}: {warning}");
    let aside = warning
        .split_once("moved aside to ")
        .map(|(_, rest)| rest.split(';').next().unwrap_or_default())
        .unwrap_or_else(|| panic!("the warning says where the file went: {warning}"));
    assert!(Path::new(aside).is_file(), "{aside} exists: {warning}");
}

#[test]
fn newest_of_another_format_is_moved_aside() {
    let (_dir, warning) = newest_damaged_falls_back(replace_by_png);
    moved_aside_because(&warning, "not a checkpoint file");
}

#[test]
fn newest_of_a_newer_format_version_is_moved_aside() {
    let (_dir, warning) = newest_damaged_falls_back(make_newer_version);
    moved_aside_because(&warning, "newer than this build reads");
}

#[test]
fn newest_of_another_run_is_moved_aside() {
    let other = another_runs_checkpoint();
    let (_dir, warning) = newest_damaged_falls_back(|path| {
        fs::write(path, &other).expect("put the other run's file in place");
    });
    moved_aside_because(&warning, "belongs to another run");
}

#[test]
fn every_generation_foreign_starts_fresh() {
    let other = another_runs_checkpoint();
    let dir = temp_dir();
    let found = interrupted_sum(dir.path());
    let put_other = |path: &Path| fs::write(path, &other).expect("write");
    let damages: [&dyn Fn(&Path); 3] = [&replace_by_png, &make_newer_version, &put_other];
    for (generation, damage) in found.iter().zip(damages.iter().cycle()) {
        damage(&generation.path);
    }

    let finished = finish_sum(dir.path());
    for generation in &found {
        moved_aside_because(warning_about(&finished, generation), "moved aside");
    }
    assert!(
        !finished.stderr.contains(RESUMED),
        "with every generation foreign the run starts fresh, yet it resumed\n{}",
        finished.describe()
    );
}

//! End-to-end tests of the `checkpoint` binary on real checkpoint files,
//! written by the library itself (through `#[checkpointed]` and through
//! `Checkpoint`), some of them then damaged on purpose.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use checkpoint_core::{Checkpoint, checkpointed};
use serde_json::Value;

/// `CHECKPOINT_DIR` is process-wide; tests that set it take turns.
static ENV: Mutex<()> = Mutex::new(());

/// Counts to `n`, failing at `stop_at`: the `Err` keeps the checkpoint,
/// saved after every iteration (each durable before the next:
/// `background = false`), so the newest generation records that `stop_at`
/// of `n` iterations are done.
#[checkpointed(every_iters = 1, keep = 2, background = false)]
fn count_to(n: u64, stop_at: u64) -> Result<u64, String> {
    #[state]
    let mut total: u64 = 0;
    for i in 0..n {
        if i == stop_at {
            return Err(format!("stopped at {i}"));
        }
        total += i;
    }
    Ok(total)
}

/// Writes a `count_to` run into `dir` that stopped at 7 of 100.
fn macro_run(dir: &Path) {
    let _guard = ENV.lock().unwrap_or_else(|e| e.into_inner());
    // SAFETY: the tests in this file that touch the environment hold ENV,
    // and nothing here reads the environment from C code.
    unsafe {
        std::env::set_var("CHECKPOINT_DIR", dir);
        std::env::set_var("CHECKPOINT_QUIET", "1");
    }
    assert_eq!(count_to(100, 7), Err("stopped at 7".to_owned()));
    unsafe { std::env::remove_var("CHECKPOINT_DIR") };
}

/// Writes `saves` generations of the macro-free run `name` into `dir`,
/// keeping them all, and returns the run's stem.
fn plain_run(dir: &Path, name: &str, saves: u64) -> String {
    let mut run = Checkpoint::builder(name)
        .dir(dir)
        .keep(saves as usize)
        // Every save written: none superseded by the next.
        .background(false)
        .open()
        .expect("open run");
    for step in 0..saves {
        run.save(&vec![step; 100]).expect("save");
    }
    drop(run);
    stem_of(dir, name)
}

/// The stem of the run named `name` in `dir`.
fn stem_of(dir: &Path, name: &str) -> String {
    let prefix = format!("{name}-");
    let mut stems: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".ckpt"))
        .filter_map(|n| Some(n.split_once(".g")?.0.to_owned()))
        .collect();
    stems.dedup();
    assert_eq!(stems.len(), 1, "{stems:?}");
    stems.remove(0)
}

/// The generation files of `stem` in `dir`, newest first.
fn generations(dir: &Path, stem: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with(&format!("{stem}.g")) && name.ends_with(".ckpt")
        })
        .collect();
    files.sort();
    files.reverse();
    files
}

/// Runs `checkpoint args` in `cwd` with no `CHECKPOINT_DIR`.
fn checkpoint(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_checkpoint"))
        .args(args)
        .current_dir(cwd)
        .env_remove("CHECKPOINT_DIR")
        .output()
        .expect("run the checkpoint binary")
}

struct Outcome {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn run(cwd: &Path, args: &[&str]) -> Outcome {
    let output = checkpoint(cwd, args);
    let outcome = Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        !outcome.stderr.contains("panicked"),
        "checkpoint {args:?} panicked:\n{}",
        outcome.stderr
    );
    outcome
}

fn run_ok(cwd: &Path, args: &[&str]) -> Outcome {
    let outcome = run(cwd, args);
    assert_eq!(
        outcome.code,
        Some(0),
        "checkpoint {args:?} failed:\nstdout:\n{}\nstderr:\n{}",
        outcome.stdout,
        outcome.stderr
    );
    outcome
}

fn run_failing(cwd: &Path, args: &[&str]) -> Outcome {
    let outcome = run(cwd, args);
    assert_ne!(
        outcome.code,
        Some(0),
        "checkpoint {args:?} succeeded but should not have:\nstdout:\n{}",
        outcome.stdout
    );
    assert!(outcome.code.is_some(), "killed by a signal");
    outcome
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"))
}

fn set_age(path: &Path, age: Duration) {
    File::options()
        .write(true)
        .open(path)
        .expect("open")
        .set_modified(SystemTime::now() - age)
        .expect("set mtime");
}

fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("checkpoint-cli-")
        .tempdir()
        .expect("tempdir")
}

#[test]
fn list_shows_each_run_with_progress_generations_and_schema() {
    let tmp = tempdir();
    let dir = tmp.path().join("ckpts");
    macro_run(&dir);
    let sweep = plain_run(&dir, "sweep", 3);
    let counter = stem_of(&dir, "count_to");
    let dir_arg = dir.to_str().unwrap();

    let table = run_ok(tmp.path(), &["list", dir_arg]).stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("RUN "), "{table}");
    let count_line = lines
        .iter()
        .find(|l| l.starts_with(&counter))
        .expect("count_to row");
    assert!(count_line.contains("cli::count_to"), "{count_line}");
    assert!(count_line.contains(" 7/100 "), "{count_line}");
    let sweep_line = lines
        .iter()
        .find(|l| l.starts_with(&sweep))
        .expect("sweep row");
    let cells: Vec<&str> = sweep_line.split_whitespace().collect();
    assert_eq!(cells[1], "sweep", "{sweep_line}");
    assert_eq!(
        cells[3], "-",
        "no loop positions without the macro: {sweep_line}"
    );
    assert_eq!(cells[4], "3", "three generations: {sweep_line}");

    let listed = json(&run_ok(tmp.path(), &["list", dir_arg, "--json"]).stdout);
    let runs = listed["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 2);
    let counted = runs
        .iter()
        .find(|r| r["run"] == counter.as_str())
        .expect("count_to");
    assert_eq!(counted["function"], "count_to");
    assert_eq!(counted["module"], "cli");
    assert_eq!(counted["position"][0]["index"], 7);
    assert_eq!(counted["position"][0]["len"], 100);
    assert_eq!(counted["save_count"], 7);
    assert_eq!(counted["generations"].as_array().unwrap().len(), 2);
    assert_eq!(counted["schema_fingerprint"].as_str().unwrap().len(), 16);
    let swept = runs
        .iter()
        .find(|r| r["run"] == sweep.as_str())
        .expect("sweep");
    assert_eq!(swept["save_count"], 3);
    let sizes: u64 = generations(&dir, &sweep)
        .iter()
        .map(|p| fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(swept["size_bytes"], sizes);
    assert!(swept["age_seconds"].as_u64().unwrap() < 600);
}

#[test]
fn list_reads_checkpoint_dir_then_the_default_directory() {
    let tmp = tempdir();
    let default = tmp.path().join(".checkpoints");
    let sweep = plain_run(&default, "sweep", 1);
    assert!(run_ok(tmp.path(), &["list"]).stdout.contains(&sweep));

    let elsewhere = tmp.path().join("elsewhere");
    let other = plain_run(&elsewhere, "other", 1);
    let output = Command::new(env!("CARGO_BIN_EXE_checkpoint"))
        .arg("list")
        .current_dir(tmp.path())
        .env("CHECKPOINT_DIR", &elsewhere)
        .output()
        .expect("run");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success());
    assert!(
        stdout.contains(&other) && !stdout.contains(&sweep),
        "{stdout}"
    );
}

#[test]
fn show_describes_a_run_or_a_file() {
    let tmp = tempdir();
    let dir = tmp.path().join("ckpts");
    macro_run(&dir);
    let counter = stem_of(&dir, "count_to");
    let dir_arg = dir.to_str().unwrap();

    let text = run_ok(tmp.path(), &["show", &counter, "--dir", dir_arg]).stdout;
    // The NAME `list` prints finds the same run, when one run has it.
    let by_name = run_ok(tmp.path(), &["show", "cli::count_to", "--dir", dir_arg]).stdout;
    assert_eq!(by_name.lines().next(), text.lines().next(), "the same file");
    let unknown = run(tmp.path(), &["show", "cli::nothing", "--dir", dir_arg]);
    assert!(
        unknown.code != Some(0) && unknown.stderr.contains("no run cli::nothing in "),
        "{}",
        unknown.stderr
    );
    let fields: Vec<(&str, &str)> = text
        .lines()
        .map(|line| {
            let (label, value) = line.split_once(':').expect("label: value");
            (label, value.trim())
        })
        .collect();
    let field = |label: &str| {
        fields
            .iter()
            .find(|(l, _)| *l == label)
            .unwrap_or_else(|| panic!("no {label:?} in:\n{text}"))
            .1
    };
    let newest = generations(&dir, &counter).remove(0);
    assert_eq!(field("file"), newest.display().to_string());
    assert_eq!(field("run"), counter);
    assert_eq!(field("crate"), "cli");
    assert_eq!(field("module"), "cli");
    assert_eq!(field("function"), "count_to");
    assert_eq!(field("name"), "count_to");
    assert_eq!(field("key fingerprint").len(), 16);
    assert_eq!(field("schema fingerprint").len(), 16);
    assert_eq!(field("code fingerprint").len(), 16);
    assert_eq!(field("position"), "loop 0: 7 of 100 iterations done (7.0%)");
    assert_eq!(field("saves"), "7");
    assert!(field("started").ends_with(" ago)"), "{text}");
    assert!(field("saved").contains(" UTC ("), "{text}");
    assert!(field("codec").starts_with("zstd level") || field("codec").starts_with("raw"));
    let len = fs::metadata(&newest).unwrap().len();
    assert_eq!(field("file size"), format!("{len} bytes"));

    let older = generations(&dir, &counter).remove(1);
    let shown = json(&run_ok(tmp.path(), &["show", older.to_str().unwrap(), "--json"]).stdout);
    assert_eq!(shown["save_count"], 6);
    assert_eq!(shown["position"][0]["index"], 6);
    assert_eq!(shown["run"], counter.as_str());
    assert_eq!(shown["file_len"], fs::metadata(&older).unwrap().len());
}

#[test]
fn verify_passes_good_files_and_names_every_damaged_one() {
    let tmp = tempdir();
    let dir = tmp.path().join("ckpts");
    macro_run(&dir);
    let sweep = plain_run(&dir, "sweep", 5);
    let dir_arg = dir.to_str().unwrap();

    let good = run_ok(tmp.path(), &["verify", dir_arg]).stdout;
    assert_eq!(
        good.lines().filter(|l| l.starts_with("OK ")).count(),
        7,
        "{good}"
    );
    assert!(good.contains("7 ok, 0 bad"), "{good}");

    // Damage four of sweep's five generations, each differently.
    let files = generations(&dir, &sweep);
    let mut flipped = fs::read(&files[0]).unwrap();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x10;
    fs::write(&files[0], flipped).unwrap();
    let whole = fs::read(&files[1]).unwrap();
    fs::write(&files[1], &whole[..whole.len() - 3]).unwrap();
    fs::write(&files[2], b"#!/bin/sh\necho not a checkpoint\n").unwrap();
    fs::write(&files[3], b"").unwrap();
    // A good file of another run, put under sweep's name.
    let counter = stem_of(&dir, "count_to");
    let impostor = dir.join(format!("{sweep}.g00000099.ckpt"));
    fs::copy(&generations(&dir, &counter)[0], &impostor).unwrap();
    // A file a resume moved aside: reported, never a failure.
    fs::write(dir.join(format!("{sweep}.g00000001.ckpt.stale")), b"junk").unwrap();

    let bad = run_failing(tmp.path(), &["verify", dir_arg]);
    let line_of = |path: &Path| {
        let prefix = format!("BAD   {}: ", path.display());
        bad.stdout
            .lines()
            .find(|l| l.starts_with(&prefix))
            .unwrap_or_else(|| panic!("no BAD line for {}:\n{}", path.display(), bad.stdout))
            .to_owned()
    };
    assert!(line_of(&files[0]).contains("checksum does not match"));
    assert!(line_of(&files[1]).contains("truncated"));
    assert!(line_of(&files[2]).contains("not a checkpoint file"));
    assert!(line_of(&files[3]).contains("only 0 bytes long"));
    assert!(line_of(&impostor).contains(&format!("belongs to run {counter}")));
    assert!(
        bad.stdout
            .lines()
            .any(|l| l.starts_with("OK ") && l.contains(&files[4].display().to_string())),
        "{}",
        bad.stdout
    );
    assert!(bad.stdout.contains("ASIDE "), "{}", bad.stdout);
    assert!(
        bad.stdout.contains("3 ok, 5 bad, 1 moved aside"),
        "{}",
        bad.stdout
    );
    assert!(
        bad.stderr.contains("5 bad checkpoint files"),
        "{}",
        bad.stderr
    );
    for path in files[..4].iter().chain([&impostor]) {
        assert!(
            bad.stderr.contains(&path.display().to_string()),
            "{}",
            bad.stderr
        );
    }

    // Damaged files show up in list and show, without a crash.
    let table = run_ok(tmp.path(), &["list", dir_arg]).stdout;
    let row = table.lines().find(|l| l.starts_with(&sweep)).expect("row");
    assert!(row.contains("5 of 6 damaged; 1 moved aside"), "{row}");
    let listed = json(&run_ok(tmp.path(), &["list", dir_arg, "--json"]).stdout);
    let errors: Vec<&Value> = listed["runs"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["generations"].as_array().unwrap())
        .filter(|g| g["ok"] == false)
        .collect();
    assert_eq!(errors.len(), 5);
    let shown = run_failing(tmp.path(), &["show", &sweep, "--dir", dir_arg]);
    assert!(
        shown.stderr.contains(&impostor.display().to_string()),
        "{}",
        shown.stderr
    );
    assert!(
        shown.stderr.contains(&files[4].display().to_string()),
        "{}",
        shown.stderr
    );
    let shown = run_failing(tmp.path(), &["show", files[3].to_str().unwrap()]);
    assert!(
        shown.stderr.contains("only 0 bytes long"),
        "{}",
        shown.stderr
    );
}

#[test]
fn rm_refuses_a_live_run_and_removes_an_idle_one() {
    let tmp = tempdir();
    let dir = tmp.path().join("ckpts");
    let dir_arg = dir.to_str().unwrap();
    let mut live = Checkpoint::builder("live").dir(&dir).open().expect("open");
    live.save(&1u8).expect("save");
    live.flush().expect("the save is on disk");
    let stem = stem_of(&dir, "live");
    plain_run(&dir, "bystander", 1);

    let refused = run_failing(tmp.path(), &["rm", &stem, "--dir", dir_arg]);
    assert!(refused.stderr.contains("is in use"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains(&format!("{stem}.lock")),
        "{}",
        refused.stderr
    );
    assert!(
        refused
            .stderr
            .contains(&format!("pid {} on host", std::process::id())),
        "{}",
        refused.stderr
    );
    assert_eq!(generations(&dir, &stem).len(), 1);

    drop(live);
    let removed = run_ok(tmp.path(), &["rm", &stem, "--dir", dir_arg]);
    assert!(
        removed
            .stdout
            .contains(&format!("removed run {stem}: 1 file")),
        "{}",
        removed.stdout
    );
    assert!(generations(&dir, &stem).is_empty());
    assert!(!dir.join(format!("{stem}.lock")).exists());
    assert_eq!(generations(&dir, &stem_of(&dir, "bystander")).len(), 1);

    let unknown = run_failing(tmp.path(), &["rm", &stem, "--dir", dir_arg]);
    assert!(
        unknown
            .stderr
            .contains(&format!("no run {stem} in {dir_arg}")),
        "{}",
        unknown.stderr
    );
}

#[test]
fn gc_lists_old_runs_and_removes_them_only_with_yes() {
    let tmp = tempdir();
    let dir = tmp.path().join("ckpts");
    let dir_arg = dir.to_str().unwrap();
    let old = plain_run(&dir, "old", 2);
    let mut held = Checkpoint::builder("held").dir(&dir).open().expect("open");
    held.save(&1u8).expect("save");
    held.flush().expect("the save is on disk");
    let held_stem = stem_of(&dir, "held");
    // The header's save time cannot be backdated, so let these age for real.
    std::thread::sleep(Duration::from_millis(2500));
    let young = plain_run(&dir, "young", 1);
    let stale_old = dir.join(format!("{young}.g00000001.ckpt.stale"));
    let stale_new = dir.join(format!("{young}.g00000002.ckpt.stale"));
    fs::write(&stale_old, b"old junk").unwrap();
    fs::write(&stale_new, b"new junk").unwrap();
    set_age(&stale_old, Duration::from_secs(30 * 86_400));

    let dry = run_ok(tmp.path(), &["gc", dir_arg, "--older-than", "2s"]).stdout;
    assert!(
        dry.contains(&format!("would remove run {old} (last saved")),
        "{dry}"
    );
    assert!(
        dry.contains(&format!("would remove run {held_stem} ")),
        "{dry}"
    );
    assert!(
        dry.contains(&format!("would remove {}", stale_old.display())),
        "{dry}"
    );
    assert!(!dry.contains(&format!("run {young} ")), "{dry}");
    assert!(!dry.contains(&stale_new.display().to_string()), "{dry}");
    assert!(dry.contains("dry run"), "{dry}");
    assert_eq!(generations(&dir, &old).len(), 2);
    assert!(stale_old.exists());

    let done = run_ok(tmp.path(), &["gc", dir_arg, "--older-than", "2s", "--yes"]);
    assert!(
        done.stdout.contains(&format!("removed run {old}: 2 files")),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout
            .contains(&format!("removed {}", stale_old.display())),
        "{}",
        done.stdout
    );
    assert!(
        done.stderr.contains(&format!("run {held_stem} is in use")),
        "{}",
        done.stderr
    );
    assert!(generations(&dir, &old).is_empty());
    assert!(!stale_old.exists());
    assert!(stale_new.exists());
    assert_eq!(generations(&dir, &young).len(), 1);
    assert_eq!(generations(&dir, &held_stem).len(), 1);
    drop(held);

    let nothing = run_ok(tmp.path(), &["gc", dir_arg, "--older-than", "7d"]).stdout;
    assert!(nothing.contains("nothing in"), "{nothing}");
}

#[test]
fn bad_input_is_a_clear_error() {
    let tmp = tempdir();
    let missing = tmp.path().join("no-such-dir");
    let missing_arg = missing.to_str().unwrap();
    for args in [
        vec!["list", missing_arg],
        vec!["verify", missing_arg],
        vec!["gc", missing_arg, "--older-than", "1d"],
        vec!["rm", "run-0123456789abcdef", "--dir", missing_arg],
        vec!["show", "run-0123456789abcdef", "--dir", missing_arg],
    ] {
        let failed = run_failing(tmp.path(), &args);
        assert!(
            failed.stderr.contains(missing_arg) && failed.stderr.contains("No such file"),
            "{args:?}: {}",
            failed.stderr
        );
    }
    assert!(!missing.exists(), "a command created the directory");

    let bad = run_failing(tmp.path(), &["gc", "--older-than", "7x"]);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("bad duration \"7x\""), "{}", bad.stderr);

    fs::create_dir(tmp.path().join(".checkpoints")).unwrap();
    let unknown = run_failing(tmp.path(), &["show", "nope-0000000000000000"]);
    assert!(
        unknown
            .stderr
            .contains("no run nope-0000000000000000 in .checkpoints"),
        "{}",
        unknown.stderr
    );
    let no_file = run_failing(tmp.path(), &["show", "./nope.ckpt"]);
    assert!(no_file.stderr.contains("./nope.ckpt"), "{}", no_file.stderr);
    let empty = run_ok(tmp.path(), &["list"]).stdout;
    assert!(empty.contains("no checkpoints in .checkpoints"), "{empty}");
}

#[test]
fn show_of_a_run_refuses_a_newest_file_that_is_not_usable() {
    let tmp = tempdir();
    let dir = tmp.path().join("ckpts");
    let dir_arg = dir.to_str().unwrap();
    let mine = plain_run(&dir, "mine", 1);
    let theirs = plain_run(&dir, "theirs", 1);
    let only = generations(&dir, &mine).remove(0);
    fs::copy(generations(&dir, &theirs).remove(0), &only).unwrap();

    let refused = run_failing(tmp.path(), &["show", &mine, "--dir", dir_arg]);
    assert!(
        refused.stderr.contains(&only.display().to_string()),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains(&format!("belongs to run {theirs}")),
        "{}",
        refused.stderr
    );
    assert!(refused.stdout.is_empty(), "{}", refused.stdout);
}

/// A symlink planted at a run's lock file name: `checkpoint rm` refuses,
/// says what the file is, and neither the file it points to nor the run's
/// checkpoint is touched.
#[test]
fn rm_refuses_a_symlinked_lock_and_touches_nothing() {
    let tmp = tempdir();
    let dir = tmp.path().join("ckpts");
    let dir_arg = dir.to_str().unwrap();
    plain_run(&dir, "target", 1);
    let stem = stem_of(&dir, "target");
    let victim = tmp.path().join("precious.txt");
    fs::write(&victim, b"keep me").unwrap();
    let lock = dir.join(format!("{stem}.lock"));
    let _ = fs::remove_file(&lock);
    std::os::unix::fs::symlink(&victim, &lock).unwrap();

    let refused = run_failing(tmp.path(), &["rm", &stem, "--dir", dir_arg]);
    assert!(
        refused.stderr.contains(&format!("{stem}.lock"))
            && refused.stderr.contains("symbolic link"),
        "{}",
        refused.stderr
    );
    assert_eq!(fs::read(&victim).unwrap(), b"keep me");
    assert_eq!(generations(&dir, &stem).len(), 1);
}

/// A huge file at a generation's name (100 GiB, sparse) is judged by its
/// first bytes and its length: `verify`, `list` and `show` report it
/// without reading it whole (they read it whole before: 4 GiB of memory
/// for a 4 GiB file, out of memory for 100 GiB).
#[test]
fn a_huge_file_is_judged_by_its_start() {
    let tmp = tempdir();
    let dir = tmp.path().join("ckpts");
    let sweep = plain_run(&dir, "sweep", 2);
    let dir_arg = dir.to_str().unwrap();
    let files = generations(&dir, &sweep);
    // A real file's start, then a length its header does not declare.
    let start = fs::read(&files[0]).unwrap();
    let huge = dir.join(format!("{sweep}.g00000077.ckpt"));
    fs::write(&huge, &start).unwrap();
    fs::OpenOptions::new()
        .write(true)
        .open(&huge)
        .unwrap()
        .set_len(100 << 30)
        .unwrap();
    // And a foreign file as large.
    let foreign = dir.join(format!("{sweep}.g00000078.ckpt"));
    fs::File::create(&foreign)
        .unwrap()
        .set_len(100 << 30)
        .unwrap();

    let bad = run_failing(tmp.path(), &["verify", dir_arg]);
    let line = |path: &Path| {
        bad.stdout
            .lines()
            .find(|l| l.contains(&path.display().to_string()))
            .unwrap_or_else(|| panic!("no line for {}:\n{}", path.display(), bad.stdout))
            .to_owned()
    };
    assert!(
        line(&huge).starts_with("BAD") && line(&huge).contains("107374182400"),
        "{}",
        line(&huge)
    );
    assert!(
        line(&foreign).contains("not a checkpoint file"),
        "{}",
        line(&foreign)
    );
    let shown = run_failing(tmp.path(), &["show", huge.to_str().unwrap()]);
    assert!(
        shown.stderr.contains(&huge.display().to_string()),
        "{}",
        shown.stderr
    );
}

//! The macro-free API's options, end to end through real files: background
//! writes complete before `flush`, `finish` and drop return; `expire`
//! ignores old checkpoints; `every_auto` follows Daly's formula for the
//! measured save cost; a bad signal name is an error naming it; large
//! states (deleted elsewhere, mapped, compressed in parallel) come back the
//! same.

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use checkpoint_core::{Checkpoint, Error, auto_interval};

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list the directory")
        .map(|entry| {
            entry
                .expect("entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

/// What a new run named `name` in `dir` restores.
fn restored(name: &str, dir: &Path) -> Option<Vec<u64>> {
    let mut run = Checkpoint::builder(name).dir(dir).open().expect("reopen");
    run.restore::<Vec<u64>>().expect("restore")
}

fn quiet() {
    // SAFETY: every test sets the same value, and nothing reads the
    // environment from C code.
    unsafe { std::env::set_var("CHECKPOINT_QUIET", "1") };
}

#[test]
fn background_saves_are_on_disk_after_flush_drop_and_finish() {
    quiet();
    let dir = tempfile::tempdir().expect("tempdir");
    let state: Vec<u64> = (0..200_000).collect();
    let mut run = Checkpoint::builder("background")
        .dir(dir.path())
        .background(true)
        .open()
        .expect("open");
    run.save(&state).expect("save");
    let path = run.flush().expect("flush").expect("the save succeeded");
    assert!(path.is_file(), "{} exists after flush", path.display());

    // Drop lets the save in flight complete: the restore sees the newest.
    run.save(&vec![7_u64; 10]).expect("save");
    drop(run);
    assert_eq!(restored("background", dir.path()), Some(vec![7; 10]));

    // finish waits too, and keep_on_success keeps that last file.
    let mut run = Checkpoint::builder("kept")
        .dir(dir.path())
        .keep_on_success(true)
        .open()
        .expect("open");
    run.save(&state).expect("save");
    let stats = run.finish().expect("finish");
    assert_eq!(stats.saves, 1);
    assert!(stats.bytes_written > 0);
    assert_eq!(restored("kept", dir.path()), Some(state));
}

#[test]
fn saves_in_a_row_never_wait_the_newest_is_kept_and_old_generations_go() {
    quiet();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut run = Checkpoint::builder("pruned")
        .dir(dir.path())
        .keep(2)
        .open()
        .expect("open");
    for step in 0..20_u64 {
        run.save(&vec![step; 50_000]).expect("save");
    }
    run.flush().expect("flush");
    // Each save was written, or replaced by a newer one while it waited.
    let stats = run.stats();
    assert_eq!(stats.saves + stats.superseded, 20, "{stats:?}");
    let files: Vec<String> = names_in(dir.path())
        .into_iter()
        .filter(|name| name.ends_with(".ckpt"))
        .collect();
    assert_eq!(files.len(), 2, "{files:?}");
    drop(run);
    assert_eq!(restored("pruned", dir.path()), Some(vec![19; 50_000]));
}

#[test]
fn an_expired_checkpoint_is_moved_aside_and_the_run_starts_fresh() {
    quiet();
    let dir = tempfile::tempdir().expect("tempdir");
    let mut run = Checkpoint::builder("expiring")
        .dir(dir.path())
        .open()
        .expect("open");
    run.save(&42_u32).expect("save");
    drop(run);
    // Wait until the save is measurably in the past (the header stores ms).
    let saved = SystemTime::now();
    while saved.elapsed().unwrap_or_default() < Duration::from_millis(20) {
        std::thread::yield_now();
    }
    let mut fresh = Checkpoint::builder("expiring")
        .dir(dir.path())
        .expire(Duration::from_millis(10))
        .open()
        .expect("open");
    assert_eq!(fresh.restore::<u32>().expect("restore"), None);
    let names = names_in(dir.path());
    assert!(
        names.iter().any(|name| name.ends_with(".ckpt.stale")),
        "{names:?}"
    );
    drop(fresh);

    // Within its age limit, a checkpoint resumes.
    let mut run = Checkpoint::builder("young")
        .dir(dir.path())
        .open()
        .expect("open");
    run.save(&7_u32).expect("save");
    drop(run);
    let mut run = Checkpoint::builder("young")
        .dir(dir.path())
        .expire(Duration::from_secs(7 * 86_400))
        .open()
        .expect("open");
    assert_eq!(run.restore::<u32>().expect("restore"), Some(7));
}

#[test]
fn the_auto_interval_is_dalys_for_the_measured_cost() {
    quiet();
    let dir = tempfile::tempdir().expect("tempdir");
    let mtbf = Duration::from_secs(600);
    let mut run = Checkpoint::builder("auto")
        .dir(dir.path())
        .background(false)
        .every_auto(mtbf)
        .open()
        .expect("open");
    assert_eq!(
        run.interval(),
        Some(Duration::from_secs(30)),
        "before any measurement"
    );
    let began = std::time::Instant::now();
    run.save(&vec![1.5_f64; 100_000]).expect("save");
    let around = began.elapsed();
    // The cost the run measured lies between its own stall and the time
    // around the whole call; Daly's interval grows with the cost, so the
    // interval lies between the intervals for those two (kept in whole ms).
    let stall = run.stats().stall_time;
    let write = run.stats().last_write;
    let low = auto_interval(stall, mtbf).max(write);
    let high = auto_interval(around, mtbf).max(write);
    let interval = run.interval().expect("a time interval");
    let ms = Duration::from_millis(1);
    assert!(
        low.saturating_sub(ms) <= interval && interval <= high + ms,
        "{interval:?} is not Daly's interval for a cost between {stall:?} ({low:?}) and {around:?} ({high:?})"
    );
    assert!(
        interval >= Duration::from_secs(1),
        "never below the documented minimum"
    );
}

#[test]
fn an_unknown_signal_name_is_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = match Checkpoint::builder("signals")
        .dir(dir.path())
        .signals(&["TERM", "SIGKILL"])
        .open()
    {
        Err(err) => err,
        Ok(_) => panic!("SIGKILL cannot be handled"),
    };
    assert!(
        matches!(
            err,
            Error::InvalidOption {
                option: "signals",
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("SIGKILL"), "{err}");
    let none: &[&str] = &[];
    assert!(
        Checkpoint::builder("none")
            .dir(dir.path())
            .signals(none)
            .open()
            .is_ok()
    );
}

/// `len` distinct pseudo-random words: they do not compress.
fn noise(len: usize, seed: u64) -> Vec<u64> {
    let mut s = seed;
    (0..len)
        .map(|_| {
            s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let z = (s ^ (s >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z ^ (z >> 27)
        })
        .collect()
}

/// Large states take other paths than small ones: old generations of
/// 16 MiB or more are deleted on another thread, files of 1 MiB or more
/// are mapped to restore them, and a save the computation waits for
/// compresses 8 MiB or more on several threads. Each must give back the
/// same state, leave nothing behind, and catch a damaged file.
#[test]
fn large_states_take_the_fast_paths_and_come_back_the_same() {
    quiet();
    let dir = tempfile::tempdir().expect("tempdir");
    let states: Vec<Vec<u64>> = (0..3).map(|seed| noise(3 << 20, seed)).collect();
    let mut run = Checkpoint::builder("large")
        .dir(dir.path())
        .background(false)
        .keep(2)
        .open()
        .expect("open");
    for state in &states {
        run.save(state).expect("save");
    }
    run.flush().expect("flush");
    // The first generation went to the janitor and is gone after flush.
    let names = names_in(dir.path());
    assert_eq!(names.len(), 3, "two generations and the lock: {names:?}");
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    let newest = run.flush().expect("flush").expect("saved");
    drop(run);

    // Restored from a mapped file.
    assert_eq!(restored("large", dir.path()), Some(states[2].clone()));

    // A flipped byte in the middle of the mapped newest file is caught: the
    // run falls back to the generation before.
    let mut bytes = fs::read(&newest).expect("read");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x10;
    fs::write(&newest, bytes).expect("damage");
    assert_eq!(restored("large", dir.path()), Some(states[1].clone()));

    // A compressible 16 MiB state, compressed on several threads.
    let sparse: Vec<u64> = (0..2 << 20_u64)
        .map(|i| if i % 16 == 0 { i } else { 0 })
        .collect();
    let mut run = Checkpoint::builder("sparse")
        .dir(dir.path())
        .background(false)
        .open()
        .expect("open");
    run.save(&sparse).expect("save");
    let file = run.flush().expect("flush").expect("saved");
    let len = fs::metadata(&file).expect("stat").len();
    assert!(
        len < 4 << 20,
        "16 MiB of mostly zeros compress: {len} bytes"
    );
    drop(run);
    assert_eq!(restored("sparse", dir.path()), Some(sparse));
}

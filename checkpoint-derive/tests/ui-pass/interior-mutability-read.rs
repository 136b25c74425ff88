// Reading methods that share a name with a method that changes through
// interior mutability (`str::replace` and `Cell::replace`, `io::Write::write`
// and `RwLock::write`), and reads of cells and locks, are no changes: the
// loop needs no #[state] for them. Nor does a standard stream's `lock()`.
use checkpoint_core::{checkpointed, verify};
use std::cell::{Cell, OnceCell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

/// A configuration read through a lock, lazily made tables and a stop flag
/// handed in: reads, and lazy initializations that do not depend on the
/// iteration, are no changes.
struct Config {
    rate: u64,
}

static STEPS: OnceLock<u64> = OnceLock::new();

#[checkpointed(key = (n))]
fn configured(n: u64, stop: &Mutex<bool>) -> u64 {
    let config = Mutex::new(Config { rate: 3 });
    let shared = Arc::new(Mutex::new(Config { rate: 5 }));
    let table = OnceCell::new();
    #[state]
    let mut acc: u64 = 0;
    for i in 0..n {
        if *stop.lock().unwrap() {
            break;
        }
        let squares: &Vec<u64> = table.get_or_init(|| (0..n).map(|k| k * k).collect());
        acc += config.lock().unwrap().rate * squares[i as usize];
        acc += shared.lock().unwrap().rate + *STEPS.get_or_init(|| n / 2);
    }
    acc
}

#[checkpointed]
fn reads(n: u64) -> u64 {
    let name = String::from("lattice-a");
    let scale = Cell::new(3_u64);
    let table = RefCell::new(vec![1_u64, 2, 3]);
    let limit = RwLock::new(1_000_u64);
    let seen = AtomicU64::new(5);
    let weight = |i: u64| i * scale.get();
    #[state]
    let mut acc: u64 = 0;
    for i in 0..n {
        acc += name.replace("a", "b").len() as u64;
        acc += weight(i) + table.borrow()[(i % 3) as usize];
        acc = acc.min(*limit.read().unwrap()) + seen.load(Ordering::Relaxed);
    }
    acc
}

#[checkpointed]
fn numbered(n: u64) -> std::io::Result<u64> {
    use std::io::Write;
    let stdout = std::io::stdout();
    #[state]
    let mut written = 0_u64;
    for i in 0..n {
        writeln!(stdout.lock(), "line {i}")?;
        written += 1;
    }
    Ok(written)
}

/// Compiled, not run: the test's standard input is not ours to read.
#[allow(dead_code)]
#[checkpointed]
fn words_of_stdin() -> std::io::Result<u64> {
    use std::io::BufRead;
    let stdin = std::io::stdin();
    #[state]
    let mut words = 0_u64;
    for line in stdin.lock().lines() {
        words += line?.split_whitespace().count() as u64;
    }
    Ok(words)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ckpt-ui-interior-{}", std::process::id()));
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    verify(|| reads(20));
    assert_eq!(numbered(3).expect("stdout"), 3);
    let stop = Mutex::new(false);
    verify(|| configured(12, &stop));
    std::fs::remove_dir_all(&dir).ok();
}

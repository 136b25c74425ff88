//! Many durable saves of a tiny state on tmpfs, on this thread: the loop
//! behind the README's "where the time goes" for row a, made to run under
//! a profiler.
//!
//! ```sh
//! cargo build --release -p checkpoint-bench --bin tiny_saves
//! perf record -g target/release/tiny_saves 200000
//! perf report --no-children --sort dso    # system calls against user space
//! ```

use std::time::Instant;

use checkpoint_core::Checkpoint;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let saves: u64 = match std::env::args().nth(1) {
        Some(count) => count.parse()?,
        None => 200_000,
    };
    let dir = std::path::Path::new("/dev/shm").join(format!("tiny-saves-{}", std::process::id()));
    // SAFETY: no other thread runs yet.
    unsafe { std::env::set_var("CHECKPOINT_QUIET", "1") };
    let mut run = Checkpoint::builder("tiny")
        .dir(&dir)
        .background(false)
        .open()?;
    // The state of row a: a file of about 100 bytes.
    let state: Vec<u64> = (0..8).collect();
    let began = Instant::now();
    for _ in 0..saves {
        run.save(&state)?;
    }
    let each = began.elapsed().as_secs_f64() / saves as f64;
    run.finish()?;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{:.2} µs per durable save ({saves} saves)", each * 1e6);
    Ok(())
}

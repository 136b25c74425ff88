//! Prints the table of the README's "Performance" section: each figure is
//! a ratio against its baseline measured in the same run, with the target
//! beside it. `cargo bench -p checkpoint-bench` (or `scripts/bench.sh`,
//! which also draws the plot of save cost against state size).
//!
//! Environment: `CHECKPOINT_BENCH_SCALE` (default 1; e.g. 0.05 for a quick
//! run) scales iteration counts and state sizes; `CHECKPOINT_BENCH_DIR` is
//! the on-disk directory (default: under `target/`); `--sweep` (or
//! `CHECKPOINT_BENCH_SWEEP=1`) also measures saves from 1 MiB to 1 GiB and
//! writes them as CSV for the plot; `CHECKPOINT_BENCH_ONLY=abef` picks
//! sections (b runs c and d too).

use std::fmt::Write as _;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use checkpoint_bench::{
    bare_durable_write, checkpointed_loop, checkpointed_loop_every_iteration, compressible_f64s,
    f64_bytes, factorial_checkpointed, factorial_json, ising_checkpointed, ising_lattice,
    ising_plain, ising_plain_on, plain_loop, primes_checkpointed, primes_json, random_f64s,
    write_and_fsync,
};
use checkpoint_core::{Checkpoint, DEFAULT_KEEP};

/// One line of the table.
struct Row {
    measure: String,
    ratio: f64,
    target: Target,
    figures: String,
}

#[derive(Clone, Copy)]
enum Target {
    AtMost(f64),
    AtLeast(f64),
    /// Reported, with no target.
    None,
}

impl Target {
    fn describe(self) -> String {
        match self {
            Target::AtMost(t) => format!("≤ {t}"),
            Target::AtLeast(t) => format!("≥ {t}"),
            Target::None => "report".into(),
        }
    }

    fn verdict(self, ratio: f64) -> &'static str {
        match self {
            Target::AtMost(t) if ratio <= t => "met",
            Target::AtLeast(t) if ratio >= t => "met",
            Target::None => "",
            _ => "MISSED",
        }
    }
}

struct Bench {
    scale: f64,
    disk: PathBuf,
    memory: PathBuf,
    rows: Vec<Row>,
}

fn main() {
    let scale: f64 = env_or("CHECKPOINT_BENCH_SCALE", 1.0);
    let disk = std::env::var_os("CHECKPOINT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("checkpoint-bench"));
    // tmpfs where there is one: the cost of a save without the disk.
    let memory = if Path::new("/dev/shm").is_dir() {
        PathBuf::from(format!("/dev/shm/checkpoint-bench-{}", std::process::id()))
    } else {
        disk.join("memory")
    };
    for dir in [&disk, &memory] {
        let _ = fs::remove_dir_all(dir);
        fs::create_dir_all(dir).expect("create the bench directory");
    }
    // SAFETY: set before any other thread of this process exists.
    unsafe { std::env::set_var("CHECKPOINT_QUIET", "1") };
    let sweep = std::env::args().any(|arg| arg == "--sweep")
        || std::env::var("CHECKPOINT_BENCH_SWEEP").is_ok_and(|v| v == "1");

    let mut bench = Bench {
        scale,
        disk: disk.clone(),
        memory: memory.clone(),
        rows: Vec::new(),
    };
    eprintln!(
        "checkpoint-bench: scale {scale}, disk {}, memory {}",
        disk.display(),
        memory.display()
    );
    if selected('a') {
        bench.loop_overhead();
    }
    let len = ((256.0 * scale).max(1.0) as usize) << 17; // MiB of f64s
    if selected('b') {
        bench.large_state("random", &random_f64s(len, 7));
        bench.large_state("compressible", &compressible_f64s(len));
    }
    if selected('e') {
        bench.small_saves();
    }
    if selected('f') {
        bench.peers();
    }
    print!("{}", bench.table());
    if sweep {
        bench.sweep();
    }
    for dir in [&disk, &memory] {
        let _ = fs::remove_dir_all(dir);
    }
}

impl Bench {
    fn push(&mut self, measure: String, ratio: f64, target: Target, figures: String) {
        eprintln!("  {measure}: {ratio:.3} ({figures})");
        self.rows.push(Row {
            measure,
            ratio,
            target,
            figures,
        });
    }

    /// a. The hot loop with and without `#[checkpointed]`, and the cost of
    /// one save when every iteration saves, on tmpfs.
    fn loop_overhead(&mut self) {
        let n = ((3e7 * self.scale) as u64).max(10_000);
        let (plain, checkpointed) = in_checkpoint_dir(&self.disk, || {
            min_of_pairs(
                5,
                || plain_loop(black_box(n)),
                || checkpointed_loop(black_box(n)),
            )
        });
        let per_iteration = plain.as_secs_f64() / n as f64;
        self.push(
            format!(
                "a. loop overhead: #[checkpointed] / plain loop ({n} iterations, default policy)"
            ),
            checkpointed.as_secs_f64() / plain.as_secs_f64(),
            Target::AtMost(1.01),
            format!(
                "{:.1} ns vs {:.1} ns per iteration",
                checkpointed.as_secs_f64() / n as f64 * 1e9,
                per_iteration * 1e9
            ),
        );

        self.tight_loop_overhead();

        let saves = ((20_000.0 * self.scale) as u64).max(500);
        // The file a save of this state writes is about 100 bytes.
        let state: Vec<u64> = (0..8).collect();
        let bytes = vec![0x5a; 100];
        let (ours, bare) = self.durable_small_saves(&state, &bytes, saves);
        self.push(
            "a. one durable save of a tiny state on tmpfs (background = false) / bare write + fsync + rename + fsync(dir) there"
                .to_string(),
            ours / bare,
            Target::AtMost(1.5),
            format!("{:.1} µs vs {:.1} µs per save", ours * 1e6, bare * 1e6),
        );

        // With every_iters = 1 and background writes, what the loop pays
        // per iteration for its save: serializing and handing over.
        let every = in_checkpoint_dir(&self.memory, || {
            min_of(3, || checkpointed_loop_every_iteration(black_box(saves)))
        });
        let per_save = (every.as_secs_f64() - per_iteration * saves as f64) / saves as f64;
        self.push(
            "a. what a save costs the loop with every_iters = 1 (background) on tmpfs / bare write + fsync + rename + fsync(dir)"
                .to_string(),
            per_save / bare,
            Target::None,
            format!("{:.2} µs vs {:.1} µs per save", per_save * 1e6, bare * 1e6),
        );
    }

    /// Durable saves of `state` on tmpfs, on this thread, against the bare
    /// protocol writing `bytes`: the fastest of three rounds of `saves`
    /// each, in seconds per save.
    fn durable_small_saves(&self, state: &Vec<u64>, bytes: &[u8], saves: u64) -> (f64, f64) {
        let mut checkpoint = Checkpoint::builder("tiny")
            .dir(&self.memory)
            .background(false)
            .open()
            .expect("open");
        let (ours, bare) = min_of_pairs(
            3,
            || {
                for _ in 0..saves {
                    checkpoint.save(state).expect("save");
                }
            },
            || {
                for _ in 0..saves {
                    bare_durable_write(&self.memory, "bare", bytes).expect("bare write");
                }
            },
        );
        checkpoint.finish().expect("finish");
        (
            ours.as_secs_f64() / saves as f64,
            bare.as_secs_f64() / saves as f64,
        )
    }

    /// a. A ~10 ns loop body (a Metropolis step with a ChaCha RNG and a
    /// lattice in state) with and without `#[checkpointed]`, with the
    /// default policy and with `CHECKPOINT_DISABLE=1`: the shape of the
    /// generated code, not I/O. The baseline is the plain loop on a lattice
    /// handed in from outside, as a program that reads its lattice or its
    /// size has it: a checkpointed lattice may come from disk, so the
    /// compiler cannot see its length either. The plain loop over a
    /// lattice of a length known at compile time (which drops the bounds
    /// checks) is reported beside it. Medians of alternating runs: a body
    /// this short is sensitive to the machine's drift.
    fn tight_loop_overhead(&mut self) {
        let n = ((2e8 * self.scale) as u64).max(100_000);
        for disabled in [false, true] {
            if disabled {
                // SAFETY: no run is open, no other thread reads the environment.
                unsafe { std::env::set_var("CHECKPOINT_DISABLE", "1") };
            }
            let times = in_checkpoint_dir(&self.disk, || {
                medians(
                    5,
                    &mut [
                        &mut || {
                            black_box(ising_plain_on(black_box(n), ising_lattice()));
                        },
                        &mut || {
                            black_box(ising_checkpointed(black_box(n)));
                        },
                        &mut || {
                            black_box(ising_plain(black_box(n)));
                        },
                    ],
                )
            });
            if disabled {
                unsafe { std::env::remove_var("CHECKPOINT_DISABLE") };
            }
            let [outside, checkpointed, constant] = times[..] else {
                unreachable!("three variants");
            };
            let how = if disabled {
                "CHECKPOINT_DISABLE=1"
            } else {
                "default policy"
            };
            let per_step = |time: Duration| time.as_secs_f64() / n as f64 * 1e9;
            self.push(
                format!("a. ~10 ns body (Metropolis step, ChaCha RNG + lattice in state): #[checkpointed] / plain loop on a lattice from outside ({n} steps, {how})"),
                checkpointed.as_secs_f64() / outside.as_secs_f64(),
                Target::AtMost(1.02),
                format!(
                    "{:.2} ns vs {:.2} ns per step",
                    per_step(checkpointed),
                    per_step(outside)
                ),
            );
            self.push(
                format!("a. ~10 ns body: #[checkpointed] / plain loop on a lattice of a length known at compile time ({n} steps, {how})"),
                checkpointed.as_secs_f64() / constant.as_secs_f64(),
                Target::None,
                format!(
                    "{:.2} ns vs {:.2} ns per step",
                    per_step(checkpointed),
                    per_step(constant)
                ),
            );
        }
    }

    /// b, c, d. Saving and restoring a large state.
    fn large_state(&mut self, kind: &str, state: &Vec<f64>) {
        let mib = (state.len() * 8) >> 20;
        let raw = f64_bytes(state);
        let raw_path = self.disk.join(format!("raw-{kind}.bin"));
        let name = format!("large-{kind}");

        // b. A durable save on this thread against write_all + fsync.
        let (baseline, ours, written) = self.save_against_raw(&name, state, &raw, &raw_path, 5);
        let (target, note) = if kind == "random" {
            (Target::AtMost(1.15), "")
        } else {
            (Target::AtMost(1.0), " (should beat raw)")
        };
        self.push(
            format!("b. save {mib} MiB {kind} Vec<f64> / write_all + fsync of its raw bytes{note}"),
            ours.as_secs_f64() / baseline.as_secs_f64(),
            target,
            format!(
                "{} ms vs {} ms; file {:.1} MiB",
                ms(ours),
                ms(baseline),
                written as f64 / (1 << 20) as f64
            ),
        );

        // c. What the computation waits for when the writer thread does the rest.
        let mut checkpoint = Checkpoint::builder(&format!("stall-{kind}"))
            .dir(&self.disk)
            .open()
            .expect("open");
        checkpoint.save(state).expect("warm-up save");
        let mut stall = Duration::MAX;
        let mut copy = Duration::MAX;
        for _ in 0..3 {
            checkpoint.flush().expect("flush");
            stall = stall.min(timed(|| checkpoint.save(state).expect("save")));
            checkpoint.flush().expect("flush");
            let began = Instant::now();
            let cloned = black_box(state.clone());
            copy = copy.min(began.elapsed());
            drop(cloned);
        }
        checkpoint.finish().expect("finish");
        self.push(
            format!("c. stall of a background save of {mib} MiB {kind} / a memcpy (clone) of it"),
            stall.as_secs_f64() / copy.as_secs_f64(),
            Target::AtMost(1.5),
            format!("{} ms vs {} ms", ms(stall), ms(copy)),
        );

        // d. Restore the state saved in b against reading the raw file.
        let mut checkpoint = Checkpoint::builder(&name)
            .dir(&self.disk)
            .open()
            .expect("open");
        let mut restore = Duration::MAX;
        let mut read = Duration::MAX;
        for _ in 0..3 {
            read = read.min(timed(|| {
                black_box(fs::read(&raw_path).expect("read raw"));
            }));
            let began = Instant::now();
            let restored = checkpoint.restore::<Vec<f64>>().expect("restore");
            restore = restore.min(began.elapsed());
            assert!(
                restored.as_ref() == Some(state),
                "restored a different state"
            );
        }
        checkpoint.finish().expect("finish");
        let _ = fs::remove_file(&raw_path);
        self.push(
            format!("d. restore {mib} MiB {kind} / fs::read of its raw bytes (page cache)"),
            restore.as_secs_f64() / read.as_secs_f64(),
            Target::AtMost(1.3),
            format!("{} ms vs {} ms", ms(restore), ms(read)),
        );
        if kind == "random" {
            self.nested_restore(state, read);
        }
    }

    /// d. The same vector as a field of a user's struct, beside a vector
    /// of another type that serde decodes element by element. Against the
    /// raw read timed above.
    fn nested_restore(&mut self, state: &[f64], read: Duration) {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq)]
        struct Field {
            values: Vec<f64>,
            cells: Vec<u32>,
            step: u64,
        }
        let field = Field {
            values: state.to_vec(),
            cells: (0..1000).collect(),
            step: 7,
        };
        let restore = self.restore_time("nested", &field);
        let mib = (state.len() * 8) >> 20;
        self.push(
            format!(
                "d. restore {mib} MiB random as a field of a struct / fs::read of its raw bytes"
            ),
            restore.as_secs_f64() / read.as_secs_f64(),
            Target::None,
            format!("{} ms vs {} ms", ms(restore), ms(read)),
        );
    }

    /// The fastest of 3 restores of `state`, saved once.
    fn restore_time<S>(&self, name: &str, state: &S) -> Duration
    where
        S: serde::Serialize + serde::de::DeserializeOwned + PartialEq,
    {
        let mut checkpoint = Checkpoint::builder(name)
            .dir(&self.disk)
            .background(false)
            .open()
            .expect("open");
        checkpoint.save(state).expect("save");
        let mut restore = Duration::MAX;
        for _ in 0..3 {
            let began = Instant::now();
            let restored = checkpoint.restore::<S>().expect("restore");
            restore = restore.min(began.elapsed());
            assert!(
                restored.as_ref() == Some(state),
                "restored a different state"
            );
        }
        checkpoint.finish().expect("finish");
        restore
    }

    /// e. Durable saves of a small state per second, against the bare
    /// protocol on the same disk.
    fn small_saves(&mut self) {
        let state: Vec<u64> = (0..64).map(|i| i * 1_000_003).collect();
        let per_round = ((40.0 * self.scale) as u32).max(10);
        let mut checkpoint = Checkpoint::builder("small")
            .dir(&self.disk)
            .background(false)
            .open()
            .expect("open");
        checkpoint.save(&state).expect("save");
        let bytes = vec![
            0x5a_u8;
            fs::metadata(checkpoint.flush().expect("flush").expect("saved"))
                .expect("stat")
                .len() as usize
        ];
        // One of each in turn, and the median of each: the disk's latency
        // drifts by a factor of 3 within a run here, which would swamp totals.
        let mut ours = Vec::new();
        let mut bare = Vec::new();
        for _ in 0..5 * per_round {
            bare.push(timed(|| {
                bare_durable_write(&self.disk, "bare-small", &bytes).expect("bare write")
            }));
            ours.push(timed(|| checkpoint.save(&state).expect("save")));
        }
        let (ours, bare) = (median(ours), median(bare));
        checkpoint.finish().expect("finish");
        self.push(
            format!("e. durable saves/s of a {}-byte file / bare write + fsync + rename + fsync(dir), same disk (medians)", bytes.len()),
            bare.as_secs_f64() / ours.as_secs_f64(),
            Target::AtLeast(0.9),
            format!(
                "{:.0}/s vs {:.0}/s",
                1.0 / ours.as_secs_f64(),
                1.0 / bare.as_secs_f64()
            ),
        );
    }

    /// f. The demos checkpointed every iteration: this library against
    /// serde_json + fs::write and against Python's pickle per iteration.
    fn peers(&mut self) {
        let primes_n = ((300.0 * self.scale) as u64).max(50);
        let factorial_n = ((1000.0 * self.scale) as u64).max(100);
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("peers/pickle_peer.py");
        let python = Command::new("python3").arg("--version").output().is_ok();
        for (place, dir) in [("disk", self.disk.clone()), ("tmpfs", self.memory.clone())] {
            for workload in ["primes", "factorial"] {
                let n = if workload == "primes" {
                    primes_n
                } else {
                    factorial_n
                };
                let path = dir.join(format!("{workload}.json"));
                let (ours, json) = in_checkpoint_dir(&dir, || {
                    min_of_pairs(
                        2,
                        || match workload {
                            "primes" => drop(primes_checkpointed(n)),
                            _ => drop(factorial_checkpointed(n)),
                        },
                        || match workload {
                            "primes" => drop(primes_json(n, &path).expect("json")),
                            _ => drop(factorial_json(n, &path).expect("json")),
                        },
                    )
                });
                self.push(
                    format!("f. {workload}({n}) saving every iteration on {place}: checkpoint / serde_json + fs::write"),
                    ours.as_secs_f64() / json.as_secs_f64(),
                    Target::None,
                    format!("{} ms vs {} ms", ms(ours), ms(json)),
                );
                if !python {
                    continue;
                }
                let pickle = (0..2)
                    .filter_map(|_| python_seconds(&script, workload, n, &dir))
                    .fold(f64::INFINITY, f64::min);
                if pickle.is_finite() {
                    // How many times faster than pickle: on disk, where the
                    // loop no longer waits for it, the target.
                    self.push(
                        format!("f. {workload}({n}) saving every iteration on {place}: Python pickle per iteration / checkpoint (times faster)"),
                        pickle / ours.as_secs_f64(),
                        if place == "disk" {
                            Target::AtLeast(10.0)
                        } else {
                            Target::None
                        },
                        format!("{} ms vs {:.1} ms", ms(ours), pickle * 1e3),
                    );
                }
            }
        }
    }

    fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| measure | ratio | target | | figures |");
        let _ = writeln!(out, "|---|---:|---|---|---|");
        for row in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {:.3} | {} | {} | {} |",
                row.measure,
                row.ratio,
                row.target.describe(),
                row.target.verdict(row.ratio),
                row.figures
            );
        }
        out
    }

    /// Saves from 1 MiB to 1 GiB, as CSV for `scripts/plot_save_cost.py`.
    fn sweep(&mut self) {
        let max_mib: usize = env_or("CHECKPOINT_BENCH_SWEEP_MAX_MIB", 1024);
        let csv_path = Path::new(env!("CARGO_TARGET_TMPDIR")).join("save-cost.csv");
        let mut csv = String::from(
            "kind,mib,raw_write_fsync_s,save_s,memcpy_s,stall_s,raw_read_s,restore_s,file_bytes\n",
        );
        let mut mib = 1;
        while mib <= max_mib {
            let len = mib << 17;
            for kind in ["random", "compressible"] {
                let state = match kind {
                    "random" => random_f64s(len, mib as u64),
                    _ => compressible_f64s(len),
                };
                let line = self.sweep_point(&state);
                eprintln!("  sweep {kind} {mib} MiB: {line}");
                let _ = writeln!(csv, "{kind},{mib},{line}");
            }
            mib *= 4;
        }
        fs::write(&csv_path, csv).expect("write the CSV");
        eprintln!("checkpoint-bench: wrote {}", csv_path.display());
    }

    /// Durable saves of `state` on this thread (run `name`) against
    /// write_all + fsync of its `raw` bytes to `raw_path`, taken in turn:
    /// the fastest of `reps` of each, and the file size of a save.
    ///
    /// Untimed saves come first, until old generations are being deleted.
    /// In steady state a save's page cache reuses the pages the pruned
    /// generation freed, as the baseline's reuses those of the raw file it
    /// deletes first. Before that, every page is new to the page cache, and
    /// in a VM memory the guest never touched costs a trip to the host: a
    /// 64 MiB write took 230 ms against 15 ms on recycled pages here.
    fn save_against_raw(
        &self,
        name: &str,
        state: &Vec<f64>,
        raw: &[u8],
        raw_path: &Path,
        reps: usize,
    ) -> (Duration, Duration, u64) {
        let mut checkpoint = Checkpoint::builder(name)
            .dir(&self.disk)
            .background(false)
            .open()
            .expect("open");
        for _ in 0..=DEFAULT_KEEP {
            checkpoint.save(state).expect("warm-up save");
        }
        checkpoint.flush().expect("flush");
        let (mut write, mut save) = (Duration::MAX, Duration::MAX);
        for _ in 0..reps {
            let _ = fs::remove_file(raw_path);
            write = write.min(timed(|| write_and_fsync(raw_path, raw).expect("raw write")));
            save = save.min(timed(|| checkpoint.save(state).expect("save")));
            // The replaced generation is deleted on another thread: let that
            // finish before the next baseline is timed, so it slows neither.
            checkpoint.flush().expect("flush");
        }
        let stats = checkpoint.stats();
        (write, save, stats.bytes_written / stats.saves.max(1))
    }

    fn sweep_point(&self, state: &Vec<f64>) -> String {
        let reps = if state.len() >= 1 << 27 { 2 } else { 3 };
        let raw = f64_bytes(state);
        let raw_path = self.disk.join("sweep.bin");
        let (write, save, file_bytes) =
            self.save_against_raw("sweep", state, &raw, &raw_path, reps);
        drop(raw);
        let (mut read, mut restore) = (Duration::MAX, Duration::MAX);
        let mut checkpoint = Checkpoint::builder("sweep")
            .dir(&self.disk)
            .open()
            .expect("open");
        for _ in 0..reps {
            read = read.min(timed(|| {
                drop(black_box(fs::read(&raw_path).expect("read")))
            }));
            restore = restore.min(timed(|| {
                drop(black_box(
                    checkpoint.restore::<Vec<f64>>().expect("restore"),
                ))
            }));
        }
        let (mut stall, mut copy) = (Duration::MAX, Duration::MAX);
        for _ in 0..reps {
            checkpoint.flush().expect("flush");
            stall = stall.min(timed(|| checkpoint.save(state).expect("save")));
            checkpoint.flush().expect("flush");
            copy = copy.min(timed(|| drop(black_box(state.clone()))));
        }
        checkpoint.finish().expect("finish");
        let _ = fs::remove_file(&raw_path);
        let s = |d: Duration| format!("{:.6}", d.as_secs_f64());
        format!(
            "{},{},{},{},{},{},{file_bytes}",
            s(write),
            s(save),
            s(copy),
            s(stall),
            s(read),
            s(restore)
        )
    }
}

/// Runs `f` with `CHECKPOINT_DIR` set to `dir` (the macro's functions take
/// their directory from it), then unsets it so that it cannot override the
/// `dir` the other benches give the builder.
fn in_checkpoint_dir<R>(dir: &Path, f: impl FnOnce() -> R) -> R {
    // SAFETY: no run is open while it changes, so no other thread of this
    // process reads the environment.
    unsafe { std::env::set_var("CHECKPOINT_DIR", dir) };
    let result = f();
    unsafe { std::env::remove_var("CHECKPOINT_DIR") };
    result
}

/// Whether `CHECKPOINT_BENCH_ONLY` (letters, e.g. `bd`) selects `section`.
fn selected(section: char) -> bool {
    std::env::var("CHECKPOINT_BENCH_ONLY").map_or(true, |only| only.contains(section))
}

fn python_seconds(script: &Path, workload: &str, n: u64, dir: &Path) -> Option<f64> {
    let output = Command::new("python3")
        .arg(script)
        .arg(workload)
        .arg(n.to_string())
        .arg(dir)
        .output()
        .ok()?;
    if !output.status.success() {
        eprintln!(
            "python3 {} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        return None;
    }
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

fn timed(f: impl FnOnce()) -> Duration {
    let began = Instant::now();
    f();
    began.elapsed()
}

fn min_of<R>(reps: usize, mut f: impl FnMut() -> R) -> Duration {
    (0..reps)
        .map(|_| timed(|| drop(black_box(f()))))
        .min()
        .unwrap_or_default()
}

/// Alternates `a` and `b` so that drift in the machine's speed (another
/// build, thermal limits) hits both alike; the fastest of each.
fn min_of_pairs<A, B>(
    reps: usize,
    mut a: impl FnMut() -> A,
    mut b: impl FnMut() -> B,
) -> (Duration, Duration) {
    let (mut best_a, mut best_b) = (Duration::MAX, Duration::MAX);
    for _ in 0..reps {
        best_a = best_a.min(timed(|| drop(black_box(a()))));
        best_b = best_b.min(timed(|| drop(black_box(b()))));
    }
    (best_a, best_b)
}

/// Alternates `a` and `b`; the median of each.
/// The median time of each of `runs`, timed in turn `reps` times.
fn medians(reps: usize, runs: &mut [&mut dyn FnMut()]) -> Vec<Duration> {
    let mut times = vec![Vec::new(); runs.len()];
    for _ in 0..reps {
        for (run, times) in runs.iter_mut().zip(&mut times) {
            times.push(timed(&mut **run));
        }
    }
    times.into_iter().map(median).collect()
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

//! The MPI rows of the benchmark, each a ratio against its baseline
//! measured in the same run, on every rank of `mpirun -np 4`:
//!
//! - the ~70 ns hot loop with `#[checkpointed(comm = world)]` (the
//!   collective agreement on when to save) against the same MPI program
//!   without checkpointing;
//! - a committed save of 64 MiB per rank against every rank writing and
//!   fsyncing its raw bytes at once;
//! - the restore of that save against every rank reading its raw bytes.
//!
//! ```text
//! cargo build --release -p checkpoint-bench --features mpi --bin mpi_ratios
//! mpirun -np 4 target/release/mpi_ratios      # scripts/bench.sh does this
//! ```
//!
//! `CHECKPOINT_BENCH_SCALE` scales the work (1.0: 20 M iterations, 64 MiB).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use checkpoint_bench::{body, compressible_f64s, f64_bytes, write_and_fsync};
use checkpoint_core::{Checkpoint, checkpointed};
use mpi::collective::SystemOperation;
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, CommunicatorCollectives};

/// The hot loop of `ratios`' row a, in an MPI program: every rank runs it,
/// and the results are combined at the end.
fn plain(world: &SimpleCommunicator, n: u64) -> u64 {
    let mut x: u64 = 1;
    for i in 0..n {
        x = body(x, i);
    }
    combine(world, x)
}

/// The same program, checkpointed across the ranks (default policy).
#[checkpointed(comm = world, key = (n))]
fn checkpointed(world: &SimpleCommunicator, n: u64) -> u64 {
    #[state]
    let mut x: u64 = 1;
    for i in 0..n {
        x = body(x, i);
    }
    combine(world, x)
}

fn combine(world: &SimpleCommunicator, x: u64) -> u64 {
    let mut all = 0_u64;
    world.all_reduce_into(&x, &mut all, SystemOperation::bitwise_xor());
    all
}

/// Wall time of `work` on the whole job: from a barrier to a barrier.
fn timed<T>(world: &SimpleCommunicator, work: impl FnOnce() -> T) -> (Duration, T) {
    world.barrier();
    let began = Instant::now();
    let out = work();
    world.barrier();
    (began.elapsed(), out)
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

struct Row {
    measure: String,
    ratio: f64,
    target: f64,
    figures: String,
}

fn main() {
    let Some(universe) = mpi::initialize() else {
        eprintln!("mpi_ratios: MPI was already initialized");
        std::process::exit(1);
    };
    let world = universe.world();
    let rank = world.rank();
    let size = world.size();
    let scale: f64 = std::env::var("CHECKPOINT_BENCH_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1.0);
    let dir = std::env::var_os("CHECKPOINT_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/tmp/mpi-bench"));
    if rank == 0 {
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create the bench directory");
    }
    world.barrier();
    // SAFETY: set before this process starts any thread of its own.
    unsafe {
        std::env::set_var("CHECKPOINT_QUIET", "1");
        std::env::set_var("CHECKPOINT_DIR", &dir);
    }
    let mut rows = Vec::new();

    // The hot loop: median of 5 alternating runs of each.
    let n = (20_000_000.0 * scale).max(1000.0) as u64;
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for _ in 0..5 {
        let (t, a) = timed(&world, || plain(&world, n));
        without.push(t);
        let (t, b) = timed(&world, || checkpointed(&world, n));
        with.push(t);
        assert_eq!(a, b, "the checkpointed loop computes the same");
    }
    let (with, without) = (median(with), median(without));
    rows.push(Row {
        measure: format!(
            "hot loop (~70 ns body) on {size} ranks, agreed due checks vs the same MPI program"
        ),
        ratio: with.as_secs_f64() / without.as_secs_f64(),
        target: 1.02,
        figures: format!(
            "{:.0} ms vs {:.0} ms, {n} iterations",
            ms(with),
            ms(without)
        ),
    });

    // A committed save against raw writes, and its restore against raw
    // reads: 64 MiB of doubles per rank.
    let len = ((64.0 * scale).max(1.0) as usize) << 17;
    let state = compressible_f64s(len);
    let raw = f64_bytes(&state);
    let raw_path = dir.join(format!("raw-{rank}.bin"));
    let (mut saves, mut writes, mut restores, mut reads) = (vec![], vec![], vec![], vec![]);
    for round in 0..3 {
        let (t, ()) = timed(&world, || {
            write_and_fsync(&raw_path, &raw).expect("raw write");
        });
        writes.push(t);
        let name = format!("bench-save-{round}");
        let (t, ()) = timed(&world, || {
            let mut run = Checkpoint::builder(&name)
                .comm(&world)
                .open()
                .expect("open");
            run.save(&state).expect("save");
            drop(run);
        });
        saves.push(t);
        let (t, bytes) = timed(&world, || fs::read(&raw_path).expect("raw read"));
        reads.push(t);
        assert_eq!(bytes.len(), raw.len());
        let (t, (run, restored)) = timed(&world, || {
            let mut run = Checkpoint::builder(&name)
                .comm(&world)
                .open()
                .expect("open");
            let restored: Option<Vec<f64>> = run.restore().expect("restore");
            (run, restored)
        });
        restores.push(t);
        run.finish().expect("finish");
        assert!(
            restored.is_some_and(|restored| restored == state),
            "restored the state"
        );
    }
    let mib = (raw.len() >> 20) * usize::try_from(size).unwrap_or(1);
    let (save, write) = (median(saves), median(writes));
    rows.push(Row {
        measure: format!(
            "committed save of {size} ranks x {} MiB vs raw write + fsync on every rank",
            raw.len() >> 20
        ),
        ratio: save.as_secs_f64() / write.as_secs_f64(),
        target: 1.3,
        figures: format!("{:.0} ms vs {:.0} ms for {mib} MiB", ms(save), ms(write)),
    });
    let (restore, read) = (median(restores), median(reads));
    rows.push(Row {
        measure: "restore of it vs raw read on every rank".to_owned(),
        ratio: restore.as_secs_f64() / read.as_secs_f64(),
        target: 1.3,
        figures: format!("{:.0} ms vs {:.0} ms", ms(restore), ms(read)),
    });
    let _ = fs::remove_file(&raw_path);
    world.barrier();
    if rank == 0 {
        print_table(&rows, &dir);
        let _ = fs::remove_dir_all(&dir);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn print_table(rows: &[Row], dir: &Path) {
    println!("MPI rows (mpirun, state in {}):", dir.display());
    println!();
    println!("| Measure | Ratio | Target | Figures |");
    println!("|---|---|---|---|");
    for row in rows {
        let verdict = if row.ratio <= row.target {
            "met"
        } else {
            "missed"
        };
        println!(
            "| {} | **{:.3}** | <= {} ({verdict}) | {} |",
            row.measure, row.ratio, row.target, row.figures
        );
    }
}

//! A 2-D heat equation on an MPI job: Jacobi iterations on a square plate
//! whose rows are split across the ranks, with a halo exchange every step.
//! Each rank's `#[state]` is its own slab; `comm = world` makes the ranks
//! save at the same step and commit each save together, so a rerun after
//! any interruption prints the same checksum, bit for bit.
//!
//! ```text
//! cargo build --release --features mpi --example heat
//! mpirun -np 4 --mca odls_base_sigkill_timeout 30 target/release/examples/heat 2000 --delay-ms 2
//! ```
//!
//! (The `--mca` option gives the ranks 30 s to save after `mpirun` forwards
//! a SIGTERM, instead of Open MPI's 1 s.)
//!
//! The plate is `SIDE` × `SIDE` points; its top edge is held at 100
//! degrees, the others at 0. The last line of stdout (rank 0) is the sum
//! of the final temperatures and its bits.

use checkpoint_core::checkpointed;
use checkpoint_examples::{Cli, pause};
use mpi::topology::SimpleCommunicator;
use mpi::traits::{Communicator, Root};

/// Points per side of the plate.
const SIDE: usize = 192;

/// The rows of the plate rank `rank` of `size` owns: `(first, count)`.
fn slab(rank: usize, size: usize) -> (usize, usize) {
    let base = SIDE / size;
    let extra = SIDE % size;
    let count = base + usize::from(rank < extra);
    let first = rank * base + rank.min(extra);
    (first, count)
}

/// `steps` Jacobi iterations of the plate; every rank returns the sum of
/// the whole plate's temperatures, added in rank order.
#[checkpointed(comm = world, every = "2s", key = (steps))]
fn heat(world: &SimpleCommunicator, steps: u64, delay_ms: u64) -> f64 {
    let rank = usize::try_from(world.rank()).unwrap_or(0);
    let size = usize::try_from(world.size()).unwrap_or(1);
    let (first, rows) = slab(rank, size);
    // This rank's rows, with a halo row above and below: (rows + 2) × SIDE.
    #[state]
    let mut plate = {
        let mut plate = vec![0.0_f64; (rows + 2) * SIDE];
        if first == 0 {
            // The hot edge is the plate's first row.
            plate[SIDE..2 * SIDE].fill(100.0);
        }
        plate
    };
    for _ in 0..steps {
        exchange_halos(world, &mut plate, rows);
        let mut next = plate.clone();
        for row in 1..=rows {
            let global = first + row - 1;
            if global == 0 || global == SIDE - 1 {
                continue; // a fixed edge
            }
            for col in 1..SIDE - 1 {
                let at = row * SIDE + col;
                next[at] =
                    0.25 * (plate[at - SIDE] + plate[at + SIDE] + plate[at - 1] + plate[at + 1]);
            }
        }
        plate = next;
        pause(delay_ms);
    }
    let own: f64 = plate[SIDE..(rows + 1) * SIDE].iter().sum();
    // Added in rank order on rank 0, then shared: the same bits whatever
    // the interruptions.
    let root = world.process_at_rank(0);
    let mut total = 0.0_f64;
    if rank == 0 {
        let mut parts = vec![0.0_f64; size];
        root.gather_into_root(&own, &mut parts[..]);
        total = parts.iter().sum();
    } else {
        root.gather_into(&own);
    }
    root.broadcast_into(&mut total);
    total
}

/// Sends this rank's first and last rows to its neighbours and receives
/// theirs into its halo rows.
fn exchange_halos(world: &SimpleCommunicator, plate: &mut [f64], rows: usize) {
    let rank = world.rank();
    if rank > 0 {
        let up = world.process_at_rank(rank - 1);
        let first = plate[SIDE..2 * SIDE].to_vec();
        mpi::point_to_point::send_receive_into(&first[..], &up, &mut plate[..SIDE], &up);
    }
    if rank + 1 < world.size() {
        let down = world.process_at_rank(rank + 1);
        let last = plate[rows * SIDE..(rows + 1) * SIDE].to_vec();
        let halo = (rows + 1) * SIDE;
        mpi::point_to_point::send_receive_into(
            &last[..],
            &down,
            &mut plate[halo..halo + SIDE],
            &down,
        );
    }
}

fn main() {
    let cli = Cli::parse("heat N [--delay-ms MS]", 1000);
    let Some(universe) = mpi::initialize() else {
        eprintln!("heat: MPI was already initialized");
        std::process::exit(1);
    };
    let world = universe.world();
    let total = heat(&world, cli.n, cli.delay_ms);
    if world.rank() == 0 {
        println!("{total:.9} {:#018x}", total.to_bits());
    }
}

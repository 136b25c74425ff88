use checkpoint_core::checkpointed;

// Without checkpoint-core's `mpi` feature nothing is a communicator; with
// it, a `u32` still is not.
#[checkpointed(comm = world)]
fn solve(world: &u32, n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i + u64::from(*world);
    }
    total
}

fn main() {
    solve(&0, 10);
}

use checkpoint_core::checkpointed;

// `comm` must name an argument.
#[checkpointed(comm = world)]
fn no_such_argument(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

// The communicator says which ranks run, not which run this is.
#[checkpointed(comm = world, key = (world, n))]
fn communicator_in_key(world: &u32, n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i + u64::from(*world);
    }
    total
}

fn main() {
    no_such_argument(10);
    communicator_in_key(&0, 10);
}

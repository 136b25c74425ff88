use checkpoint_core::checkpointed;

struct Grid {
    cells: Vec<u8>,
}

// Every argument is part of the run's identity by default, so it must be
// serializable: `Grid` is not. `key = (steps)` or a serde derive fixes it.
#[checkpointed]
fn simulate(grid: &Grid, steps: u64) -> u64 {
    #[state]
    let mut alive = 0;
    for _ in 0..steps {
        alive += grid.cells.len() as u64;
    }
    alive
}

fn main() {
    let _ = simulate(&Grid { cells: vec![1] }, 3);
}

use checkpoint_core::checkpointed;

struct Grid {
    cells: Vec<u8>,
}

impl Grid {
    // The receiver named in `key` must be serializable: `Grid` is not.
    #[checkpointed(key = (self, steps))]
    fn simulate(&self, steps: u64) -> u64 {
        #[state]
        let mut alive = 0;
        for _ in 0..steps {
            alive += self.cells.len() as u64;
        }
        alive
    }
}

fn main() {
    let _ = Grid { cells: vec![1] }.simulate(3);
}

use checkpoint_core::checkpointed;

#[checkpointed]
fn relax(steps: u64) -> u64 {
    #[state]
    let mut grid = vec![100.0_f64; 8];
    #[state]
    let mut step = 0;
    #[transient]
    let mut diff = 1.0_f64;
    while diff > 1e-6 && step < steps {
        diff = 0.0;
        for i in 1..7 {
            let new = (grid[i - 1] + grid[i + 1]) / 2.0;
            diff = diff.max((new - grid[i]).abs());
            grid[i] = new;
        }
        step += 1;
    }
    step
}

fn main() {
    relax(3);
}

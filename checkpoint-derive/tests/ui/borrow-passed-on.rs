use checkpoint_core::checkpointed;

fn record(log: &mut Vec<u64>, x: u64) {
    log.push(x);
}

#[checkpointed]
fn powers(steps: u64) -> usize {
    let mut log = Vec::new();
    let r = &mut log;
    #[state]
    let mut x = 1_u64;
    for _ in 0..steps {
        x = x * 3 % 1_000_003;
        record(r, x);
    }
    log.len()
}

fn main() {
    powers(3);
}

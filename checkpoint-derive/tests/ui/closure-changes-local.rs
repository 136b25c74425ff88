use checkpoint_core::checkpointed;

#[checkpointed]
fn powers(steps: u64) -> (u64, Vec<u64>) {
    #[state]
    let mut x = 1_u64;
    let mut log = Vec::new();
    let mut record = |v: u64| log.push(v);
    for _ in 0..steps {
        x = x * 3 % 1_000_003;
        record(x);
    }
    (x, log)
}

fn main() {
    powers(3);
}

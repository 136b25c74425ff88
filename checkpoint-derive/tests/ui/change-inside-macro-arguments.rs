use checkpoint_core::checkpointed;

#[checkpointed]
fn labels(n: u64) -> Vec<String> {
    let mut count = 0_u64;
    #[state]
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(format!("item {}", {
            count += 1;
            count
        }));
    }
    out
}

fn main() {
    labels(3);
}

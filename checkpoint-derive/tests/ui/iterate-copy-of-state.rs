use checkpoint_core::checkpointed;

#[checkpointed]
fn smooth(n: usize) -> Vec<u64> {
    #[state]
    let mut w: Vec<u64> = (0..n as u64).collect();
    for x in w.clone() {
        w[0] += x;
    }
    w
}

fn main() {
    smooth(3);
}

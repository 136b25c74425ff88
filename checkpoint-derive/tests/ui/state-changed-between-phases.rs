use checkpoint_core::checkpointed;

#[checkpointed]
fn normalized(n: u64) -> f64 {
    #[state]
    let mut x = 1.0;
    for i in 0..n {
        x += i as f64;
    }
    x /= n as f64;
    for _ in 0..n {
        x *= 0.5;
    }
    x
}

fn main() {
    normalized(4);
}

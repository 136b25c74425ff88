use checkpoint_core::checkpointed;

#[checkpointed]
fn scale(n: usize) -> Vec<f64> {
    #[state]
    let mut particles = vec![1.0; n];
    for p in particles.iter_mut() {
        *p *= 0.5;
    }
    particles
}

fn main() {
    scale(3);
}

use checkpoint_core::checkpointed;

fn offset_momentum(bodies: &mut [f64]) {
    bodies[0] = -bodies.iter().skip(1).sum::<f64>();
}

#[checkpointed]
fn energy(steps: u64) -> f64 {
    #[state]
    let mut bodies = vec![1.0, 2.0, 3.0];
    offset_momentum(&mut bodies);
    for _ in 0..steps {
        for body in bodies.iter_mut() {
            *body *= 0.5;
        }
    }
    bodies.iter().sum()
}

fn main() {
    energy(3);
}

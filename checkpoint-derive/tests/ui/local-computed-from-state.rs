use checkpoint_core::checkpointed;

#[checkpointed]
fn power(n: u64) -> f64 {
    #[state]
    let mut v = vec![1.0_f64; 4];
    let mut norm = 0.0;
    for x in &v {
        norm += x * x;
    }
    for _ in 0..n {
        for x in v.iter_mut() {
            *x /= norm;
        }
    }
    v[0]
}

fn main() {
    power(3);
}

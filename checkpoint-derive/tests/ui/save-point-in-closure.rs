// `#[checkpoint(save)]` on a loop inside a closure (a rayon `map`, say):
// a save point must be a loop of the function itself.
use checkpoint_core::checkpointed;

#[checkpointed]
fn total(n: u64) -> f64 {
    #[state]
    let mut total = 0.0_f64;
    for chunk in 0..n {
        total += (0..10_u64)
            .map(|i| {
                let mut sum = 0.0;
                #[checkpoint(save)]
                for j in 0..i {
                    sum += j as f64;
                }
                sum + chunk as f64
            })
            .sum::<f64>();
    }
    total
}

fn main() {
    total(10);
}

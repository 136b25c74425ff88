use checkpoint_core::checkpointed;

#[checkpointed(key = (), name = "weighted-sum", compress = false, keep_on_success = true)]
fn weighted_sum<T, W>(items: &[T], weight: W) -> f64
where
    T: Copy + Into<f64>,
    W: Fn(usize) -> f64,
{
    #[state]
    let mut sum = 0.0;
    for (i, item) in items.iter().enumerate() {
        sum += weight(i) * (*item).into();
    }
    sum
}

// A save point inside a parallel closure, as with rayon's
// `(0..n).into_par_iter().for_each(|i| total += ...)`: the closure's calls
// are no loop iterations; the error says how to restructure.
use checkpoint_core::checkpointed;

/// Stands for rayon's `into_par_iter().for_each`.
fn for_each_in_parallel(n: u64, work: impl Fn(u64) + Sync) {
    (0..n).for_each(work);
}

#[checkpointed]
fn total(n: u64) -> f64 {
    #[state]
    let mut total = 0.0_f64;
    for_each_in_parallel(n, |i| {
        total += i as f64;
    });
    total
}

fn main() {
    total(10);
}

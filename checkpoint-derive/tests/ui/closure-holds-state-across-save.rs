// A `let mut` closure made before the loop that changes #[state] holds a
// mutable borrow of it across the save point, which reads it: without the
// macro this compiles, with it the save could not borrow the state.
use checkpoint_core::checkpointed;

#[checkpointed]
fn total(n: u64) -> u64 {
    #[state]
    let mut total: u64 = 0;
    let mut add = |v: u64| total = total.wrapping_mul(7).wrapping_add(v);
    for i in 0..n {
        add(i);
    }
    total
}

fn main() {}

// A `macro_rules!` of the function's own body that changes a local by
// name: its invocation in the loop is a change of that local.
use checkpoint_core::checkpointed;

#[checkpointed]
fn ticks(n: u64) -> u64 {
    #[state]
    let mut acc: u64 = 0;
    let mut counter: u64 = 0;
    macro_rules! tick {
        () => {{
            counter += 1;
            counter
        }};
    }
    for i in 0..n {
        acc = acc.wrapping_add(tick!() * i);
    }
    acc
}

fn main() {}

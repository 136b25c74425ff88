use checkpoint_core::checkpointed;

// `seen` carries from one iteration to the next but is not #[state]: after
// a resume it would start over at 0 and the result would differ.
#[checkpointed]
fn count_even(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    let mut seen = 0;
    for i in 0..n {
        total += i;
        if i % 2 == 0 {
            seen += 1;
        }
    }
    total + seen
}

fn main() {
    count_even(10);
}

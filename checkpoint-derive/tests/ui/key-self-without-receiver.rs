use checkpoint_core::checkpointed;

// `self` in `key` names the receiver of a method: a free function has none.
#[checkpointed(key = (self))]
fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        total += i;
    }
    total
}

fn main() {
    sum(10);
}

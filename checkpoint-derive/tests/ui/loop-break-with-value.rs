use checkpoint_core::checkpointed;

#[checkpointed]
fn first_square_above(limit: u64) -> u64 {
    #[state]
    let mut i = 0;
    let found = loop {
        i += 1;
        if i * i > limit {
            break i * i;
        }
    };
    found
}

fn main() {
    first_square_above(1000);
}

use checkpoint_core::checkpointed;

#[checkpointed]
fn last_square(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    #[transient]
    let mut square = 0;
    for i in 0..n {
        square = i * i;
        total += square;
    }
    total + square
}

fn main() {
    last_square(3);
}

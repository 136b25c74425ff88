use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        let square = |x: u64| {
            #[state]
            let y = x * x;
            y
        };
        total += square(i);
    }
    total
}

fn main() {
    sum(10);
}

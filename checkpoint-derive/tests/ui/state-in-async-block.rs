use checkpoint_core::checkpointed;

#[checkpointed]
fn sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        let later = async move {
            #[state]
            let y = i * i;
            y
        };
        drop(later);
        total += i;
    }
    total
}

fn main() {
    sum(10);
}

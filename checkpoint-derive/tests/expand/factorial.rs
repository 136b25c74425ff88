use checkpoint_core::checkpointed;

#[checkpointed]
fn factorial(n: u64) -> u128 {
    #[state]
    let mut prod: u128 = 1;
    for i in 1..=n as u128 {
        prod *= i;
    }
    prod
}

use checkpoint_core::checkpointed;

#[checkpointed(every = "250ms", key = (n))]
fn primes(n: u64, delay_ms: u64) -> Vec<u64> {
    #[state]
    let mut found: Vec<u64> = vec![2];
    #[state]
    let mut candidate = 2;
    while (found.len() as u64) < n {
        candidate += 1;
        if found
            .iter()
            .take_while(|&&p| p * p <= candidate)
            .all(|&p| candidate % p != 0)
        {
            found.push(candidate);
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        }
    }
    found
}

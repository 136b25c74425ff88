use checkpoint_core::checkpointed;

#[checkpointed]
fn best_of(n: u64) -> u64 {
    let mut best = Some(0_u64);
    #[state]
    let mut seen = 0_u64;
    for i in 0..n {
        seen += 1;
        if let Some(ref mut b) = best {
            *b = (*b).max(i * 7 % 11);
        }
    }
    best.unwrap_or(0) + seen
}

fn main() {
    best_of(3);
}

use checkpoint_core::checkpointed;

#[checkpointed(every = "30s", keep = 3)]
fn two_phases(n: usize) -> u64 {
    #[state]
    let mut squares: Vec<u64> = Vec::with_capacity(n);
    for i in 0..n as u64 {
        squares.push(i * i);
    }
    #[state]
    let mut checksum = 0_u64;
    for square in &squares {
        checksum = checksum.wrapping_mul(31).wrapping_add(*square);
    }
    checksum
}

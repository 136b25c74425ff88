use checkpoint_core::checkpointed;

/// Sums `i * j` over the even `j` below `i`, at most four per row; the
/// inner loop saves too.
#[checkpointed(every_iters = 1000)]
fn triangle(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    'rows: for i in 0..n {
        #[checkpoint(save)]
        for j in 0..i {
            if j % 2 == 1 {
                continue;
            }
            if j > 6 {
                continue 'rows;
            }
            total += i * j;
        }
    }
    total
}

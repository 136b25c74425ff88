//! Mutable locals a save point may change without saving: a `#[transient]`
//! scratch buffer, a local changed only before the loop, and a local of the
//! same name declared inside the loop.
use checkpoint_core::checkpointed;

fn fill(buffer: &mut Vec<u64>, i: u64) {
    buffer.clear();
    buffer.extend(0..i % 5);
}

#[checkpointed(every_iters = 3)]
fn sum_of_sums(n: u64) -> u64 {
    #[transient]
    let mut scratch = Vec::new();
    let mut offset = 1;
    offset += 1;
    #[state]
    let mut total = 0;
    for i in 0..n {
        fill(&mut scratch, i);
        let mut offset = offset;
        offset *= 2;
        total += scratch.iter().sum::<u64>() + offset;
    }
    total
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ckpt-ui-transient-{}", std::process::id()));
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    // Scratch sums 0, 0, 1, 3, 6, 0, 0, 1, 3, 6; each offset is 2 * 2.
    assert_eq!(sum_of_sums(10), 20 + 40);
    std::fs::remove_dir_all(&dir).ok();
}

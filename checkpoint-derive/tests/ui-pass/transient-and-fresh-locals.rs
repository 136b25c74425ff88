//! Mutable locals a save point may change without saving: a `#[transient]`
//! scratch buffer reset at the start of every iteration, a local changed only before the loop, a local of the
//! same name declared inside the loop, and `if let`, `match` and `while let`
//! patterns that rebind an outer local's name within their block or arm.
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
        scratch.clear();
        fill(&mut scratch, i);
        let mut offset = offset;
        offset *= 2;
        total += scratch.iter().sum::<u64>() + offset;
    }
    total
}

#[checkpointed(every_iters = 2)]
fn rebound_in_patterns(n: u64) -> u64 {
    let mut m = 10;
    m += 1;
    #[state]
    let mut total = 0;
    for i in 0..n {
        let even = (i % 2 == 0).then_some(i);
        if let Some(mut m) = even {
            m *= 2;
            total += m;
        }
        match even {
            Some(mut m) if m > 2 => {
                m += 1;
                total += m;
            }
            _ => {}
        }
        let mut rest = Some(i);
        let mut extra = 0;
        while let Some(mut m) = rest {
            m += 100;
            extra += m;
            rest = None;
        }
        total += extra + m;
    }
    total
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ckpt-ui-transient-{}", std::process::id()));
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    // Scratch sums 0, 0, 1, 3, 6, 0, 0, 1, 3, 6; each offset is 2 * 2.
    assert_eq!(sum_of_sums(10), 20 + 40);
    // if let: 2 * (0 + 2 + 4); match: 4 + 1; while let and the outer `m`:
    // (i + 100) + 11 for each i in 0..6.
    assert_eq!(rebound_in_patterns(6), 12 + 5 + (15 + 6 * 111));
    std::fs::remove_dir_all(&dir).ok();
}

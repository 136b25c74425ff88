// A #[state] local changed in the loop only through a `&mut` made before
// it: the macro does not follow the borrow, so it says so, and the fix.
use checkpoint_core::checkpointed;

#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Stats {
    count: u64,
    sum: u64,
}

#[checkpointed]
fn stats(n: u64) -> (u64, u64) {
    #[state]
    let mut st = Stats::default();
    let s = &mut st;
    for i in 0..n {
        s.count += 1;
        s.sum += i * i;
    }
    (st.count, st.sum)
}

fn main() {}

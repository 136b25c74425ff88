// A draw from a generator kept by the thread or the process (rand's
// thread-local one, fastrand's, the C library's) is not saved: a resume
// draws other numbers, even after `fastrand::seed(42)` before the loop.
// The macro reads paths, so the modules below stand for the crates.
use checkpoint_core::checkpointed;

mod fastrand {
    pub fn seed(_: u64) {}
    pub fn i64(range: std::ops::Range<i64>) -> i64 {
        range.start
    }
}

mod rand {
    pub fn random<T: Default>() -> T {
        T::default()
    }
}

#[checkpointed]
fn walk(n: u64) -> i64 {
    fastrand::seed(42);
    #[state]
    let mut pos: i64 = 0;
    for _ in 0..n {
        pos += fastrand::i64(-3..4);
    }
    pos
}

#[checkpointed]
fn noise(n: u64) -> f64 {
    #[state]
    let mut sum = 0.0;
    for i in 0..n {
        sum += i as f64 * rand::random::<f64>();
    }
    sum
}

// Seeding in every iteration draws the same numbers on a resume: compiles.
#[checkpointed]
fn reseeded(n: u64) -> i64 {
    #[state]
    let mut pos: i64 = 0;
    for i in 0..n {
        fastrand::seed(i);
        pos += fastrand::i64(-3..4);
    }
    pos
}

fn main() {}

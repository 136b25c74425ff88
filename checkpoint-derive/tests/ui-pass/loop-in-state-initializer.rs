//! A loop inside a #[state] initializer (a Fisher-Yates shuffle drawing
//! from a #[state] RNG) is plain code: the initializer runs only on a fresh
//! start.

use checkpoint_core::{checkpointed, verify};

#[derive(serde::Serialize, serde::Deserialize)]
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

#[checkpointed]
fn tour_length(n: usize, steps: u64) -> usize {
    #[state]
    let mut rng = Rng(88_172_645_463_325_252);
    #[state]
    let mut tour = {
        let mut t: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            let j = rng.below(i + 1);
            t.swap(i, j);
        }
        t
    };
    for _ in 0..steps {
        let (a, b) = (rng.below(n), rng.below(n));
        tour.swap(a, b);
    }
    tour.iter().enumerate().map(|(k, &c)| k.abs_diff(c)).sum()
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ckpt-ui-init-loop-{}", std::process::id()));
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    verify(|| tour_length(12, 30));
    std::fs::remove_dir_all(&dir).ok();
}

// A local that only a save-point `for` loop's iterable changes is replayed
// with it on a resume: a generator drawn by the iterator, a reader it
// consumes. `verify` resumes from every save and compares.
use checkpoint_core::{checkpointed, verify};
use std::io::{BufRead, Read};

/// A small generator, not #[state]: only the iterator draws from it.
struct Lcg(u64);

impl Lcg {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        self.0 >> 11
    }
}

#[checkpointed(every_iters = 3)]
fn drawn(n: u64) -> u64 {
    let mut rng = Lcg(7);
    #[state]
    let mut acc: u64 = 0;
    for x in (0..n).map(|_| rng.next_u64() % 1000) {
        acc = acc.wrapping_mul(31).wrapping_add(x);
    }
    acc
}

#[checkpointed(every_iters = 2)]
fn lines(text: &str) -> usize {
    let mut reader = std::io::BufReader::new(text.as_bytes());
    #[state]
    let mut words = 0_usize;
    for line in reader.by_ref().lines() {
        words += line.map_or(0, |line| line.split_whitespace().count());
    }
    words
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ckpt-ui-iterable-{}", std::process::id()));
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    verify(|| drawn(40));
    verify(|| lines("a b\nc\nd e f\n\ng h\ni\n"));
    std::fs::remove_dir_all(&dir).ok();
}

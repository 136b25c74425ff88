// A save-point `for` whose iterator draws from a #[state] generator: a
// resume replays the iterator from the restored generator, which has
// already drawn those numbers.
use checkpoint_core::checkpointed;

#[derive(serde::Serialize, serde::Deserialize)]
struct Lcg(u64);

impl Lcg {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        self.0 >> 11
    }
}

#[checkpointed]
fn drawn(n: u64) -> u64 {
    #[state]
    let mut rng = Lcg(7);
    #[state]
    let mut acc: u64 = 0;
    for x in (0..n).map(|_| rng.next_u64() % 1000) {
        acc = acc.wrapping_mul(31).wrapping_add(x);
    }
    acc
}

fn main() {}

// A closure made before the loop from a value computed from #[state]
// (an adaptive integrator's step limits from the first step size), or a
// local macro that names one: a resume makes it again from the restored
// state, not from the state at the start.
use checkpoint_core::checkpointed;

#[checkpointed]
fn integrate(n: u64) -> f64 {
    #[state]
    let mut h = 0.1_f64;
    #[state]
    let mut t = 0.0_f64;
    let h0 = h;
    let limit = move |step: f64| step.clamp(h0 * 1e-3, h0 * 2.0);
    for _ in 0..n {
        t += h;
        h = limit(h * 1.5);
    }
    t
}

#[checkpointed]
fn scaled(n: u64) -> u64 {
    #[state]
    let mut h: u64 = 3;
    #[state]
    let mut acc: u64 = 0;
    let h0 = h;
    macro_rules! scaled {
        ($x:expr) => {
            $x * h0
        };
    }
    for i in 0..n {
        acc = acc.wrapping_add(scaled!(i));
        h += 1;
    }
    acc ^ h
}

fn main() {}

//! Shapes a newcomer writes that resume exactly and must compile: a
//! #[state] initializer drawing from a #[state] RNG (initializers do not
//! run on resume), a local computed from a field that shares a #[state]
//! local's name, scratch space reset at the start of each iteration, a
//! closure that changes only state, and iteration by index over state
//! the loop changes.

use checkpoint_core::{checkpointed, verify};

#[derive(serde::Serialize, serde::Deserialize)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Net {
    weights: Vec<u64>,
}

impl Net {
    fn new(rng: &mut Rng) -> Net {
        Net {
            weights: (0..4).map(|_| rng.next() % 100).collect(),
        }
    }
}

struct Universe {
    cells: Vec<u8>,
}

#[checkpointed(key = (epochs))]
fn train(universe: &Universe, epochs: u64) -> Vec<u64> {
    #[state]
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    #[state]
    let mut net = Net::new(&mut rng);
    #[state]
    let mut cells = universe.cells.clone();
    let width = universe.cells.len();
    #[transient]
    let mut scratch = Vec::new();
    for _ in 0..epochs {
        scratch.clear();
        scratch.extend(net.weights.iter().map(|w| w + rng.next() % 7));
        for (weight, new) in net.weights.iter_mut().zip(&scratch) {
            *weight = new % 1000;
        }
        let mut bump = |k: usize| cells[k % width] = cells[k % width].wrapping_add(1);
        bump(net.weights[0] as usize);
    }
    for k in 0..cells.len() {
        cells[k] = cells[k].wrapping_mul(3);
    }
    let mut out = net.weights;
    out.extend(cells.iter().map(|&c| u64::from(c)));
    out
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ckpt-ui-state-from-{}", std::process::id()));
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    let universe = Universe {
        cells: vec![1, 2, 3, 4, 5],
    };
    verify(|| train(&universe, 20));
    std::fs::remove_dir_all(&dir).ok();
}

//! A power iteration and a small dense layer written as a newcomer writes
//! them: inner loops that only read state are no save points, so scratch
//! vectors declared in the loop need no annotation.

use checkpoint_core::{checkpointed, verify};

#[checkpointed(key = (iterations))]
fn dominant_eigenvalue(a: &[Vec<f64>], iterations: u32) -> f64 {
    let n = a.len();
    #[state]
    let mut v = vec![1.0; n];
    #[state]
    let mut lambda = 0.0;
    for _ in 0..iterations {
        let mut w = vec![0.0; n];
        for i in 0..n {
            for j in 0..n {
                w[i] += a[i][j] * v[j];
            }
        }
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        for i in 0..n {
            v[i] = w[i] / norm;
        }
        lambda = norm;
    }
    lambda
}

#[checkpointed]
fn train(epochs: u32, rows: u32) -> Vec<f64> {
    #[state]
    let mut weights = vec![0.1; 4];
    for _ in 0..epochs {
        for row in 0..rows {
            let input: Vec<f64> = (0..4).map(|k| f64::from(row + k) / 10.0).collect();
            let mut out = 0.0;
            for k in 0..4 {
                out += weights[k] * input[k];
            }
            let error = out - 1.0;
            for k in 0..4 {
                weights[k] -= 0.01 * error * input[k];
            }
        }
    }
    weights
}

fn main() {
    let dir = std::env::temp_dir().join(format!("ckpt-ui-power-{}", std::process::id()));
    unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
    let a = vec![vec![2.0, 1.0], vec![1.0, 3.0]];
    verify(|| dominant_eigenvalue(&a, 30).to_bits());
    verify(|| train(5, 6).iter().map(|w| w.to_bits()).collect::<Vec<_>>());
    std::fs::remove_dir_all(&dir).ok();
}

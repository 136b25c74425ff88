//! The macro-free API: a training-style loop that restores its state,
//! saves it after every epoch with `Checkpoint::save`, and finishes. A
//! handled signal (SIGINT, SIGTERM, SIGUSR1) during an epoch is honoured at
//! the next `save`: the epoch is saved, and the process exits with
//! 128 + signal.
//!
//! ```text
//! cargo run --example explicit -- 40 --delay-ms 50
//! ```

use checkpoint_core::Checkpoint;
use checkpoint_examples::{Cli, pause};
use serde::{Deserialize, Serialize};

/// What survives an interruption: the epoch to run next and the weights.
#[derive(Serialize, Deserialize)]
struct Training {
    epoch: u64,
    weights: Vec<f64>,
}

fn main() -> Result<(), checkpoint_core::Error> {
    let cli = Cli::parse("explicit EPOCHS [--delay-ms MS]", 40);
    let mut checkpoint = Checkpoint::builder("explicit-training")
        .key(&cli.n)
        .open()?;
    let mut training = checkpoint.restore::<Training>()?.unwrap_or(Training {
        epoch: 0,
        weights: vec![0.5; 64],
    });
    while training.epoch < cli.n {
        for (i, weight) in training.weights.iter_mut().enumerate() {
            let gradient = (*weight - (i as f64).sin()) * 0.1;
            *weight -= gradient;
        }
        training.epoch += 1;
        pause(cli.delay_ms);
        checkpoint.save(&training)?;
    }
    checkpoint.finish()?;
    let norm: f64 = training.weights.iter().map(|w| w * w).sum();
    println!("{:#018x}", norm.to_bits());
    Ok(())
}

//! Proves that a `#[state]` RNG (ChaCha8, with its serde feature) resumes
//! bit-identically: the Monte Carlo estimate of a run SIGKILLed several
//! times equals the uninterrupted run's, bit for bit.

mod common;

use std::thread;
use std::time::Duration;

use common::{Rng, Running, command, generations, run_ok, temp_dir};

#[test]
fn monte_carlo_is_bit_identical_after_kills() {
    let mut rng = Rng::seeded();
    let reference = run_ok(&mut command("monte_carlo", temp_dir().path(), &["120"]));
    let expected = reference.result().to_owned();
    assert!(expected.starts_with("0x"), "{}", reference.describe());

    let dir = temp_dir();
    let args = ["120", "--delay-ms", "15"];
    let mut history = format!("seed {}\n", rng.seed());
    let mut resumed_past_start = false;
    for attempt in 0..5 {
        let mut running = Running::spawn(&mut command("monte_carlo", dir.path(), &args));
        if attempt == 0 {
            running.wait_until("a first checkpoint", Duration::from_secs(30), || {
                !generations(dir.path()).is_empty()
            });
        }
        let after = rng.between(100, 400);
        thread::sleep(Duration::from_millis(after));
        let killed = running.kill();
        resumed_past_start |= killed.resumed_at().is_some_and(|at| at > 0);
        history.push_str(&format!(
            "run {attempt}: killed after {after} ms\n{}\n",
            killed.stderr
        ));
    }
    let last = run_ok(&mut command("monte_carlo", dir.path(), &args));
    resumed_past_start |= last.resumed_at().is_some_and(|at| at > 0);
    assert_eq!(last.result(), expected, "{history}{}", last.describe());
    assert!(
        resumed_past_start,
        "no run resumed past the start\n{history}"
    );
}

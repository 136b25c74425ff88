//! `checkpoint_core::verify` catches the wrong resumes that compile: what
//! the macro cannot see (interior mutability, an iterator whose order or
//! length depends on the process or the state), and passes correct code.

use std::cell::RefCell;
use std::collections::HashMap;

use checkpoint_core::{checkpointed, try_verify, verify};

/// Newton's method on a few starting points, with an RNG-free recurrence:
/// correct, and verified.
#[checkpointed]
fn newton_roots(points: u32) -> Vec<u64> {
    #[state]
    let mut roots = Vec::new();
    for start in 1..=points {
        let mut x = f64::from(start);
        for _ in 0..20 {
            x -= (x * x - 2.0) / (2.0 * x);
        }
        roots.push(x.to_bits());
    }
    roots
}

#[test]
fn a_correct_function_verifies() {
    let checked = verify(|| newton_roots(40));
    assert_eq!(checked.saves, 40);
    assert!(checked.resumes >= 5, "{checked}");
}

/// Square roots of numbers some of which are negative: a result with
/// NaNs in it, which is not `==` to itself.
#[checkpointed]
fn roots_with_nans(n: i32) -> Vec<f64> {
    #[state]
    let mut roots = Vec::new();
    for i in 0..n {
        roots.push(f64::from(i - n / 2).sqrt());
    }
    roots
}

#[test]
fn a_result_with_a_nan_verifies_and_a_wrong_one_with_a_nan_does_not() {
    let checked = verify(|| roots_with_nans(20));
    assert_eq!(checked.saves, 20);
    // Still caught: a result that differs beside its NaNs.
    let mut calls = 0;
    let divergence = try_verify(|| {
        calls += 1;
        let mut roots = roots_with_nans(20);
        roots[19] += f64::from(calls);
        roots
    })
    .expect_err("the results differ beside the NaNs");
    assert!(
        divergence.difference.contains("not deterministic"),
        "{divergence}"
    );
}

/// Appends to a log behind a shared reference.
fn record(log: &RefCell<Vec<u64>>, i: u64) {
    log.borrow_mut().push(i);
}

/// A log kept through a `RefCell` and changed in a helper: the binding is
/// not `mut` and the loop only lends it, so the macro cannot see that the
/// loop changes it (it sees `log.borrow_mut()` in the loop itself), and a
/// resume starts it empty.
#[checkpointed]
fn logged_sum(n: u64) -> (u64, usize) {
    let log = RefCell::new(Vec::new());
    #[state]
    let mut sum = 0;
    for i in 0..n {
        sum += i;
        record(&log, i);
    }
    (sum, log.into_inner().len())
}

#[test]
fn interior_mutability_is_caught() {
    let divergence = try_verify(|| logged_sum(30)).expect_err("a RefCell log restarts on resume");
    assert!(
        divergence.resumed_from.contains("logged_sum")
            && divergence.resumed_from.contains("for i in 0..n"),
        "{divergence}"
    );
    assert!(
        divergence.difference.contains("result differs"),
        "{divergence}"
    );
}

/// A save-point loop over a `HashMap` the macro cannot see the type of: its
/// order differs in every map, so a resume skips other keys than it did.
fn weights(n: u64) -> HashMap<u64, u64> {
    (0..n).map(|k| (k, k * k + 1)).collect()
}

#[checkpointed]
fn weighted(n: u64) -> Vec<u64> {
    let table = weights(n);
    #[state]
    let mut seen = Vec::new();
    for (key, weight) in &table {
        seen.push(key * 1000 + weight);
    }
    seen.sort_unstable();
    seen
}

#[test]
fn an_unordered_iterator_is_caught() {
    let divergence = try_verify(|| weighted(64)).expect_err("a HashMap's order differs per map");
    assert!(
        divergence.difference.contains("hash-ordered"),
        "{divergence}"
    );
}

/// The same through a type alias, with the map built outside the closure:
/// every run in the verifier sees the same map in the same order, yet a
/// real rerun would build it in another order; the loop's iterator type
/// gives it away.
type Table = HashMap<u64, u64>;

#[checkpointed(key = ())]
fn weighted_from(table: &Table) -> u64 {
    #[state]
    let mut mix = 0_u64;
    for (key, weight) in table {
        mix = mix.wrapping_mul(31).wrapping_add(key * 1000 + weight);
    }
    mix
}

#[test]
fn an_unordered_iterator_behind_an_alias_is_caught() {
    let table = weights(64);
    let divergence =
        try_verify(|| weighted_from(&table)).expect_err("a HashMap's order differs per process");
    assert!(
        divergence.difference.contains("hash-ordered")
            && divergence.difference.contains("for (key, weight) in table"),
        "{divergence}"
    );
}

/// A loop whose range is read from the state it grows: on resume the range
/// is longer, and skipping to the saved iteration lands elsewhere.
#[checkpointed]
fn doubling(n: usize) -> Vec<u64> {
    #[state]
    let mut items: Vec<u64> = (1..=n as u64).collect();
    for i in 0..items.len() {
        let next = items[i] * 2;
        items.push(next);
    }
    items
}

#[test]
fn an_iterator_of_another_length_on_resume_is_caught() {
    let divergence = try_verify(|| doubling(12)).expect_err("the range grows with the state");
    assert!(
        divergence.difference.contains("iterates over"),
        "{divergence}"
    );
}

/// Counts one more behind a shared reference.
fn count_one(counted: &std::cell::Cell<u64>) {
    counted.set(counted.get() + 1);
}

/// A function that never stops after a resume: its counter is a `Cell`,
/// changed in a helper, that restarts, and the loop runs until it reaches
/// the saved total.
#[checkpointed]
fn until_counted(n: u64) -> u64 {
    let counted = std::cell::Cell::new(0);
    #[state]
    let mut total = 0;
    loop {
        total += 1;
        count_one(&counted);
        if counted.get() == n {
            break;
        }
    }
    total
}

#[test]
fn a_resume_that_does_not_end_is_caught() {
    let divergence = try_verify(|| until_counted(20)).expect_err("the counter restarts");
    assert!(
        divergence.difference.contains("does not end"),
        "{divergence}"
    );
}

#[test]
#[should_panic(expected = "checkpoint::verify: resuming")]
fn verify_panics_with_the_divergence() {
    verify(|| logged_sum(10));
}

/// A state type whose `Serialize` skips a field its `Deserialize` expects:
/// a real resume could not read its own checkpoint back.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct Tally {
    count: u64,
    #[serde(skip_serializing, default)]
    last: u64,
}

#[checkpointed]
fn tally(n: u64) -> u64 {
    #[state]
    let mut tally = Tally::default();
    for i in 0..n {
        tally.count += i;
        tally.last = i;
    }
    tally.count + tally.last
}

#[test]
fn a_state_that_does_not_decode_is_caught() {
    let divergence = try_verify(|| tally(10)).expect_err("the state cannot be read back");
    assert!(
        divergence.difference.contains("does not decode"),
        "{divergence}"
    );
}

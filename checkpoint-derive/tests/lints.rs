//! The generated code is warning-free in a crate that denies warnings and
//! clippy's pedantic lints, whatever the shape of the function; each shape
//! also runs once and returns what the plain computation returns.

#![deny(warnings, clippy::all, clippy::pedantic)]

use std::path::PathBuf;
use std::sync::OnceLock;

use checkpoint_core::checkpointed;

/// One fresh directory for the whole test binary, set as `CHECKPOINT_DIR`
/// before any checkpointed function runs. Every function here has its own
/// name, so their checkpoints never meet.
fn checkpoint_dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "checkpoint-derive-lints-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_nanos())
        ));
        // SAFETY: runs once, inside `OnceLock::get_or_init`, before any test
        // reads the environment (each test calls this first), and no test
        // reads or writes other variables.
        unsafe {
            std::env::set_var("CHECKPOINT_DIR", &dir);
            std::env::set_var("CHECKPOINT_QUIET", "1");
        }
        dir
    })
}

#[checkpointed(every_iters = 3)]
fn factorial(n: u64) -> u128 {
    #[state]
    let mut product: u128 = 1;
    for i in 1..=u128::from(n) {
        product *= i;
    }
    product
}

#[test]
fn for_loop() {
    checkpoint_dir();
    assert_eq!(factorial(20), 2_432_902_008_176_640_000);
}

#[checkpointed(every_iters = 5)]
fn primes(n: usize) -> Vec<u64> {
    #[state]
    let mut found: Vec<u64> = vec![2];
    #[state]
    let mut candidate = 2;
    while found.len() < n {
        candidate += 1;
        if found
            .iter()
            .take_while(|&&p| p * p <= candidate)
            .all(|&p| candidate % p != 0)
        {
            found.push(candidate);
        }
    }
    found
}

#[test]
fn while_loop() {
    checkpoint_dir();
    assert_eq!(primes(10), [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
}

#[checkpointed(every_iters = 2)]
fn collatz_steps(start: u64) -> u32 {
    #[state]
    let mut value = start;
    #[state]
    let mut steps = 0;
    loop {
        if value == 1 {
            break;
        }
        value = if value % 2 == 0 {
            value / 2
        } else {
            3 * value + 1
        };
        steps += 1;
    }
    steps
}

#[test]
fn loop_with_break() {
    checkpoint_dir();
    assert_eq!(collatz_steps(27), 111);
}

/// The first `i` at which the running sum reaches `limit`: a `loop` left
/// only by `return`.
#[checkpointed(every_iters = 4)]
fn first_reaching(limit: u64) -> u64 {
    #[state]
    let mut sum = 0;
    #[state]
    let mut i = 0;
    loop {
        i += 1;
        sum += i;
        if sum >= limit {
            return i;
        }
    }
}

#[test]
fn loop_left_by_return() {
    checkpoint_dir();
    assert_eq!(first_reaching(5050), 100);
}

/// Sums `i * j` over `j < i`, skipping odd `j` with `continue`, skipping
/// the rest of a row with a labelled `continue`, and stopping with a
/// labelled `break`.
#[checkpointed(every_iters = 7)]
fn nested(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    'rows: for i in 0..n {
        for j in 0..i {
            if j % 2 == 1 {
                continue;
            }
            if j > 6 {
                continue 'rows;
            }
            if total > 10_000 {
                break 'rows;
            }
            total += i * j;
        }
    }
    total
}

fn nested_plain(n: u64) -> u64 {
    let mut total = 0;
    'rows: for i in 0..n {
        for j in 0..i {
            if j % 2 == 1 {
                continue;
            }
            if j > 6 {
                continue 'rows;
            }
            if total > 10_000 {
                break 'rows;
            }
            total += i * j;
        }
    }
    total
}

#[test]
fn nested_loops_with_labels() {
    checkpoint_dir();
    assert_eq!(nested(40), nested_plain(40));
    assert_eq!(nested(100), nested_plain(100));
}

/// Two phases: fill a table, then fold it; the second phase's state is
/// declared between them.
#[checkpointed(every_iters = 10)]
fn two_phases(n: usize) -> u64 {
    #[state]
    let mut squares: Vec<u64> = Vec::with_capacity(n);
    for i in 0..n as u64 {
        squares.push(i * i);
    }
    #[state]
    let mut checksum = 0_u64;
    for (i, square) in squares.iter().enumerate() {
        checksum = checksum.wrapping_mul(31).wrapping_add(*square ^ i as u64);
    }
    checksum
}

fn two_phases_plain(n: usize) -> u64 {
    (0..n as u64).fold(0_u64, |checksum, i| {
        checksum.wrapping_mul(31).wrapping_add((i * i) ^ i)
    })
}

#[test]
fn two_phases_with_state_between() {
    checkpoint_dir();
    assert_eq!(two_phases(100), two_phases_plain(100));
}

/// The index of the first `needle` in `haystack`, returned from inside the
/// loop; `None` (an unfinished run, kept) when there is none.
#[checkpointed(every_iters = 3, key = (haystack, needle))]
fn position_of(haystack: &[u32], needle: u32) -> Option<usize> {
    #[state]
    let mut seen = 0_usize;
    for &value in haystack {
        if value == needle {
            return Some(seen);
        }
        seen += 1;
    }
    None
}

#[test]
fn early_return() {
    checkpoint_dir();
    let haystack = [5, 8, 13, 21, 34, 55];
    assert_eq!(position_of(&haystack, 21), Some(3));
}

#[derive(Debug, PartialEq, Eq)]
struct Overflow(u64);

fn checked_square(x: u64) -> Result<u64, Overflow> {
    x.checked_mul(x).ok_or(Overflow(x))
}

/// The sum of squares, or the first number whose square overflows.
#[checkpointed(every_iters = 3)]
fn sum_of_squares(numbers: Vec<u64>) -> Result<u64, Overflow> {
    #[state]
    let mut sum = 0_u64;
    for x in numbers {
        sum = sum.checked_add(checked_square(x)?).ok_or(Overflow(x))?;
    }
    Ok(sum)
}

#[test]
fn result_with_question_mark() {
    checkpoint_dir();
    assert_eq!(sum_of_squares(vec![1, 2, 3, 4]), Ok(30));
    assert_eq!(
        sum_of_squares(vec![1, u64::MAX, 3]),
        Err(Overflow(u64::MAX))
    );
}

#[derive(serde::Serialize)]
struct Polynomial {
    coefficients: Vec<i64>,
    evaluations: u32,
}

impl Polynomial {
    /// Horner's rule.
    #[checkpointed(every_iters = 2)]
    fn eval(&self, x: i64) -> i64 {
        #[state]
        let mut acc = 0_i64;
        for c in self.coefficients.iter().rev() {
            acc = acc * x + c;
        }
        acc
    }

    /// Horner's rule, counting the evaluation.
    #[checkpointed(every_iters = 2)]
    fn eval_counted(&mut self, x: i64) -> i64 {
        #[state]
        let mut acc = 0_i64;
        for c in self.coefficients.iter().rev() {
            acc = acc * x + c;
        }
        self.evaluations += 1;
        acc
    }
}

/// Borrowed words: a type with a lifetime, a method that consumes `self`,
/// a method returning a borrow, an associated function, `#[inline]`.
#[derive(serde::Serialize)]
struct Words<'a> {
    words: Vec<&'a str>,
}

impl<'a> Words<'a> {
    /// An associated function (no receiver).
    #[checkpointed(every_iters = 2)]
    fn count_long(words: &[&str], min: usize) -> usize {
        #[state]
        let mut count = 0;
        for word in words {
            count += usize::from(word.len() >= min);
        }
        count
    }

    /// Consumes the words.
    #[inline]
    #[must_use]
    #[checkpointed(every_iters = 2)]
    fn total_len(self) -> usize {
        #[state]
        let mut total = 0;
        for word in &self.words {
            total += word.len();
        }
        total
    }

    /// The longest word starting with `prefix`: a borrow of `self`'s words.
    #[checkpointed(every_iters = 2, key = (prefix))]
    fn longest<'p>(&self, prefix: &'p str) -> Option<&'a str> {
        #[state]
        let mut best: Option<usize> = None;
        for (i, word) in self.words.iter().enumerate() {
            if word.starts_with(prefix) && best.is_none_or(|b| self.words[b].len() < word.len()) {
                best = Some(i);
            }
        }
        best.map(|i| self.words[i])
    }
}

#[test]
fn receivers_lifetimes_and_associated_functions() {
    checkpoint_dir();
    let text = String::from("a checkpoint keeps progress past crashes");
    let words = Words {
        words: text.split(' ').collect(),
    };
    assert_eq!(Words::count_long(&words.words, 6), 3);
    assert_eq!(words.longest("p"), Some("progress"));
    assert_eq!(words.longest("z"), None);
    assert_eq!(words.total_len(), 35);
}

#[test]
fn methods() {
    checkpoint_dir();
    let mut poly = Polynomial {
        coefficients: vec![1, -2, 3],
        evaluations: 0,
    };
    assert_eq!(poly.eval(2), 1 - 4 + 12);
    assert_eq!(poly.eval_counted(3), 1 - 6 + 27);
    assert_eq!(poly.evaluations, 1);
}

/// The sum of the items, widened: a generic function with a where-clause.
#[checkpointed(every_iters = 2)]
fn widened_sum<T>(items: &[T]) -> u64
where
    T: Copy + Into<u64> + serde::Serialize,
{
    #[state]
    let mut total = 0_u64;
    for item in items {
        total += (*item).into();
    }
    total
}

#[test]
fn generic_with_where_clause() {
    checkpoint_dir();
    assert_eq!(widened_sum(&[1_u8, 2, 3]), 6);
    assert_eq!(widened_sum(&[10_u32, 20]), 30);
}

/// How many of `0..n` satisfy `keep`: an `impl Trait` argument, which
/// cannot be part of the run's identity, so `key` names the one that is.
#[checkpointed(every_iters = 4, key = (n))]
fn count_where(n: u64, keep: impl Fn(u64) -> bool) -> u64 {
    #[state]
    let mut count = 0;
    for i in 0..n {
        if keep(i) {
            count += 1;
        }
    }
    count
}

#[test]
fn impl_trait_argument() {
    checkpoint_dir();
    assert_eq!(count_where(100, |i| i % 3 == 0), 34);
}

/// Fills `out` with the first `n` triangular numbers; returns nothing.
#[checkpointed(every_iters = 3, key = (n))]
fn triangular(n: u64, out: &mut Vec<u64>) {
    #[state]
    let mut running = 0;
    #[state]
    let mut numbers = Vec::new();
    for i in 1..=n {
        running += i;
        numbers.push(running);
    }
    out.extend(numbers);
}

#[test]
fn unit_return() {
    checkpoint_dir();
    let mut out = Vec::new();
    triangular(5, &mut out);
    assert_eq!(out, [1, 3, 6, 10, 15]);
}

/// Counts down with `continue` in a `while` loop, skipping multiples of 3.
#[checkpointed(every_iters = 3)]
fn countdown_skipping(from: u32) -> Vec<u32> {
    #[state]
    let mut left = from;
    #[state]
    let mut said = Vec::new();
    while left > 0 {
        left -= 1;
        if left % 3 == 0 {
            continue;
        }
        said.push(left);
    }
    said
}

#[test]
fn while_with_continue() {
    checkpoint_dir();
    assert_eq!(countdown_skipping(8), [7, 5, 4, 2, 1]);
}

/// The even numbers below `2 * n`: an `impl Trait` return type, and a
/// state local whose type is inferred from a later `push`.
#[checkpointed(every_iters = 2)]
fn evens(n: u64) -> impl Iterator<Item = u64> {
    #[state]
    let mut found = Vec::new();
    for i in 0..n {
        found.push(i * 2);
    }
    found.into_iter()
}

#[test]
fn impl_trait_return() {
    checkpoint_dir();
    assert_eq!(evens(3).collect::<Vec<_>>(), [0, 2, 4]);
}

/// The longest word: a return type with an elided lifetime.
#[checkpointed(every_iters = 2, key = ())]
fn longest(words: &[String]) -> &str {
    #[state]
    let mut best = 0_usize;
    for (i, word) in words.iter().enumerate() {
        if word.len() > words[best].len() {
            best = i;
        }
    }
    &words[best]
}

#[test]
fn elided_lifetime_return() {
    checkpoint_dir();
    let words = ["a".to_owned(), "abc".to_owned(), "ab".to_owned()];
    assert_eq!(longest(&words), "abc");
}

/// Row sums of an `n` by `n` table, in a `while` loop holding a save point,
/// with a #[state] local declared in its body.
#[checkpointed(every_iters = 3, name = "lints-table")]
fn table(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    #[state]
    let mut i = 0;
    while i < n {
        #[state]
        let mut row = 0;
        for j in 0..n {
            row += i * j;
        }
        total += row;
        i += 1;
    }
    total
}

#[test]
fn while_around_a_save_point() {
    checkpoint_dir();
    let plain: u64 = (0..5_u64).map(|i| (0..5).map(|j| i * j).sum::<u64>()).sum();
    assert_eq!(table(5), plain);
}

/// A tuple pattern and a `mut` argument; a #[state] local shadowing an
/// argument.
#[checkpointed(every_iters = 2)]
fn affine_sum((a, b): (u64, u64), mut n: u64) -> u64 {
    #[state]
    let mut total = 0;
    n += 1;
    #[state]
    let mut n = n;
    while n > 0 {
        n -= 1;
        total += a * n + b;
    }
    total
}

#[test]
fn argument_patterns() {
    checkpoint_dir();
    assert_eq!(affine_sum((1, 2), 2), 9);
}

/// A `loop` that breaks with a value inside a save point, taken out of
/// saving with `#[checkpoint(off)]` in expression position.
#[checkpointed(every_iters = 2)]
fn doubled_sum(n: u64) -> u64 {
    #[state]
    let mut total = 0;
    for i in 0..n {
        let doubled = #[checkpoint(off)]
        loop {
            if total < u64::MAX / 4 {
                break i * 2;
            }
        };
        total += doubled;
    }
    total
}

#[test]
fn loop_off_in_expression_position() {
    checkpoint_dir();
    assert_eq!(doubled_sum(4), 12);
}

/// Two #[state] locals of the same name, in sequential blocks. The first
/// is hidden at the second loop's save point, so what the second phase
/// needs of it is kept in a #[state] local of its own (a plain `let first`
/// would be recomputed from the unsaved first `acc` on resume: refused).
#[checkpointed(every_iters = 2)]
fn same_name_twice(n: u64) -> u64 {
    #[state]
    let mut acc = 0;
    for i in 0..n {
        acc += i;
    }
    #[state]
    let first = acc;
    {
        #[state]
        let mut acc = 0;
        for i in 0..n {
            acc += i * 2;
        }
        first + acc
    }
}

#[test]
fn state_locals_of_the_same_name() {
    checkpoint_dir();
    assert_eq!(same_name_twice(4), 18);
}

struct Series {
    terms: Vec<u64>,
}

impl Series {
    /// An associated function returning `Self`, with more attributes.
    #[checkpointed(every_iters = 2)]
    #[must_use]
    pub(crate) fn squares(n: u64) -> Self {
        #[state]
        let mut terms = Vec::new();
        for i in 0..n {
            terms.push(i * i);
        }
        Self { terms }
    }
}

#[test]
fn associated_function_returning_self() {
    checkpoint_dir();
    assert_eq!(Series::squares(4).terms, [0, 1, 4, 9]);
}

/// Sums `values` up to `stop`, keeping its checkpoint (`None`) when it
/// stops early. `key = ()`: only the type parameter tells the runs apart.
#[checkpointed(every_iters = 1, key = ())]
fn sum_until<T: Copy + Into<f64>>(values: &[T], stop: usize) -> Option<f64> {
    #[state]
    let mut sum = 0.0;
    for (i, value) in values.iter().enumerate() {
        if i == stop {
            return None;
        }
        sum += (*value).into();
    }
    Some(sum)
}

#[test]
fn each_instantiation_of_a_generic_function_is_its_own_run() {
    checkpoint_dir();
    // The f32 run stops after two items and keeps its checkpoint...
    assert_eq!(sum_until(&[1.0_f32, 2.0, 4.0], 2), None);
    // ...which the f64 run must not resume: it sums its own items.
    assert_eq!(sum_until(&[10.0_f64, 20.0, 40.0], usize::MAX), Some(70.0));
    // The f32 run resumes its own checkpoint (1 + 2 saved) and finishes.
    assert_eq!(sum_until(&[1.0_f32, 2.0, 4.0], usize::MAX), Some(7.0));
}

/// A receiver named in `key`: `Scaled { factor: 1 }` and
/// `Scaled { factor: 10 }` are different runs.
#[derive(serde::Serialize)]
struct Scaled {
    factor: u64,
}

impl Scaled {
    #[checkpointed(every_iters = 1, key = (self, n))]
    fn scaled_sum(&self, n: u64, stop: u64) -> Option<u64> {
        #[state]
        let mut sum = 0;
        for i in 0..n {
            if i == stop {
                return None;
            }
            sum += i * self.factor;
        }
        Some(sum)
    }

    /// `self` in `key` with a `&mut self` receiver.
    #[checkpointed(every_iters = 1, key = (self))]
    fn scale_up(&mut self, n: u64) -> u64 {
        #[state]
        let mut sum = 0;
        for i in 0..n {
            sum += i * self.factor;
        }
        self.factor *= 2;
        sum
    }

    /// `self` in `key` with a receiver taken by value.
    #[checkpointed(every_iters = 1, key = (self, n))]
    fn into_sum(self, n: u64) -> u64 {
        #[state]
        let mut sum = 0;
        for i in 0..n {
            sum += i * self.factor;
        }
        sum
    }
}

#[test]
fn receivers_named_in_the_key_are_runs_of_their_own() {
    checkpoint_dir();
    // factor 1 stops after two items (0 + 1 saved) and keeps its checkpoint...
    assert_eq!(Scaled { factor: 1 }.scaled_sum(3, 2), None);
    // ...which factor 10 must not resume: 0 + 10 + 20.
    assert_eq!(Scaled { factor: 10 }.scaled_sum(3, u64::MAX), Some(30));
    // factor 1 resumes its own checkpoint and finishes: 1 + 2.
    assert_eq!(Scaled { factor: 1 }.scaled_sum(3, u64::MAX), Some(3));
    let mut scaled = Scaled { factor: 3 };
    assert_eq!(scaled.scale_up(3), 9);
    assert_eq!(scaled.scale_up(3), 18);
    assert_eq!(scaled.into_sum(3), 36);
}

/// Two types of one module with a method of the same name.
struct Evens;
struct Odds;

impl Evens {
    #[checkpointed(every_iters = 1, key = (n))]
    fn partial_sum(&self, n: u64, stop: u64) -> Option<u64> {
        #[state]
        let mut sum = 0;
        for i in 0..n {
            if i == stop {
                return None;
            }
            sum += 2 * i;
        }
        Some(sum)
    }
}

impl Odds {
    #[checkpointed(every_iters = 1, key = (n))]
    fn partial_sum(&self, n: u64, stop: u64) -> Option<u64> {
        #[state]
        let mut sum = 0;
        for i in 0..n {
            if i == stop {
                return None;
            }
            sum += 2 * i + 1;
        }
        Some(sum)
    }
}

/// One generic type: each instantiation of its `impl<T>` is a run of its own.
struct Items<T>(Vec<T>);

impl<T: Copy + Into<f64>> Items<T> {
    #[checkpointed(every_iters = 1, key = ())]
    fn sum_until(&self, stop: usize) -> Option<f64> {
        #[state]
        let mut sum = 0.0;
        for (i, value) in self.0.iter().enumerate() {
            if i == stop {
                return None;
            }
            sum += (*value).into();
        }
        Some(sum)
    }
}

#[test]
fn same_named_methods_of_two_types_are_runs_of_their_own() {
    checkpoint_dir();
    // Evens stops after two items (0 + 2 saved) and keeps its checkpoint...
    assert_eq!(Evens.partial_sum(3, 2), None);
    // ...which Odds must not resume: 1 + 3 + 5.
    assert_eq!(Odds.partial_sum(3, u64::MAX), Some(9));
    // Evens resumes its own checkpoint and finishes: 2 + 4.
    assert_eq!(Evens.partial_sum(3, u64::MAX), Some(6));

    assert_eq!(Items(vec![1.0_f32, 2.0, 4.0]).sum_until(2), None);
    assert_eq!(
        Items(vec![10.0_f64, 20.0, 40.0]).sum_until(usize::MAX),
        Some(70.0)
    );
    assert_eq!(
        Items(vec![1.0_f32, 2.0, 4.0]).sum_until(usize::MAX),
        Some(7.0)
    );
}

/// Methods that return a borrow of `self`.
#[derive(serde::Serialize)]
struct Table {
    rows: Vec<u64>,
}

impl Table {
    /// The rows up to the first one over `limit`: a borrow of `self`.
    #[checkpointed(every_iters = 2)]
    fn rows_up_to(&self, limit: u64) -> &[u64] {
        #[state]
        let mut end = 0;
        for row in &self.rows {
            if *row > limit {
                break;
            }
            end += 1;
        }
        &self.rows[..end]
    }

    /// Appends the running sums of the rows, then lends them out mutably.
    #[checkpointed(every_iters = 2)]
    fn append_sums(&mut self) -> &mut Vec<u64> {
        #[state]
        let mut sums = Vec::new();
        #[state]
        let mut running = 0;
        for row in &self.rows {
            running += row;
            sums.push(running);
        }
        self.rows.extend(sums);
        &mut self.rows
    }
}

#[test]
fn borrowed_returns() {
    checkpoint_dir();
    let mut table = Table {
        rows: vec![1, 2, 9, 3],
    };
    assert_eq!(table.rows_up_to(5), &[1, 2]);
    assert_eq!(table.append_sums().len(), 8);
}

/// `continue` and an unlabelled `break` in the same save-point loop.
#[checkpointed(every_iters = 2)]
fn evens_until(n: u64, limit: u64) -> u64 {
    #[state]
    let mut sum = 0;
    for i in 0..n {
        if i % 2 != 0 {
            continue;
        }
        sum += i;
        if sum > limit {
            break;
        }
    }
    #[state]
    let mut k = 0;
    while k < n {
        k += 1;
        if k % 3 == 0 {
            continue;
        }
        if k > 20 {
            break;
        }
        sum += 1;
    }
    sum
}

#[test]
fn continue_and_break_in_one_loop() {
    checkpoint_dir();
    // 0 + 2 + ... + 40 = 420 > 400 stops the first loop; the second adds
    // one for each k in 1..=20 not a multiple of 3: 14.
    assert_eq!(evens_until(100, 400), 420 + 14);
}

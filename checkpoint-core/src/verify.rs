//! The resume verifier: runs a checkpointed function uninterrupted, then
//! resumes it in the same process from a spread of its save points, and
//! reports the first place where a resumed run differs.
//!
//! Nothing touches the disk or the signals: during a verification every
//! iteration end of a save-point loop is a save, kept in memory, and a
//! "resume" starts the function again with the state and loop positions of
//! one of them, exactly as a rerun after `kill -9` would load them.

use std::cell::RefCell;
use std::fmt::{self, Debug};
use std::panic::{self, AssertUnwindSafe};

use serde::Serialize;

use crate::bytes::format::LoopPosition;
use crate::bytes::format::describe_position;

/// What [`verify`] checked: how many saves the uninterrupted run made and
/// from how many of them it resumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    /// Saves (iteration ends of save-point loops) in one uninterrupted run.
    pub saves: usize,
    /// Resumes tried, each from one of those saves.
    pub resumes: usize,
}

impl fmt::Display for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} resumes from {} saves returned the uninterrupted result",
            self.resumes, self.saves
        )
    }
}

/// Where a resumed run first differs from the uninterrupted one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Divergence {
    /// The save the run resumed from: the function, the loop and the
    /// iteration, or "two uninterrupted runs" when the function is not
    /// deterministic to begin with.
    pub resumed_from: String,
    /// What differs: a `#[state]` local at a save, the loop position of the
    /// next save, the result, or a run that does not end.
    pub difference: String,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.resumed_from.is_empty() {
            return f.write_str(&self.difference);
        }
        write!(f, "{}: {}", self.resumed_from, self.difference)
    }
}

impl std::error::Error for Divergence {}

/// Checks that `f` returns the same result however it is interrupted.
///
/// `f` calls a `#[checkpointed]` function (once or more). `verify` runs it
/// uninterrupted, runs it again to check that it is deterministic, then,
/// for a spread of the save points of every save-point loop, resumes it
/// from that save and compares every later save and the result with the
/// uninterrupted run. Put it in a test with a small input; it panics with
/// the first divergence, naming the save it resumed from and the
/// `#[state]` local that first differs.
///
/// ```
/// use checkpoint_core::{checkpointed, verify};
///
/// #[checkpointed]
/// fn collatz_steps(limit: u64) -> u64 {
///     #[state]
///     let mut longest = 0;
///     for start in 1..limit {
///         let (mut n, mut steps) = (start, 0);
///         while n != 1 {
///             n = if n % 2 == 0 { n / 2 } else { 3 * n + 1 };
///             steps += 1;
///         }
///         longest = longest.max(steps);
///     }
///     longest
/// }
///
/// let checked = verify(|| collatz_steps(200));
/// assert_eq!(checked.saves, 199);
/// ```
///
/// # Panics
/// When a resumed run differs from the uninterrupted one, with the
/// [`Divergence`] as the message; and when `f` itself panics.
#[track_caller]
pub fn verify<T: PartialEq + Debug>(f: impl FnMut() -> T) -> Verified {
    match try_verify(f) {
        Ok(verified) => verified,
        Err(divergence) => panic!("checkpoint::verify: {divergence}"),
    }
}

/// Like [`verify`], returning the divergence instead of panicking.
///
/// ```
/// use checkpoint_core::{checkpointed, try_verify};
///
/// #[checkpointed]
/// fn total(n: u64) -> u64 {
///     #[state]
///     let mut sum = 0;
///     for i in 0..n {
///         sum += i;
///     }
///     sum
/// }
///
/// assert!(try_verify(|| total(50)).is_ok());
/// ```
///
/// # Errors
/// The first [`Divergence`] found.
pub fn try_verify<T: PartialEq + Debug>(mut f: impl FnMut() -> T) -> Result<Verified, Divergence> {
    let (reference, expected) = run_session(&mut f, Mode::Record, Vec::new())?;
    let (again, result) = run_session(&mut f, Mode::Record, Vec::new())?;
    let uninterrupted = || "two uninterrupted runs".to_owned();
    if let Some(difference) = first_difference(&reference, &again, 0) {
        return Err(Divergence {
            resumed_from: uninterrupted(),
            difference: format!(
                "{difference}: the function does not compute the same thing twice (a `HashMap`'s order, the clock, threads?), so no resume can be checked"
            ),
        });
    }
    if !same_result(&result, &expected) {
        return Err(Divergence {
            resumed_from: uninterrupted(),
            difference: format!(
                "the results differ ({} and {}): the function is not deterministic",
                short_debug(&expected),
                short_debug(&result)
            ),
        });
    }
    let starts = spread(&reference);
    for &from in &starts {
        let save = &reference[from];
        let resumed_from = format!(
            "resuming {} from save {} of {} (loop {}, {})",
            save.function,
            from + 1,
            reference.len(),
            save.loop_title(),
            describe_position(&save.position)
        );
        let mode = Mode::Resume { from };
        let outcome = run_session(&mut f, mode, reference.clone());
        let (_, result) = outcome.map_err(|mut divergence| {
            divergence.resumed_from.clone_from(&resumed_from);
            divergence
        })?;
        if !same_result(&result, &expected) {
            return Err(Divergence {
                resumed_from,
                difference: format!(
                    "the result differs: the uninterrupted run returned {}, the resumed one {}",
                    short_debug(&expected),
                    short_debug(&result)
                ),
            });
        }
    }
    Ok(Verified {
        saves: reference.len(),
        resumes: starts.len(),
    })
}

/// Whether two results are the same. A result that is not equal to
/// itself (a NaN in it: `NaN != NaN`) cannot be compared with `==`; two
/// such results are the same when they print the same (`{:?}` prints every
/// float exactly, all NaNs as `NaN`). The `#[state]` locals at every save
/// are compared by their bytes, NaNs included.
fn same_result<T: PartialEq + Debug>(a: &T, b: &T) -> bool {
    #[allow(clippy::eq_op)] // `b != b` is the point: a NaN in it.
    let reflexive = b == b;
    a == b || (!reflexive && format!("{a:?}") == format!("{b:?}"))
}

/// The saves to resume from: for each save-point loop of each run, the
/// first two, the last, and a few evenly between.
fn spread(saves: &[Save]) -> Vec<usize> {
    let mut groups: Vec<((usize, u32), Vec<usize>)> = Vec::new();
    for (index, save) in saves.iter().enumerate() {
        let loop_id = save.position.last().map_or(0, |at| at.loop_id);
        let group = (save.run, loop_id);
        match groups.iter_mut().find(|(key, _)| *key == group) {
            Some((_, members)) => members.push(index),
            None => groups.push((group, vec![index])),
        }
    }
    let mut starts = Vec::new();
    for (_, members) in groups {
        let last = members.len() - 1;
        let mut picks = vec![0, 1.min(last), last];
        picks.extend((1..4).map(|quarter| last * quarter / 4));
        for pick in picks {
            starts.push(members[pick]);
        }
    }
    starts.sort_unstable();
    starts.dedup();
    starts
}

fn short_debug<T: Debug>(value: &T) -> String {
    let text = format!("{value:?}");
    if text.chars().count() > 200 {
        text.chars().take(197).collect::<String>() + "..."
    } else {
        text
    }
}

/// One save, as the verifier keeps it.
#[derive(Clone)]
pub(crate) struct Save {
    run: usize,
    function: &'static str,
    titles: &'static [&'static str],
    position: Vec<LoopPosition>,
    /// The whole state, as a resume decodes it.
    state: Vec<u8>,
    /// Each `#[state]` local's bytes, to name the one that differs.
    fields: Vec<(&'static str, Vec<u8>)>,
}

impl Save {
    fn loop_title(&self) -> String {
        let id = self.position.last().map_or(0, |at| at.loop_id) as usize;
        match self.titles.get(id) {
            Some(title) => format!("`{title}`"),
            None => format!("#{id}"),
        }
    }
}

/// The first way `actual` differs from `expected[offset..]`.
fn first_difference(expected: &[Save], actual: &[Save], offset: usize) -> Option<String> {
    for (index, save) in actual.iter().enumerate() {
        let Some(reference) = expected.get(offset + index) else {
            return Some(format!(
                "it saved more often than the uninterrupted run ({} saves), at {}",
                expected.len(),
                describe_position(&save.position)
            ));
        };
        if let Some(difference) = compare(reference, save) {
            return Some(difference);
        }
    }
    None
}

fn compare(reference: &Save, save: &Save) -> Option<String> {
    if reference.position != save.position || reference.run != save.run {
        return Some(format!(
            "the next save is at {} of loop {}, where the uninterrupted run saved at {} of loop {}",
            describe_position(&save.position),
            save.loop_title(),
            describe_position(&reference.position),
            reference.loop_title()
        ));
    }
    for ((name, expected), (_, actual)) in reference.fields.iter().zip(&save.fields) {
        if expected != actual {
            return Some(format!(
                "the #[state] local `{name}` differs at the save at {} of loop {}",
                describe_position(&save.position),
                save.loop_title()
            ));
        }
    }
    (reference.state != save.state).then(|| {
        format!(
            "the state differs at the save at {} of loop {}",
            describe_position(&save.position),
            save.loop_title()
        )
    })
}

#[derive(Clone, Copy)]
enum Mode {
    Record,
    /// Resume the run of `reference[from]` from that save.
    Resume {
        from: usize,
    },
}

struct Session {
    mode: Mode,
    reference: Vec<Save>,
    saves: Vec<Save>,
    /// Top-level checkpointed calls started so far.
    runs: usize,
    /// Checkpointed calls in progress (a call inside one is nested).
    depth: usize,
    /// The resume was handed to its run.
    resumed: bool,
    /// The index in `reference` of the next save a resumed run must match.
    next: usize,
    divergence: Option<String>,
}

thread_local! {
    static SESSION: RefCell<Option<Session>> = const { RefCell::new(None) };
}

/// The payload that unwinds a resumed run that went wrong.
struct Stop;

fn run_session<T>(
    f: &mut impl FnMut() -> T,
    mode: Mode,
    reference: Vec<Save>,
) -> Result<(Vec<Save>, T), Divergence> {
    SESSION.with(|session| {
        let mut session = session.borrow_mut();
        assert!(
            session.is_none(),
            "checkpoint::verify cannot run inside another verify on the same thread"
        );
        *session = Some(Session {
            mode,
            reference,
            saves: Vec::new(),
            runs: 0,
            depth: 0,
            resumed: false,
            next: 0,
            divergence: None,
        });
    });
    let outcome = panic::catch_unwind(AssertUnwindSafe(&mut *f));
    let session = SESSION
        .with(|session| session.borrow_mut().take())
        .expect("the session is set for the whole call");
    let divergence = |difference: String| Divergence {
        resumed_from: String::new(),
        difference,
    };
    match outcome {
        Ok(result) => {
            if let Some(difference) = session.divergence {
                return Err(divergence(difference));
            }
            if let Mode::Resume { from } = mode {
                if !session.resumed {
                    return Err(divergence(
                        "the resumed run never reached the checkpointed function's save point"
                            .to_owned(),
                    ));
                }
                if session.next < session.reference.len() {
                    return Err(divergence(format!(
                        "the resumed run returned after {} saves, where the uninterrupted run made {} more after save {}",
                        session.next - from - 1,
                        session.reference.len() - from - 1,
                        from + 1
                    )));
                }
            }
            Ok((session.saves, result))
        }
        Err(payload) if payload.is::<Stop>() => Err(divergence(
            session
                .divergence
                .unwrap_or_else(|| "the resumed run stopped".to_owned()),
        )),
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// How a checkpointed call takes part in a verification.
pub(crate) enum Role {
    /// Record (and, when resuming, compare) the saves of run `run`.
    Observed { run: usize },
    /// Like `Observed`, starting from this saved state and position.
    Resumed {
        run: usize,
        state: Vec<u8>,
        position: Vec<LoopPosition>,
    },
    /// A checkpointed call inside another: it runs plainly.
    Nested,
}

/// Called when a checkpointed function starts: `None` outside a verification.
pub(crate) fn start_run() -> Option<Role> {
    SESSION.with(|session| {
        let mut guard = session.borrow_mut();
        let session = guard.as_mut()?;
        session.depth += 1;
        if session.depth > 1 {
            return Some(Role::Nested);
        }
        let run = session.runs;
        session.runs += 1;
        if let Mode::Resume { from } = session.mode
            && session.reference[from].run == run
        {
            let save = &session.reference[from];
            session.resumed = true;
            session.next = from + 1;
            return Some(Role::Resumed {
                run,
                state: save.state.clone(),
                position: save.position.clone(),
            });
        }
        Some(Role::Observed { run })
    })
}

/// Called when a checkpointed function returns.
pub(crate) fn end_run() {
    SESSION.with(|session| {
        if let Some(session) = session.borrow_mut().as_mut() {
            session.depth = session.depth.saturating_sub(1);
        }
    });
}

/// A save of run `run`: kept, and compared with the uninterrupted run when
/// resuming. A difference unwinds the resumed run.
pub(crate) fn save<V: Serialize + ?Sized>(
    run: usize,
    function: &'static str,
    titles: &'static [&'static str],
    position: &[LoopPosition],
    state: &V,
) {
    let encoded = crate::bytes::canonical::to_canonical_bytes(state);
    let fields = crate::bytes::canonical::struct_fields(state);
    let difference = SESSION.with(|session| {
        let mut guard = session.borrow_mut();
        let session = guard.as_mut()?;
        let (state, fields) = match (encoded, fields) {
            (Ok(state), Ok(fields)) => (state, fields),
            (Err(err), _) => return Some(format!("the state could not be encoded: {err}")),
            (_, Err(err)) => return Some(format!("the state could not be encoded: {err}")),
        };
        let save = Save {
            run,
            function,
            titles,
            position: position.to_vec(),
            state,
            fields,
        };
        let difference = match session.mode {
            Mode::Record => None,
            Mode::Resume { .. } => {
                let index = session.next;
                session.next += 1;
                match session.reference.get(index) {
                    None => Some(format!(
                        "the resumed run does not end: it went on past the uninterrupted run's last save (save {}) to {} of loop {}",
                        session.reference.len(),
                        describe_position(&save.position),
                        save.loop_title()
                    )),
                    Some(reference) => compare(reference, &save),
                }
            }
        };
        session.saves.push(save);
        if difference.is_some() {
            session.divergence.clone_from(&difference);
        }
        difference
    });
    if difference.is_some() {
        panic::resume_unwind(Box::new(Stop));
    }
}

/// A resume went wrong in a way the runtime sees itself (a loop's iterator
/// of another length, a state that does not decode): inside a verification
/// that is a divergence and the run stops here; outside, `None` lets the
/// caller report it.
pub(crate) fn diverge(message: &str) -> Option<()> {
    let inside = SESSION.with(|session| {
        let mut guard = session.borrow_mut();
        let session = guard.as_mut()?;
        session.divergence = Some(message.to_owned());
        Some(())
    });
    if inside.is_some() {
        panic::resume_unwind(Box::new(Stop));
    }
    None
}

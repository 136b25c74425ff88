//! The `#[checkpointed]` attribute. Use it through `checkpoint-core`, which
//! re-exports it and provides the runtime the generated code calls.
//!
//! Four stages, one module each: `args` parses the attribute's options,
//! `model` finds the `#[state]` locals and the save-point loops, `valid`
//! decides for every value that crosses a save point whether it is saved,
//! recomputed or refused (with `changes`, which finds what code may
//! change, and `globals`, which finds what a loop changes that no local
//! holds: statics, a thread's random generator), and `expand` writes the checkpointing function.

#![deny(missing_docs)]

mod args;
mod changes;
mod expand;
mod globals;
mod model;
mod valid;

use proc_macro::TokenStream;

/// Makes a function resume from its last checkpoint after an interruption.
///
/// Mark the locals that make up the function's progress `#[state]`. The
/// outermost loop that changes one is a *save point*: at the end of an
/// iteration, when a save is due, the `#[state]` locals and the position of
/// every enclosing save-point loop are written atomically. Run the program again after a crash,
/// `kill -9` or a preemption signal and the function resumes with the next
/// iteration and returns exactly what an uninterrupted run returns. A
/// normal return removes the checkpoint; returning `Err` or `None` keeps it.
///
/// ```
/// use checkpoint_core::checkpointed;
///
/// #[checkpointed(every_iters = 100)]
/// fn sum_of_squares(n: u64) -> u64 {
///     #[state]
///     let mut total = 0;
///     for i in 0..n {
///         total += i * i;
///     }
///     total
/// }
/// # let dir = std::env::temp_dir().join(format!("ckpt-doc-attr-{}", std::process::id()));
/// # unsafe { std::env::set_var("CHECKPOINT_DIR", &dir) };
/// # unsafe { std::env::set_var("CHECKPOINT_QUIET", "1") };
/// assert_eq!(sum_of_squares(1000), 332_833_500);
/// # std::fs::remove_dir_all(&dir).ok();
/// ```
///
/// Options (all optional, combinable): `every = "30s"` or
/// `every = "auto", mtbf = "24h"`, `every_iters = N`, `signals = ["SIGTERM"]`,
/// `grace = "25s"`, `background = false`, `keep = N`, `expire = "7d"`,
/// `keep_on_success = true`, `dir = "path"`, `name = "..."`,
/// `key = (a, b)`, `zstd_level = N`, `compress = false`,
/// `on_code_change = "resume" | "restart" | "error"`, `strict = true`, and
/// `comm = world` (checkpoint-core's `mpi` feature): every rank of the
/// MPI communicator argument `world` runs the function, and they save at
/// the same iteration and commit each save together. On a
/// loop, `#[checkpoint(save)]` makes an inner loop a save point too and
/// `#[checkpoint(off)]` takes a loop out of saving; on a `let mut`,
/// `#[transient]` lets a scratch buffer that every iteration refills stay
/// unsaved.
///
/// Misuse is a compile error spanned on the code at fault, never a wrong
/// resume: a value that crosses a save point without being saved (a
/// `let mut`, a `mut` or `&mut` parameter or `&mut self` changed in the
/// loop; a local computed before the loop from state the loop changes), a
/// `#[state]` local changed before the loop that saves it, a save-point
/// loop over a `HashMap`, an input that cannot key the run, an `async fn`,
/// a `#[state]` pattern, an unknown option, a bad duration. What syntax
/// cannot see, `checkpoint_core::verify` checks in a test.
/// The README of the repository documents the semantics in full.
#[proc_macro_attribute]
pub fn checkpointed(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::checkpointed(args.into(), input.into()).into()
}

//! The `#[checkpointed]` attribute. Use it through `checkpoint-core`, which
//! re-exports it and provides the runtime the generated code calls.
//!
//! Three stages, one module each: `args` parses the attribute's options,
//! `model` finds the `#[state]` locals and the save-point loops, `expand`
//! writes the checkpointing function.

#![deny(missing_docs)]

mod args;
mod expand;
mod model;

use proc_macro::TokenStream;

/// Makes a function resume from its last checkpoint after an interruption.
///
/// Mark the locals that make up the function's progress `#[state]`. A loop
/// that uses one is a *save point*: at the end of an iteration, when a
/// save is due, the `#[state]` locals and the position of every enclosing
/// loop are written atomically. Run the program again after a crash,
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
/// `on_code_change = "resume" | "restart" | "error"`, `strict = true`. On a
/// loop, `#[checkpoint(off)]` takes it out of saving; on a `let mut`,
/// `#[transient]` allows a loop to change it without saving it.
///
/// Misuse is a compile error spanned on the code at fault, never a wrong
/// resume: an `async fn`, a `#[state]` pattern or one without an
/// initializer, `#[state]` in a closure, a `let mut` changed by a save
/// point without being `#[state]`, an unknown option, a bad duration.
/// The README of the repository documents the semantics in full.
#[proc_macro_attribute]
pub fn checkpointed(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::checkpointed(args.into(), input.into()).into()
}

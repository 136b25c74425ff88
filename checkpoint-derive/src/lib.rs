//! The `#[checkpointed]` attribute. Use it through `checkpoint-core`, which
//! re-exports it and provides the runtime the generated code calls.
//!
//! Three stages, one module each: [`args`] parses the attribute's options,
//! [`model`] finds the `#[state]` locals and the save-point loops,
//! [`expand`] writes the checkpointing function.

mod args;
mod expand;
mod model;

use proc_macro::TokenStream;

/// Makes a function resume from its last checkpoint after an interruption.
///
/// See the `checkpoint-core` crate for the full documentation.
#[proc_macro_attribute]
pub fn checkpointed(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::checkpointed(args.into(), input.into()).into()
}

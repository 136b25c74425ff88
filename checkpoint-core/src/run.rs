//! The run: when a save is due ([`policy`], on the coarse [`clock`]), the
//! thread that writes it ([`writer`]), what a signal does ([`signals`]),
//! the watchdog over long iterations ([`watchdog`]), the progress bar
//! ([`progress`]). Imports from storage, bytes and the bottom, never from
//! the public API above it.

pub(crate) mod clock;
pub(crate) mod last_words;
pub(crate) mod policy;
pub(crate) mod progress;
pub(crate) mod signals;
pub(crate) mod watchdog;
pub(crate) mod writer;

//! What the library tells the user: one line per message on stderr (never
//! stdout, which belongs to the program), mirrored as `tracing` events.
//! `CHECKPOINT_QUIET=1` silences the stderr lines; the events remain.

use std::fmt::Arguments;
use std::io::Write;
use std::sync::OnceLock;

/// Whether `CHECKPOINT_QUIET` asks for silence on stderr.
pub(crate) fn quiet() -> bool {
    static QUIET: OnceLock<bool> = OnceLock::new();
    *QUIET.get_or_init(|| crate::options::env_flag("CHECKPOINT_QUIET"))
}

fn line(level: &str, message: Arguments<'_>) {
    if quiet() {
        return;
    }
    // One write call per line so that lines from several threads never interleave.
    let text = if level.is_empty() {
        format!("checkpoint: {message}\n")
    } else {
        format!("checkpoint: {level}: {message}\n")
    };
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// An informational line: resumed, saved, finished.
pub(crate) fn info(message: Arguments<'_>) {
    tracing::info!(target: "checkpoint", "{message}");
    line("", message);
}

/// Something went wrong but the computation goes on.
pub(crate) fn warn(message: Arguments<'_>) {
    tracing::warn!(target: "checkpoint", "{message}");
    line("warning", message);
}

/// The run cannot go on.
pub(crate) fn error(message: Arguments<'_>) {
    tracing::error!(target: "checkpoint", "{message}");
    line("error", message);
}

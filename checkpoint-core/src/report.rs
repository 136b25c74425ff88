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
    // One write call per line so that lines from several threads never interleave.
    let text = if level.is_empty() {
        format!("checkpoint: {message}\n")
    } else {
        format!("checkpoint: {level}: {message}\n")
    };
    #[cfg(test)]
    if capture::record(&text) {
        return;
    }
    if quiet() {
        return;
    }
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

/// Unit tests read what the library would have printed.
#[cfg(test)]
pub(crate) mod capture {
    use std::cell::RefCell;

    thread_local! {
        static LINES: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
    }

    /// Runs `f`, and returns what it returned and the lines it printed on
    /// this thread (instead of printing them).
    pub(crate) fn lines<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
        let outer = LINES.with(|lines| lines.borrow_mut().replace(Vec::new()));
        let result = f();
        let captured = LINES.with(|lines| std::mem::replace(&mut *lines.borrow_mut(), outer));
        (result, captured.unwrap_or_default())
    }

    /// Keeps `text` if a capture is on; says whether it did.
    pub(super) fn record(text: &str) -> bool {
        LINES.with(|lines| match lines.borrow_mut().as_mut() {
            Some(lines) => {
                lines.push(text.trim_end().to_owned());
                true
            }
            None => false,
        })
    }
}

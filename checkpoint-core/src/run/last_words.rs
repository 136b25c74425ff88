//! The line a second Ctrl-C prints. A signal handler may not allocate or
//! lock, so the line is prepared here, outside it, and the handler only
//! copies it out and `write`s it.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering, fence};
use std::sync::{Mutex, PoisonError};

/// What a second Ctrl-C prints: stopped without saving, and which
/// checkpoint a rerun resumes from. A signal handler may not allocate or
/// lock, so the line is written here, outside it, whenever that checkpoint
/// changes (a restore, a durable save, a run that starts without one), and
/// the handler only copies it out and `write`s it.
///
/// The bytes are a sequence lock: a writer makes `sequence` odd, stores
/// the bytes and makes it even again; the handler copies them and keeps
/// the copy only if `sequence` was even and unchanged around it. A handler
/// that interrupts a writer on its own thread (the sequence stays odd)
/// prints a shorter line that names no file.
pub(crate) struct LastWords {
    sequence: AtomicU64,
    len: AtomicUsize,
    bytes: [AtomicU8; LAST_WORDS_MAX],
    writing: Mutex<()>,
}

const LAST_WORDS_MAX: usize = 1024;

pub(crate) static LAST_WORDS: LastWords = LastWords {
    sequence: AtomicU64::new(0),
    len: AtomicUsize::new(0),
    bytes: [const { AtomicU8::new(0) }; LAST_WORDS_MAX],
    writing: Mutex::new(()),
};

/// Printed when the prepared line is being rewritten at that instant.
const LAST_WORDS_FALLBACK: &[u8] = b"\ncheckpoint: second Ctrl-C: stopped at once without saving; a rerun resumes from the last good checkpoint\n";

impl LastWords {
    /// A rerun resumes from `path`, the checkpoint of `header`.
    pub(crate) fn resumes_from(
        &self,
        path: &std::path::Path,
        header: &crate::bytes::format::Header,
    ) {
        if crate::report::quiet() {
            return;
        }
        self.set(format_args!(
            "checkpoint: second Ctrl-C: stopped at once without saving; a rerun resumes from {} ({})",
            path.display(),
            crate::bytes::format::describe_save(header)
        ));
    }

    /// `label` has no checkpoint yet.
    pub(crate) fn starts_over(&self, label: &str) {
        self.set(format_args!(
            "checkpoint: second Ctrl-C: stopped at once without saving; {label} has no checkpoint yet, so a rerun starts it from the beginning"
        ));
    }

    fn set(&self, line: std::fmt::Arguments<'_>) {
        if crate::report::quiet() {
            return;
        }
        // On a terminal the `^C` echo (or a progress bar) holds the line.
        // Asked once: it is a system call, and this runs at every save.
        static TERMINAL: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        let lead = if *TERMINAL.get_or_init(|| std::io::stderr().is_terminal()) {
            "\n"
        } else {
            ""
        };
        let text = format!("{lead}{line}\n");
        let bytes = &text.as_bytes()[..text.len().min(LAST_WORDS_MAX)];
        let _writer = self.writing.lock().unwrap_or_else(PoisonError::into_inner);
        self.sequence.fetch_add(1, Ordering::SeqCst);
        for (slot, &byte) in self.bytes.iter().zip(bytes) {
            slot.store(byte, Ordering::Relaxed);
        }
        self.len.store(bytes.len(), Ordering::Relaxed);
        self.sequence.fetch_add(1, Ordering::SeqCst);
    }

    /// Writes the line to stderr. Async-signal-safe: atomics, a stack
    /// buffer and `write(2)`.
    pub(crate) fn write_to_stderr(&self) {
        let mut copy = [0u8; LAST_WORDS_MAX];
        for _ in 0..3 {
            let before = self.sequence.load(Ordering::Acquire);
            if before % 2 == 1 {
                continue;
            }
            let len = self.len.load(Ordering::Relaxed).min(LAST_WORDS_MAX);
            for (byte, slot) in copy.iter_mut().zip(&self.bytes).take(len) {
                *byte = slot.load(Ordering::Relaxed);
            }
            fence(Ordering::Acquire);
            if self.sequence.load(Ordering::Relaxed) == before {
                write_stderr(&copy[..len]);
                return;
            }
        }
        // Only a line being set gets here, and with `CHECKPOINT_QUIET` none is.
        write_stderr(LAST_WORDS_FALLBACK);
    }
}

/// `write(2)` to stderr, retried on a short write; async-signal-safe.
fn write_stderr(mut bytes: &[u8]) {
    while !bytes.is_empty() {
        // SAFETY: writes initialized bytes from a live slice to fd 2.
        let written = unsafe { libc::write(2, bytes.as_ptr().cast(), bytes.len()) };
        match usize::try_from(written) {
            Ok(n) if n > 0 => bytes = &bytes[n.min(bytes.len())..],
            _ => return,
        }
    }
}

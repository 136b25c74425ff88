//! A progress bar on stderr for a checkpointed loop, when stderr is a
//! terminal: position, rate, ETA, and where the run resumed. It is updated
//! from the slow path a few times a second, never per iteration.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::bytes::format::LoopPosition;

/// How often the slow path refreshes the bar.
pub(crate) const REFRESH: Duration = Duration::from_millis(200);

/// The bar of one run: it follows the outermost save-point loop.
pub(crate) struct Progress {
    bar: ProgressBar,
    loop_id: Option<u32>,
    resumed: Option<String>,
    saves: u64,
}

impl Progress {
    /// A bar for `label`, if stderr is a terminal and the user did not ask
    /// for quiet. `resumed_at` is where a restored run starts.
    pub(crate) fn on_terminal(
        label: &str,
        resumed_at: Option<&[LoopPosition]>,
    ) -> Option<Progress> {
        if crate::report::quiet() || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(5));
        bar.set_style(style("{prefix} {spinner} {msg}"));
        bar.set_prefix(label.to_owned());
        let resumed = resumed_at
            .and_then(<[LoopPosition]>::first)
            .map(|at| match at.len {
                Some(len) => format!("resumed at {}/{len}", at.index),
                None => format!("resumed at {}", at.index),
            });
        let mut progress = Progress {
            bar,
            loop_id: None,
            resumed,
            saves: 0,
        };
        if let Some(position) = resumed_at {
            progress.update(position);
        }
        Some(progress)
    }

    /// Shows `position` (the outermost loop's).
    pub(crate) fn update(&mut self, position: &[LoopPosition]) {
        let Some(outer) = position.first() else {
            return;
        };
        if self.loop_id != Some(outer.loop_id) {
            // A new loop (a new phase): a new bar.
            self.loop_id = Some(outer.loop_id);
            let template = match outer.len {
                Some(_) => "{prefix} [{bar:30}] {pos}/{len} {rate} ETA {eta} {msg}",
                None => "{prefix} {spinner} {pos} iterations {rate} {msg}",
            };
            self.bar.set_style(style(template));
            self.bar.set_length(outer.len.unwrap_or(0));
            if outer.len.is_none() {
                self.bar.unset_length();
            }
            self.bar.set_position(outer.index);
            self.bar.reset_eta();
            self.show_message();
            return;
        }
        self.bar.set_position(outer.index);
    }

    /// Counts a save in the bar's message.
    pub(crate) fn saved(&mut self) {
        self.saves += 1;
        self.show_message();
    }

    fn show_message(&self) {
        let saves = match self.saves {
            0 => String::new(),
            1 => "1 save".to_owned(),
            n => format!("{n} saves"),
        };
        let message = match (&self.resumed, saves.is_empty()) {
            (Some(resumed), true) => resumed.clone(),
            (Some(resumed), false) => format!("{resumed}, {saves}"),
            (None, _) => saves,
        };
        self.bar.set_message(message);
    }

    /// Removes the bar before the summary line is printed.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// A bar style from `template`, with `{rate}` as iterations per second to
/// one decimal. The templates are constants, so they always parse.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .with_key(
            "rate",
            |state: &indicatif::ProgressState, out: &mut dyn std::fmt::Write| {
                let _ = write!(out, "{:.1}/s", state.per_sec());
            },
        )
        .progress_chars("=> ")
}

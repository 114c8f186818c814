//! Progress bars on stderr for the long commands (`import`, `export`): drawn only when
//! stderr is a terminal and showing is asked for, so scripts and tests see no noise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::fmt::Write;

/// Whole units per second (indicatif's `{per_sec}` shows four decimals).
fn rate(state: &ProgressState, w: &mut dyn Write) {
    let _ = write!(w, "{:.0}/s", state.per_sec());
}

/// What a bar counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Items,
}

/// A bar of `len` units labelled `what`; hidden when `show` is false.
pub fn bar(show: bool, len: u64, what: &str, unit: Unit) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let template = match unit {
        Unit::Bytes => "{msg:22} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        Unit::Items => "{msg:22} [{bar:40}] {human_pos}/{human_len} {rate} eta {eta}",
    };
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key("rate", rate)
        .progress_chars("=> ");
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(4));
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}

/// The bar of a long job's current phase, for someone else to read while it runs (the
/// HTTP import job answers its progress from it; hidden bars still count).
#[derive(Clone, Debug, Default)]
pub struct Watch(std::sync::Arc<std::sync::Mutex<Option<(&'static str, ProgressBar)>>>);

impl Watch {
    /// From now on `bar` is the progress of `phase`.
    pub fn follow(&self, phase: &'static str, bar: &ProgressBar) {
        if let Ok(mut w) = self.0.lock() {
            *w = Some((phase, bar.clone()));
        }
    }

    /// `(phase, done, total)` of the phase in progress, if any.
    pub fn now(&self) -> Option<(&'static str, u64, u64)> {
        let w = self.0.lock().ok()?;
        let (phase, bar) = w.as_ref()?;
        Some((phase, bar.position(), bar.length().unwrap_or(0)))
    }
}

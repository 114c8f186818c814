//! Progress bars on stderr for the long commands (`import`, `export`): drawn only when
//! stderr is a terminal and showing is asked for, so scripts and tests see no noise.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

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
        Unit::Items => "{msg:22} [{bar:40}] {human_pos}/{human_len} {per_sec} eta {eta}",
    };
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr_with_hz(4));
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}

/// A counter without a known length (a spinner with the count).
pub fn counter(show: bool, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{spinner} {msg:22} {human_pos} {per_sec}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr_with_hz(4));
    pb.set_style(style);
    pb.set_message(what.to_string());
    pb
}

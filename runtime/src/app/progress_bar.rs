//! The progress bar of a run over a known set of files on a terminal — a replay (`--replay`,
//! one file per batch) or an `AvailableNow` trigger (the files there were at start): files done,
//! rows read, rows per second and the time left (indicatif). Drawn on stderr, and only when
//! stderr is a terminal, so logs and pipes never see it.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar, or nothing (not a replay, or stderr is not a terminal).
pub(super) struct Bar {
    bar: Option<ProgressBar>,
    rows: u64,
    started: Instant,
}

impl Bar {
    /// A bar over `files` files, if there are any and stderr is a terminal.
    pub(super) fn new(files: Option<usize>) -> Bar {
        let bar = files.filter(|&n| n > 0 && std::io::stderr().is_terminal()).map(|n| {
            let style = ProgressStyle::with_template(
                "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} files · {msg} · {eta} left",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
            let bar = ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stderr_with_hz(5));
            bar.set_style(style);
            bar
        });
        Bar { bar, rows: 0, started: Instant::now() }
    }

    /// A batch of `rows` input rows, which read `files` of the files, is done.
    pub(super) fn batch(&mut self, rows: u64, files: u64) {
        let Some(bar) = &self.bar else { return };
        self.rows += rows;
        let secs = self.started.elapsed().max(Duration::from_millis(1)).as_secs_f64();
        bar.set_message(format!("{} rows, {:.0} rows/s", self.rows, self.rows as f64 / secs));
        bar.inc(files);
    }

    /// The run is over: the bar is cleared.
    pub(super) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

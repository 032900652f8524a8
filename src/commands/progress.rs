//! A progress bar on stderr for long scans: bytes, rate and ETA. Hidden when stderr is not a
//! terminal (cron, CI, pipes), with `--quiet`, and when the input is small.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::source::{Input, InputPath};

/// Inputs smaller than this finish too fast for a bar to help.
const MIN_BYTES: u64 = 64 << 20;

/// A running progress display; dropping it clears the bar.
pub struct Progress {
    pub counter: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Progress {
    /// Starts a bar for `total` bytes, or a silent counter when it would not help.
    pub fn start(total: u64, quiet: bool) -> Progress {
        let counter = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let visible =
            !quiet && total >= MIN_BYTES && std::io::IsTerminal::is_terminal(&std::io::stderr());
        let thread = visible.then(|| {
            let (counter, stop) = (counter.clone(), stop.clone());
            std::thread::spawn(move || {
                let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
                bar.set_style(
                    ProgressStyle::with_template("{spinner} scanning {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} ETA {eta}")
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                while !stop.load(Ordering::Relaxed) {
                    bar.set_position(counter.load(Ordering::Relaxed).min(total));
                    std::thread::sleep(Duration::from_millis(100));
                }
                bar.finish_and_clear();
            })
        });
        Progress {
            counter,
            stop,
            thread,
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Sum of input sizes on disk, for the progress bar.
pub fn total_bytes(inputs: &[Input]) -> u64 {
    inputs
        .iter()
        .filter_map(|i| match &i.path {
            InputPath::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            InputPath::Stdin => None,
        })
        .sum()
}

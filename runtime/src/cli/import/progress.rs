//! How an import shows it is moving: a bar with rate and ETA (indicatif) when
//! standard error is a terminal, else a plain line every [`PLAIN_EVERY`] messages.

use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Messages between two plain progress lines, by default.
pub const PLAIN_EVERY: u64 = 1000;

/// Counts of an import, as it goes.
#[derive(Debug, Default, Clone, Copy)]
pub struct Counts {
    pub read: u64,
    pub imported: u64,
    pub present: u64,
    pub refused: u64,
}

#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    last_plain: u64,
    every: u64,
}

impl Progress {
    /// `total`: the bytes of the sources, when known (for the ETA).
    pub fn new(total: Option<u64>, every: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match total {
                Some(total) => (
                    ProgressBar::new(total),
                    "{elapsed_precise} [{wide_bar}] {bytes}/{total_bytes} ETA {eta} {msg}",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "{elapsed_precise} {spinner} {bytes} {msg}",
                ),
            };
            bar.set_style(
                ProgressStyle::with_template(template)
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            started: Instant::now(),
            last_plain: 0,
            every,
        }
    }

    fn rate(&self, counts: &Counts) -> f64 {
        counts.read as f64 / self.started.elapsed().as_secs_f64().max(0.001)
    }

    /// One more message handled; `bytes` of the source passed.
    pub fn advance(&mut self, counts: &Counts, bytes: u64) {
        let line = format!(
            "{} read: {} imported, {} already present, {} refused ({:.0} msg/s)",
            counts.read,
            counts.imported,
            counts.present,
            counts.refused,
            self.rate(counts)
        );
        match &self.bar {
            Some(bar) => {
                bar.inc(bytes);
                bar.set_message(line);
            }
            None => {
                if counts.read >= self.last_plain + self.every {
                    self.last_plain = counts.read;
                    eprintln!("import: {line}");
                }
            }
        }
    }

    /// A line that stays above the bar (or a plain line).
    pub fn say(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => eprintln!("import: {text}"),
        }
    }

    /// Shows the wait for processing.
    pub fn waiting(&self, pending: u64, backlog: u64) {
        let text = format!("processing: {pending} deliveries pending, {backlog} search updates");
        match &self.bar {
            Some(bar) => bar.set_message(text),
            None => eprintln!("import: {text}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

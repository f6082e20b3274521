//! Progress display: a bar on a terminal, log lines otherwise. The transfer path only
//! bumps an atomic counter; a ticker task renders it.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use tokio::task::JoinHandle;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal, log lines otherwise.
    #[default]
    Auto,
    /// Always a bar (on stderr).
    Bar,
    /// `info` log lines every 10 % or 10 s.
    Log,
    /// Nothing.
    Off,
}

impl std::str::FromStr for ProgressMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(ProgressMode::Auto),
            "bar" => Ok(ProgressMode::Bar),
            "log" => Ok(ProgressMode::Log),
            "off" => Ok(ProgressMode::Off),
            other => Err(format!(
                "invalid progress mode {other:?}: expected auto, bar, log or off"
            )),
        }
    }
}

/// A running progress display for one phase (hashing, uploading) of one file.
pub struct Progress {
    counter: Arc<AtomicU64>,
    ticker: Option<JoinHandle<()>>,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// Starts showing `label` for `total` bytes, `already` of which are done.
    pub fn start(mode: ProgressMode, label: &str, total: u64, already: u64) -> Self {
        let counter = Arc::new(AtomicU64::new(already));
        let bar_wanted = match mode {
            ProgressMode::Auto => std::io::stderr().is_terminal(),
            ProgressMode::Bar => true,
            ProgressMode::Log | ProgressMode::Off => false,
        };
        let (bar, ticker) = if mode == ProgressMode::Off {
            (None, None)
        } else if bar_wanted {
            let bar = ProgressBar::new(total)
                .with_style(bar_style())
                .with_message(label.to_owned());
            let task = tokio::spawn(tick_bar(bar.clone(), counter.clone()));
            (Some(bar), Some(task))
        } else {
            (
                None,
                Some(tokio::spawn(tick_log(label.to_owned(), total, counter.clone()))),
            )
        };
        Progress { counter, ticker, bar }
    }

    /// The counter the transfer adds bytes to.
    pub fn counter(&self) -> Arc<AtomicU64> {
        self.counter.clone()
    }

    /// Stops the display (leaving a finished bar on screen).
    pub fn finish(mut self) {
        self.stop(true);
    }

    fn stop(&mut self, done: bool) {
        if let Some(task) = self.ticker.take() {
            task.abort();
        }
        if let Some(bar) = self.bar.take() {
            bar.set_position(self.counter.load(Ordering::Relaxed));
            if done { bar.finish() } else { bar.abandon() }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop(false);
    }
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{msg:>12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ")
}

async fn tick_bar(bar: ProgressBar, counter: Arc<AtomicU64>) {
    let mut tick = tokio::time::interval(Duration::from_millis(200));
    loop {
        tick.tick().await;
        bar.set_position(counter.load(Ordering::Relaxed));
    }
}

async fn tick_log(label: String, total: u64, counter: Arc<AtomicU64>) {
    let started = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let (mut last_decile, mut last_log) = (0u64, Instant::now());
    loop {
        tick.tick().await;
        let done = counter.load(Ordering::Relaxed);
        let decile = (done.saturating_mul(10)).checked_div(total).unwrap_or(10);
        if decile > last_decile || last_log.elapsed() >= Duration::from_secs(10) {
            let secs = started.elapsed().as_secs_f64().max(0.001);
            let mib_s = done as f64 / secs / 1_048_576.0;
            tracing::info!(phase = %label, done, total, percent = decile * 10, mib_s = format!("{mib_s:.1}"), "Transfer progress.");
            (last_decile, last_log) = (decile, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_modes_parse_and_name_bad_values() {
        assert_eq!("log".parse::<ProgressMode>(), Ok(ProgressMode::Log));
        let err = "loud".parse::<ProgressMode>().unwrap_err();
        assert!(err.contains("\"loud\""), "{err}");
    }
}

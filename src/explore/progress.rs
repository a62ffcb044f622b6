//! Progress lines for long explorations: schedules done, rate, elapsed time and strategy, on
//! stderr, after a couple of seconds and then at most every few seconds.
//!
//! # Invariants
//!
//! * Progress only prints: it reads the wall clock, and nothing it computes reaches a scheduler,
//!   a decision, a trace or a report.
//! * Lines go straight to the process's stderr (not through `eprintln!`, which libtest
//!   captures), so a long test shows them while it runs. On a terminal one line is rewritten in
//!   place and cleared at the end; otherwise each is a plain line, less often.
//! * `DETSIM_PROGRESS=0` (or [`Builder::progress`](crate::Builder::progress)`(false)`) turns them
//!   off; `DETSIM_PROGRESS=5s` sets the delay before the first line and between lines.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// When progress lines are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressSetting {
    /// Never.
    Off,
    /// After 2 s, then every 2 s on a terminal and every 10 s otherwise.
    On,
    /// After this long, then every this long.
    Every(Duration),
}

/// The progress printer of one exploration.
pub(super) struct Progress {
    start: Instant,
    first: Duration,
    every: Duration,
    last: Option<Duration>,
    tty: bool,
    strategy: String,
    planned: u64,
    /// Whether a line on a terminal waits to be cleared.
    shown: bool,
    /// The clock is read every `stride` schedules (a power of two, adapted so that reads are
    /// about a millisecond apart): reading it after every short schedule would cost more than
    /// the tally itself.
    stride: u64,
    last_read: Duration,
}

impl Progress {
    /// A printer for an exploration of `planned` schedules, or `None` when progress is off.
    pub(super) fn new(setting: ProgressSetting, strategy: &str, planned: u64) -> Option<Progress> {
        let tty = std::io::stderr().is_terminal();
        let (first, every) = match setting {
            ProgressSetting::Off => return None,
            ProgressSetting::On if tty => (Duration::from_secs(2), Duration::from_secs(2)),
            ProgressSetting::On => (Duration::from_secs(2), Duration::from_secs(10)),
            ProgressSetting::Every(d) => (d, d),
        };
        Some(Progress {
            start: Instant::now(),
            first,
            every,
            last: None,
            tty,
            strategy: strategy.to_string(),
            planned,
            shown: false,
            stride: 1,
            last_read: Duration::ZERO,
        })
    }

    /// Called after each schedule with the number done; prints when a line is due.
    pub(super) fn tick(&mut self, done: u64) {
        if done % self.stride != 0 {
            return;
        }
        let elapsed = self.start.elapsed();
        let since = elapsed.saturating_sub(self.last_read);
        self.last_read = elapsed;
        if since < Duration::from_micros(500) && self.stride < 1 << 16 {
            self.stride *= 2;
        } else if since > Duration::from_millis(50) && self.stride > 1 {
            self.stride /= 2;
        }
        if let Some(line) = self.due(done, elapsed) {
            let mut err = std::io::stderr().lock();
            let _ = if self.tty {
                self.shown = true;
                write!(err, "\r\x1b[K{line}")
            } else {
                writeln!(err, "{line}")
            };
            let _ = err.flush();
        }
    }

    /// Clears a line left on a terminal.
    pub(super) fn finish(&mut self) {
        if self.shown {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
            self.shown = false;
        }
    }

    /// The line to print after `done` schedules at `elapsed`, if one is due.
    fn due(&mut self, done: u64, elapsed: Duration) -> Option<String> {
        let due = match self.last {
            None => elapsed >= self.first,
            Some(last) => elapsed >= last + self.every,
        };
        if !due {
            return None;
        }
        self.last = Some(elapsed);
        let rate = done as f64 / elapsed.as_secs_f64().max(1e-9);
        Some(format!(
            "detsim: progress: {}: {} of {} run, {}/s, {} elapsed",
            self.strategy,
            thousands(done),
            plural(self.planned, "schedule"),
            thousands(rate.round() as u64),
            seconds(elapsed)
        ))
    }
}

/// `n what` with the plural and thousands separators: `1 schedule`, `1,000 schedules`.
pub(super) fn plural(n: u64, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{} {what}s", thousands(n))
    }
}

/// `1234567` as `1,234,567`.
pub(super) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Wall time for people: `0.41s`, `12.3s`, `2m05s`.
pub(super) fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.2}s")
    } else if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printer(every: u64) -> Progress {
        let mut p = Progress::new(
            ProgressSetting::Every(Duration::from_secs(every)),
            "portfolio",
            100_000,
        )
        .unwrap();
        p.tty = false;
        p
    }

    #[test]
    fn nothing_before_the_delay_then_rate_limited_lines() {
        let mut p = printer(2);
        let s = Duration::from_secs;
        assert_eq!(p.due(100, Duration::from_millis(1999)), None);
        assert_eq!(
            p.due(4000, s(2)).as_deref(),
            Some(
                "detsim: progress: portfolio: 4,000 of 100,000 schedules run, 2,000/s, 2.00s elapsed"
            )
        );
        assert_eq!(p.due(5000, Duration::from_millis(3999)), None);
        assert!(p.due(8000, s(4)).unwrap().contains("8,000 of 100,000"));
        assert_eq!(p.due(8001, s(5)), None);
    }

    #[test]
    fn off_is_off() {
        assert!(Progress::new(ProgressSetting::Off, "random", 10).is_none());
    }
}

//! `interval`: a periodic tick in simulated time.

use super::{Duration, Instant, now, sleep_until};

/// A periodic timer: the first [`tick`](Interval::tick) completes at once, then one every
/// `period`, at `start + k × period`. A tick that is late (the task was busy past it) completes at
/// once, so no tick is lost and the schedule does not drift.
///
/// # Panics
///
/// If `period` is zero, or when created outside a detsim run.
///
/// ```
/// use detsim::time::{interval, now, Duration};
/// detsim::run(async {
///     let mut tick = interval(Duration::from_millis(100));
///     let mut seen = Vec::new();
///     for _ in 0..3 {
///         tick.tick().await;
///         seen.push(now().to_string());
///     }
///     assert_eq!(seen, ["0s", "0.1s", "0.2s"]);
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(now(), period)
}

/// Like [`interval`], with the first tick at `start`.
///
/// ```
/// use detsim::time::{interval_at, now, Duration, Instant};
/// detsim::run(async {
///     let mut tick = interval_at(Instant::ZERO + Duration::from_secs(1), Duration::from_secs(1));
///     tick.tick().await;
///     assert_eq!(now().to_string(), "1s");
/// });
/// ```
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "detsim::time::interval: the period must be positive (a zero period would tick forever \
         without time passing); use yield_now() in a loop if that is what you want"
    );
    Interval {
        next: start,
        period,
    }
}

/// A periodic timer created by [`interval`] or [`interval_at`].
#[derive(Debug)]
pub struct Interval {
    next: Instant,
    period: Duration,
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    pub async fn tick(&mut self) -> Instant {
        let at = self.next;
        if at > now() {
            sleep_until(at).await;
        }
        self.next = at + self.period;
        at
    }

    /// The period.
    pub fn period(&self) -> Duration {
        self.period
    }
}

//! `tokio::time` on detsim's simulated clock: [`sleep`], [`sleep_until`], [`timeout`],
//! [`timeout_at`], [`interval`], [`interval_at`], a simulated [`Instant`], and the test
//! utilities [`pause`], [`resume`] and [`advance`].
//!
//! # tokio's rules, kept
//!
//! * Timers have **millisecond granularity**: a timer fires at its deadline rounded up to the
//!   next whole millisecond of the run (a `sleep` of 1.5 ms wakes at 2 ms), and simulated time
//!   then reads that millisecond, as tokio's paused clock does.
//! * A `Sleep` whose deadline has passed completes on its first poll, without yielding.
//! * A [`timeout`] polls its future before checking its deadline, so a future that is ready at
//!   once wins even against a zero timeout.
//! * An [`interval`]'s first tick completes at once; a tick more than 5 ms late applies the
//!   [`MissedTickBehavior`].
//! * Deadlines are computed when `sleep`/`timeout` is called, not when first polled.
//!
//! Time is always simulated and auto-advances when every task is idle, as with tokio's
//! `start_paused = true`. Nothing here reads the wall clock.

mod instant;
mod interval;
mod sleep;

pub use instant::Instant;
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, Timeout, sleep, sleep_until, timeout, timeout_at};
pub use std::time::Duration;

/// Errors of this module: tokio's `time::error`.
pub mod error {
    pub use super::sleep::Elapsed;
}

/// tokio's `time::pause`: under detsim time is always simulated and auto-advances when every task
/// is idle, which is what a paused tokio clock does, so this does nothing.
pub fn pause() {}

/// tokio's `time::resume`: under detsim time cannot follow the wall clock, so this does nothing
/// and time stays simulated (and auto-advancing).
pub fn resume() {}

/// tokio's `time::advance`: moves simulated time forward by `duration` at once (other tasks do
/// not run first), then yields; timers that became due fire and wake their tasks at the new time.
///
/// ```
/// use detsim_tokio::sim::time::{self, Duration, Instant};
/// detsim::run(async {
///     let start = Instant::now();
///     time::advance(Duration::from_secs(5)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(5));
/// });
/// ```
pub async fn advance(duration: Duration) {
    detsim::time::advance(duration);
    detsim::yield_now().await;
}

//! Simulated time: [`Instant`], [`now`], [`sleep`], [`sleep_until`], [`timeout`], [`interval`].
//!
//! Time is an integer number of nanoseconds since the start of the run ([`Instant::ZERO`]). It
//! moves only when no task is runnable, and then jumps straight to the earliest pending deadline,
//! so a sleep of a simulated year costs what a sleep of a millisecond costs.
//!
//! # Invariants
//!
//! * Nothing here reads the wall clock.
//! * Timers with equal deadlines fire in the order they were set: (deadline, insertion).
//! * A deadline past [`Instant::MAX`] saturates to it, and a timer at [`Instant::MAX`] never fires:
//!   `sleep(Duration::MAX)` is "sleep forever", and a run in which every task sleeps forever is
//!   reported as a deadlock rather than jumping the clock 584 years.
//! * Firing a timer only wakes a waker; the woken task runs when the scheduler picks it.
//!
//! The clock itself (the timer queue) lives in the runtime; this module is its user-facing API.

mod interval;
mod scope;
mod sleep;
mod timeout;

pub use interval::{Interval, interval, interval_at};
pub use scope::{
    RescheduleError, Scoped, TimeoutScope, WaitFor, timeout_scope, timeout_scope_at, wait_for,
};
pub use sleep::{Sleep, sleep, sleep_until};
pub use std::time::Duration;
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};

pub use crate::base::Instant;

/// The current simulated time.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::time::{now, sleep, Duration, Instant};
/// detsim::run(async {
///     assert_eq!(now(), Instant::ZERO);
///     sleep(Duration::from_secs(3600 * 24 * 365)).await; // a simulated year, instantly
///     assert_eq!(now().as_secs_f64(), 31_536_000.0);
/// });
/// ```
pub fn now() -> Instant {
    crate::runtime::with_core("detsim::time::now", |c| c.now())
}

/// Moves simulated time forward by `d` at once, without waiting for the runnable tasks to go
/// idle: the one way to move the clock other than every task waiting (tokio's test-util
/// `time::advance`, which detsim-tokio builds on). Timers that become due fire at the start of the
/// next iteration, in (deadline, insertion) order, so they wake their tasks at the new time.
/// Returns the new time.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::time::{advance, now, Duration};
/// detsim::run(async {
///     advance(Duration::from_secs(3));
///     assert_eq!(now().to_string(), "3s");
/// });
/// ```
pub fn advance(d: Duration) -> Instant {
    crate::runtime::with_core("detsim::time::advance", |c| c.advance_clock(d))
}

/// The current simulated time, or `None` outside a detsim run (for code that runs both inside
/// and outside one, such as detsim-tokio's runtime facade).
///
/// ```
/// assert_eq!(detsim::time::try_now(), None);
/// detsim::run(async { assert_eq!(detsim::time::try_now(), Some(detsim::time::Instant::ZERO)) });
/// ```
pub fn try_now() -> Option<Instant> {
    crate::runtime::try_with_core(|c| c.now())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_trims() {
        assert_eq!(Instant::ZERO.to_string(), "0s");
        assert_eq!(Instant::from_nanos(10_000_000).to_string(), "0.01s");
        assert_eq!(Instant::from_nanos(1).to_string(), "0.000000001s");
        assert_eq!(Instant::MAX.to_string(), "the end of time");
    }

    #[test]
    fn arithmetic_saturates() {
        assert_eq!(Instant::from_nanos(5) + Duration::MAX, Instant::MAX);
        assert_eq!(
            Instant::from_nanos(5) - Duration::from_nanos(9),
            Instant::ZERO
        );
        assert_eq!(
            Instant::from_nanos(5) - Instant::from_nanos(9),
            Duration::ZERO
        );
        assert_eq!(Instant::MAX.checked_add(Duration::from_nanos(1)), None);
    }
}

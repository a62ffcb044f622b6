//! The simulated `Instant`.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

/// Simulated instants start this far after zero, so that code subtracting hours or days from
/// `Instant::now()` early in a run (as real clocks allow) does not underflow.
const EPOCH: u64 = 1_000_000 * 1_000_000_000;

/// A measurement of detsim's simulated clock: tokio's `time::Instant`, with the same methods.
///
/// ```
/// use detsim_tokio::sim::time::{sleep, Duration, Instant};
/// detsim::run(async {
///     let start = Instant::now();
///     sleep(Duration::from_millis(1500)).await;
///     assert_eq!(Instant::now().duration_since(start), Duration::from_millis(1500));
///     assert_eq!(start.elapsed(), Duration::from_millis(1500));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    nanos: u64,
}

impl Instant {
    /// The current simulated time.
    ///
    /// # Panics
    ///
    /// Outside a detsim run (there is no simulated clock to read).
    #[track_caller]
    pub fn now() -> Instant {
        match detsim::time::try_now() {
            Some(t) => Instant::from_sim(t),
            None => panic!(
                "tokio::time::Instant::now() under --cfg detsim reads detsim's simulated clock, \
                 and was called outside a detsim run; call it inside #[tokio::test], \
                 #[tokio::main] or Runtime::block_on"
            ),
        }
    }

    pub(crate) fn from_sim(t: detsim::time::Instant) -> Instant {
        Instant {
            nanos: t.as_nanos().saturating_add(EPOCH),
        }
    }

    /// This instant on detsim's clock.
    pub(crate) fn to_sim(self) -> detsim::time::Instant {
        detsim::time::Instant::from_nanos(self.nanos.saturating_sub(EPOCH))
    }

    /// About 30 years from now: tokio's deadline for a duration that overflows.
    pub(crate) fn far_future() -> Instant {
        Instant::now() + Duration::from_secs(86400 * 365 * 30)
    }

    /// The time from `earlier` to this instant, or zero if `earlier` is later.
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// The time from `earlier` to this instant, or `None` if `earlier` is later.
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.nanos
            .checked_sub(earlier.nanos)
            .map(Duration::from_nanos)
    }

    /// The time from `earlier` to this instant, or zero if `earlier` is later.
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.nanos.saturating_sub(earlier.nanos))
    }

    /// The simulated time since this instant.
    ///
    /// # Panics
    ///
    /// Outside a detsim run.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + d`, or `None` on overflow.
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        let d = u64::try_from(d.as_nanos()).ok()?;
        self.nanos.checked_add(d).map(|nanos| Instant { nanos })
    }

    /// `self - d`, or `None` on underflow.
    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        let d = u64::try_from(d.as_nanos()).ok()?;
        self.nanos.checked_sub(d).map(|nanos| Instant { nanos })
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Instant({})", self.to_sim())
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    #[track_caller]
    fn add(self, d: Duration) -> Instant {
        self.checked_add(d)
            .expect("overflow when adding duration to instant")
    }
}

impl AddAssign<Duration> for Instant {
    #[track_caller]
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    #[track_caller]
    fn sub(self, d: Duration) -> Instant {
        self.checked_sub(d)
            .expect("overflow when subtracting duration from instant")
    }
}

impl SubAssign<Duration> for Instant {
    #[track_caller]
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

//! `sleep` and `sleep_until`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Duration, Instant};
use crate::runtime::{self, TimerKey, WaitOn};

/// Waits until `duration` of simulated time has passed.
///
/// As in asyncio, `sleep(Duration::ZERO)` is a plain yield (the task goes to the back of the ready
/// queue, no timer is set). A duration that reaches past [`Instant::MAX`] sleeps forever.
///
/// # Panics
///
/// When polled outside a detsim run.
///
/// ```
/// use detsim::time::{now, sleep, Duration};
/// detsim::run(async {
///     sleep(Duration::from_millis(250)).await;
///     assert_eq!(now().to_string(), "0.25s");
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: None,
        duration: Some(duration),
        key: None,
        yielded: false,
    }
}

/// Waits until simulated time reaches `deadline`. A deadline that has passed is a plain yield.
///
/// ```
/// use detsim::time::{now, sleep_until, Duration, Instant};
/// detsim::run(async {
///     sleep_until(Instant::ZERO + Duration::from_secs(2)).await;
///     assert_eq!(now(), Instant::from_nanos(2_000_000_000));
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: Some(deadline),
        duration: None,
        key: None,
        yielded: false,
    }
}

/// The future returned by [`sleep`] and [`sleep_until`]. Dropping it cancels its timer.
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Sleep {
    deadline: Option<Instant>,
    duration: Option<Duration>,
    key: Option<TimerKey>,
    yielded: bool,
}

impl Sleep {
    /// The deadline, once known (a `sleep(d)` learns it when first polled, from the clock then).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        runtime::with_core("detsim::time::sleep", |core| {
            let now = core.now();
            let deadline = match this.deadline {
                Some(d) => d,
                None => {
                    let d = now + this.duration.unwrap_or(Duration::ZERO);
                    this.deadline = Some(d);
                    d
                }
            };
            if deadline <= now && this.key.is_none() {
                // asyncio: sleep(d <= 0) is a bare yield, never a timer.
                if this.yielded {
                    return Poll::Ready(());
                }
                this.yielded = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if deadline <= now {
                this.key = None;
                return Poll::Ready(());
            }
            if deadline == Instant::MAX {
                core.set_waiting(WaitOn::SleepForever(this.duration));
                return Poll::Pending;
            }
            match this.key {
                Some(key) if core.timer_pending(key) => core.update_timer_waker(key, cx.waker()),
                Some(_) => {
                    // Fired, but the clock says it is not yet time: impossible by construction.
                    unreachable!("detsim: a timer fired before its deadline")
                }
                None => this.key = Some(core.insert_timer(deadline, cx.waker().clone())),
            }
            core.set_waiting(WaitOn::Sleep(deadline));
            Poll::Pending
        })
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            runtime::try_with_core(|core| core.cancel_timer(key));
        }
    }
}

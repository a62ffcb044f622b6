//! `Sleep` and `Timeout`, with tokio's millisecond granularity.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;

const MILLI: u64 = 1_000_000;

/// When a timer with this deadline fires: the deadline rounded up to a whole millisecond of
/// the run, as tokio's timer wheel does.
fn fire_time(deadline: Instant) -> detsim::time::Instant {
    let n = deadline.to_sim().as_nanos();
    let ms = n / MILLI + u64::from(n % MILLI != 0);
    detsim::time::Instant::from_nanos(ms.saturating_mul(MILLI))
}

/// Waits until `duration` has passed: tokio's `time::sleep`. The deadline is `Instant::now() +
/// duration`, taken now.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim_tokio::sim::time::{sleep, Duration, Instant};
/// detsim::run(async {
///     let start = Instant::now();
///     sleep(Duration::from_micros(1500)).await; // fires on the next whole millisecond
///     assert_eq!(start.elapsed(), Duration::from_millis(2));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    let deadline = now
        .checked_add(duration)
        .unwrap_or_else(Instant::far_future);
    sleep_until(deadline)
}

/// Waits until `deadline`: tokio's `time::sleep_until`. A deadline that has passed completes on
/// the first poll.
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline,
        timer: None,
        elapsed: false,
    }
}

/// The future of [`sleep`] and [`sleep_until`]: tokio's `Sleep`.
#[must_use = "futures do nothing unless you `.await` or poll them"]
pub struct Sleep {
    deadline: Instant,
    timer: Option<detsim::time::Sleep>,
    elapsed: bool,
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("elapsed", &self.elapsed)
            .finish()
    }
}

impl Sleep {
    /// The instant at which the future completes.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has been reached.
    pub fn is_elapsed(&self) -> bool {
        self.elapsed || detsim::time::try_now().is_some_and(|now| fire_time(self.deadline) <= now)
    }

    /// Moves the deadline to `deadline` (earlier or later); the sleep is pending again until
    /// then.
    ///
    /// ```
    /// use detsim_tokio::sim::{pin, time::{sleep, Duration, Instant}};
    /// detsim::run(async {
    ///     let start = Instant::now();
    ///     let s = sleep(Duration::from_secs(10));
    ///     pin!(s);
    ///     s.as_mut().reset(start + Duration::from_millis(5));
    ///     s.await;
    ///     assert_eq!(start.elapsed(), Duration::from_millis(5));
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.get_mut();
        this.deadline = deadline;
        this.timer = None;
        this.elapsed = false;
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.elapsed {
            return Poll::Ready(());
        }
        let fire = fire_time(self.deadline);
        let now = match detsim::time::try_now() {
            Some(now) => now,
            None => panic!(
                "tokio::time::Sleep polled outside a detsim run (detsim-tokio under --cfg \
                 detsim); poll it inside #[tokio::test], #[tokio::main] or Runtime::block_on"
            ),
        };
        if fire <= now {
            self.elapsed = true;
            self.timer = None;
            return Poll::Ready(());
        }
        let timer = self
            .timer
            .get_or_insert_with(|| detsim::time::sleep_until(fire));
        match Pin::new(timer).poll(cx) {
            Poll::Ready(()) => {
                self.elapsed = true;
                self.timer = None;
                Poll::Ready(())
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

/// A deadline passed before the future completed: tokio's `time::error::Elapsed`.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}

/// Requires `future` to complete within `duration`: tokio's `time::timeout`. The future is
/// polled before the deadline is checked.
///
/// ```
/// use detsim_tokio::sim::time::{sleep, timeout, Duration};
/// detsim::run(async {
///     assert!(timeout(Duration::from_millis(10), sleep(Duration::from_secs(1))).await.is_err());
///     assert_eq!(timeout(Duration::ZERO, async { 5 }).await, Ok(5)); // ready first: wins
/// });
/// ```
#[track_caller]
pub fn timeout<F: std::future::IntoFuture>(
    duration: Duration,
    future: F,
) -> Timeout<F::IntoFuture> {
    let deadline = Instant::now()
        .checked_add(duration)
        .unwrap_or_else(Instant::far_future);
    timeout_at(deadline, future)
}

/// Requires `future` to complete before `deadline`: tokio's `time::timeout_at`.
pub fn timeout_at<F: std::future::IntoFuture>(
    deadline: Instant,
    future: F,
) -> Timeout<F::IntoFuture> {
    Timeout {
        value: future.into_future(),
        delay: sleep_until(deadline),
    }
}

pin_project_lite::pin_project! {
    /// The future of [`timeout`] and [`timeout_at`]: tokio's `Timeout`.
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    #[derive(Debug)]
    pub struct Timeout<T> {
        #[pin]
        value: T,
        delay: Sleep,
    }
}

impl<T> Timeout<T> {
    /// The inner future.
    pub fn get_ref(&self) -> &T {
        &self.value
    }

    /// The inner future, mutably.
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.value
    }

    /// The inner future, the timeout dropped.
    pub fn into_inner(self) -> T {
        self.value
    }
}

impl<T: Future> Future for Timeout<T> {
    type Output = Result<T::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let me = self.project();
        if let Poll::Ready(v) = me.value.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(me.delay).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

//! `timeout` and `timeout_at`: bound a future by simulated time.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::{Duration, Instant, Sleep, sleep, sleep_until};

/// The error of a [`timeout`] whose deadline passed before the inner future finished.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Elapsed {
    deadline: Instant,
}

impl Elapsed {
    /// An `Elapsed` for `deadline` (used by the timeout scopes and `wait_for` of the task API).
    pub(crate) fn new(deadline: Instant) -> Elapsed {
        Elapsed { deadline }
    }

    /// The deadline that passed.
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "deadline {} elapsed", self.deadline)
    }
}

impl std::error::Error for Elapsed {}

/// Runs `fut` with a time limit of `duration`: `Ok(output)` if it finishes first, otherwise
/// `Err(Elapsed)`, and the inner future is **dropped** at expiry (its `Drop` code runs then, as a
/// cancelled asyncio coroutine's `finally` does).
///
/// The inner future is polled before the deadline is checked, so `timeout(Duration::ZERO, f)` runs
/// `f` up to its first suspension, like asyncio's `timeout(0)`.
///
/// ```
/// use detsim::time::{now, sleep, timeout, Duration};
/// detsim::run(async {
///     let r = timeout(Duration::from_millis(10), sleep(Duration::from_secs(10))).await;
///     assert!(r.is_err());
///     assert_eq!(now().to_string(), "0.01s");
///     let r = timeout(Duration::from_secs(1), async { 5 }).await;
///     assert_eq!(r, Ok(5));
/// });
/// ```
pub fn timeout<F: Future>(duration: Duration, fut: F) -> Timeout<F> {
    Timeout {
        inner: Some(fut),
        sleep: sleep(duration),
    }
}

/// Like [`timeout`], with an absolute deadline.
///
/// ```
/// use detsim::time::{timeout_at, sleep, Duration, Instant};
/// detsim::run(async {
///     let at = Instant::ZERO + Duration::from_secs(1);
///     let r = timeout_at(at, sleep(Duration::from_secs(5))).await;
///     assert_eq!(r.unwrap_err().deadline(), at);
/// });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, fut: F) -> Timeout<F> {
    Timeout {
        inner: Some(fut),
        sleep: sleep_until(deadline),
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`timeout`] and [`timeout_at`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        inner: Option<F>,
        sleep: Sleep,
    }
}

impl<F> Timeout<F> {
    /// The deadline, once known (a [`timeout`] learns it when first polled).
    pub fn deadline(&self) -> Option<Instant> {
        self.sleep.deadline()
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.sleep.deadline())
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            panic!("detsim: a Timeout was polled after it completed; await it only once");
        };
        if let Poll::Ready(v) = inner.poll(cx) {
            this.inner.set(None);
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut *this.sleep).poll(cx) {
            Poll::Ready(()) => {
                // Drop the inner future now: its Drop code runs at expiry, inside this step.
                this.inner.set(None);
                let deadline = this.sleep.deadline().unwrap_or_default();
                Poll::Ready(Err(Elapsed { deadline }))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

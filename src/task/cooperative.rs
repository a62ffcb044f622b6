//! Cooperative cancellation, opt-in: [`cancellable`] turns one await into a point where a
//! cancellation arrives **as a value** (`Err(Cancelled)`), as asyncio raises `CancelledError`
//! at the `await` a task is suspended on, so the task can clean up with awaits, or carry on.
//!
//! # Model
//!
//! By default a cancelled task's future is dropped at its next turn (its `Drop` code is its
//! `finally`). While the task is suspended inside `cancellable(fut).await`, a cancellation is
//! *delivered* instead: at the task's next turn `fut` is dropped (the `await` it was suspended on
//! is abandoned, with `fut`'s own `Drop` code), and `cancellable` returns `Err(Cancelled)`. The
//! task's code then runs on, and may:
//!
//! * clean up with awaits and end cancelled: [`Cancelled::propagate`] (asyncio's `raise`);
//! * carry on: call [`uncancel`](crate::task::CancelHandle::uncancel) on
//!   [`current()`](crate::task::current) (asyncio's `uncancel()`), then continue — or just
//!   continue, leaving [`cancelling()`](crate::task::CancelHandle::cancelling) counting it, as
//!   asyncio does when `CancelledError` is swallowed.
//!
//! # Invariants
//!
//! * Every [`cancel`](crate::JoinHandle::cancel) counts one request (`cancelling()`), delivered
//!   or not; [`uncancel`](crate::task::CancelHandle::uncancel) takes one back, and at zero a
//!   request not yet delivered is forgotten (asyncio 3.13).
//! * A cancellation still travels down the await chain first: a task or gather that `fut` awaits
//!   is cancelled, and the cancellation is delivered once it has ended.
//! * A cancellation that arrives while no `cancellable` await is in progress, or that is not
//!   taken before the last one ends, is an ordinary one: the task's future is dropped.
//! * `abort()` is never delivered: it always drops the future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::base::TaskId;
use crate::runtime;

/// A cancellation delivered to a [`cancellable`] await (asyncio's `CancelledError`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cancelled {
    message: Option<String>,
}

impl Cancelled {
    pub(crate) fn new(message: Option<String>) -> Cancelled {
        Cancelled { message }
    }

    /// The message of the cancellation (`cancel_with`), if it had one (asyncio's `e.args`).
    pub fn message(&self) -> Option<&str> {
        self.message.as_deref()
    }

    /// Ends the task cancelled, as re-raising `CancelledError` does: the task's future is
    /// dropped at its next turn, and whoever awaits the task sees the cancellation (with its
    /// message). Never completes.
    ///
    /// # Panics
    ///
    /// Outside a detsim run.
    ///
    /// ```
    /// use detsim::task::cancellable;
    /// use detsim::time::{now, sleep, Duration};
    /// detsim::run(async {
    ///     let t = detsim::spawn(async {
    ///         if let Err(c) = cancellable(sleep(Duration::from_secs(10))).await {
    ///             sleep(Duration::from_millis(500)).await; // async cleanup
    ///             c.propagate::<()>().await;
    ///         }
    ///     });
    ///     detsim::yield_now().await;
    ///     t.cancel_with("stop");
    ///     assert_eq!(t.await.unwrap_err().cancel_message(), Some("stop"));
    ///     assert_eq!(now().to_string(), "0.5s");
    /// });
    /// ```
    pub fn propagate<T>(self) -> Propagate<T> {
        Propagate {
            message: Some(self.message),
            _out: std::marker::PhantomData,
        }
    }
}

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.message {
            Some(m) => write!(f, "cancelled: {m}"),
            None => f.write_str("cancelled"),
        }
    }
}

impl std::error::Error for Cancelled {}

/// The future of [`Cancelled::propagate`]: it never completes.
#[must_use = "futures do nothing unless awaited"]
pub struct Propagate<T> {
    message: Option<Option<String>>,
    _out: std::marker::PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Propagate<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Propagate").finish_non_exhaustive()
    }
}

impl<T> Future for Propagate<T> {
    type Output = T;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<T> {
        if let Some(m) = self.message.take() {
            runtime::with_core("Cancelled::propagate", |c| c.cancel_current(m));
        }
        Poll::Pending
    }
}

/// Makes one await cooperative: a cancellation of the task while it is suspended here arrives
/// as `Err(Cancelled)` instead of dropping the task's future; `fut` itself is dropped then. The
/// task's code runs on: [`Cancelled::propagate`] re-raises it (the task ends cancelled), and
/// [`uncancel`](crate::task::CancelHandle::uncancel) takes the request back to carry on. A
/// cancellation that arrives outside a `cancellable` await, or is not taken before the last one
/// ends, drops the task as usual; it still travels down the await chain first.
///
/// ```
/// use detsim::task::{cancellable, current};
/// use detsim::time::{sleep, Duration};
/// detsim::run(async {
///     let t = detsim::spawn(async {
///         match cancellable(sleep(Duration::from_secs(10))).await {
///             Ok(()) => "slept",
///             Err(_cancelled) => {
///                 assert_eq!(current().cancelling(), 1);
///                 current().uncancel(); // carry on, as asyncio's uncancel()
///                 "caught"
///             }
///         }
///     });
///     detsim::yield_now().await;
///     t.cancel();
///     assert_eq!(t.await, Ok("caught")); // the task was not cancelled
/// });
/// ```
pub fn cancellable<F: Future>(fut: F) -> Cancellable<F> {
    Cancellable {
        fut: Some(Box::pin(fut)),
        task: None,
    }
}

/// The future of [`cancellable`].
#[must_use = "futures do nothing unless awaited"]
pub struct Cancellable<F> {
    fut: Option<Pin<Box<F>>>,
    /// The task it runs in, once entered.
    task: Option<TaskId>,
}

impl<F> fmt::Debug for Cancellable<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancellable")
            .field("task", &self.task)
            .finish_non_exhaustive()
    }
}

impl<F> Unpin for Cancellable<F> {}

impl<F> Cancellable<F> {
    fn leave(&mut self) {
        if let Some(t) = self.task.take() {
            runtime::try_with_core(|c| c.coop_leave(t));
        }
    }
}

impl<F: Future> Future for Cancellable<F> {
    type Output = Result<F::Output, Cancelled>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(fut) = this.fut.as_mut() else {
            panic!("detsim: a cancellable future was polled after it completed; await it once");
        };
        let task = match this.task {
            Some(t) => t,
            None => {
                let t = runtime::with_core("detsim::task::cancellable", |c| {
                    let t = c
                        .current_task()
                        .expect("detsim::task::cancellable polled while no task is running");
                    c.coop_enter(t);
                    t
                });
                this.task = Some(t);
                t
            }
        };
        if let Some(message) = runtime::with_core("cancellable", |c| c.coop_take(task)) {
            this.fut = None; // the abandoned await's Drop code runs here
            this.leave();
            return Poll::Ready(Err(Cancelled { message }));
        }
        match fut.as_mut().poll(cx) {
            Poll::Ready(v) => {
                this.fut = None;
                this.leave();
                Poll::Ready(Ok(v))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> Drop for Cancellable<F> {
    fn drop(&mut self) {
        self.fut = None;
        self.leave();
    }
}

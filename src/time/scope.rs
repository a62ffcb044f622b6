//! Reschedulable timeout scopes ([`TimeoutScope`], asyncio's `asyncio.timeout`) and
//! [`wait_for`].
//!
//! # State machine
//!
//! A scope is `Created` until its future is first polled, then `Entered`. When the deadline
//! passes, a timer callback marks it `Expiring` and wakes the task; at the task's next step the
//! body is dropped (its `Drop` code runs then) and the scope is `Expired` and returns
//! [`Elapsed`]. A body that finishes first leaves it `Exited`; so does dropping the scope's future
//! (a cancellation from outside is never turned into a timeout).
//!
//! # Invariants
//!
//! * Only a scope whose own deadline expired reports [`Elapsed`]. An outer scope that expires
//!   drops its body and with it any inner scope, which then reports nothing.
//! * [`TimeoutScope::reschedule`] works only while `Entered`, with asyncio's messages otherwise.
//! * The expiry callback runs as a task at the timer's position in the ready queue (or is queued at
//!   once for a deadline that has already passed), and the body is dropped one hop later: the
//!   positions of asyncio's `_on_timeout` and of the cancelled task's wakeup.
//! * Cancellation is a drop, so a cancellation of the task running a scope or [`wait_for`] can
//!   never be lost to a completion in the same iteration (CPython gh-86296, fixed in 3.12 when
//!   `wait_for` was rebuilt on `asyncio.timeout`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{Duration, Elapsed, Instant, now, sleep_until};
use crate::combinators::call_soon;
use crate::task::{CancelHandle, JoinError, JoinHandle};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Created,
    Entered,
    Expiring,
    Expired,
    Exited,
}

struct Timer {
    when: Cell<Option<Instant>>,
    generation: Cell<u64>,
    task: RefCell<Option<CancelHandle>>,
}

impl Timer {
    fn new(when: Option<Instant>) -> Timer {
        Timer {
            when: Cell::new(when),
            generation: Cell::new(0),
            task: RefCell::new(None),
        }
    }

    /// Stops the pending expiry, if any.
    fn disarm(&self) {
        self.generation.set(self.generation.get() + 1);
        let t = self.task.borrow_mut().take();
        if let Some(t) = t {
            if crate::runtime::try_with_core(|_| ()).is_some() {
                t.cancel();
            }
        }
    }

    /// Arms the expiry for `when`: `fire` runs at the timer's position in the ready queue, or is
    /// queued now if `when` has passed (asyncio's `call_at` / `call_soon`).
    fn arm(&self, fire: impl FnOnce() + 'static) {
        self.disarm();
        let Some(when) = self.when.get() else { return };
        if when <= now() {
            call_soon("timeout callback", fire);
        } else {
            let h = crate::task::named!("timeout callback").spawn(async move {
                sleep_until(when).await;
                fire();
            });
            *self.task.borrow_mut() = Some(h.cancel_handle());
        }
    }
}

struct ScopeInner {
    state: Cell<State>,
    timer: Timer,
    waker: RefCell<Option<Waker>>,
}

impl ScopeInner {
    fn arm(self: &Rc<Self>) {
        let me = self.clone();
        let generation = self.timer.generation.get() + 1;
        self.timer.arm(move || {
            if me.timer.generation.get() == generation && me.state.get() == State::Entered {
                me.state.set(State::Expiring);
                let w = me.waker.borrow_mut().take();
                if let Some(w) = w {
                    w.wake();
                }
            }
        });
    }
}

/// The error of [`TimeoutScope::reschedule`] outside the `Entered` state; its message is
/// asyncio's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RescheduleError {
    message: &'static str,
}

impl fmt::Display for RescheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.message)
    }
}

impl std::error::Error for RescheduleError {}

/// A timeout scope whose deadline can be read and moved while it runs (asyncio's `Timeout`).
/// Cloning it gives another handle on the same scope, e.g. for another task to reschedule it.
///
/// ```
/// use detsim::time::{now, sleep, timeout_scope, Duration};
/// detsim::run(async {
///     let cm = timeout_scope(Some(Duration::from_millis(10)));
///     let r = cm.run(sleep(Duration::from_secs(10))).await;
///     assert!(r.is_err());
///     assert!(cm.expired());
///     assert_eq!(now().to_string(), "0.01s");
/// });
/// ```
#[derive(Clone)]
pub struct TimeoutScope {
    inner: Rc<ScopeInner>,
}

impl fmt::Debug for TimeoutScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TimeoutScope")
            .field("state", &self.inner.state.get())
            .field("when", &self.inner.timer.when.get())
            .finish()
    }
}

/// A scope that expires `delay` after now (`None`: never, until rescheduled); see
/// [`TimeoutScope`].
///
/// # Panics
///
/// Outside a detsim run when `delay` is `Some` (it reads the clock).
///
/// ```
/// use detsim::time::{timeout_scope, Duration};
/// detsim::run(async {
///     let cm = timeout_scope(None);
///     assert_eq!(cm.run(async { 5 }).await, Ok(5));
///     assert!(!cm.expired());
///     assert_eq!(cm.when(), None);
/// });
/// ```
pub fn timeout_scope(delay: Option<Duration>) -> TimeoutScope {
    timeout_scope_at(delay.map(|d| now() + d))
}

/// A scope that expires at `when` (`None`: never, until rescheduled); see [`TimeoutScope`].
///
/// ```
/// use detsim::time::{timeout_scope_at, sleep, Duration, Instant};
/// detsim::run(async {
///     let at = Instant::ZERO + Duration::from_secs(1);
///     let cm = timeout_scope_at(Some(at));
///     let r = cm.run(sleep(Duration::from_secs(5))).await;
///     assert_eq!(r.unwrap_err().deadline(), at);
/// });
/// ```
pub fn timeout_scope_at(when: Option<Instant>) -> TimeoutScope {
    TimeoutScope {
        inner: Rc::new(ScopeInner {
            state: Cell::new(State::Created),
            timer: Timer::new(when),
            waker: RefCell::new(None),
        }),
    }
}

impl TimeoutScope {
    /// The deadline; `None` means never.
    ///
    /// ```
    /// use detsim::time::{timeout_scope_at, Instant};
    /// assert_eq!(timeout_scope_at(Some(Instant::from_nanos(5))).when(), Some(Instant::from_nanos(5)));
    /// ```
    pub fn when(&self) -> Option<Instant> {
        self.inner.timer.when.get()
    }

    /// Whether the deadline passed while the scope ran (the body may still be unwinding).
    ///
    /// ```
    /// assert!(!detsim::time::timeout_scope_at(None).expired());
    /// ```
    pub fn expired(&self) -> bool {
        matches!(self.inner.state.get(), State::Expiring | State::Expired)
    }

    /// Moves the deadline (`None`: never). A deadline that has passed expires the scope at the
    /// next hop. Only while the scope runs; otherwise an error with asyncio's message.
    ///
    /// # Panics
    ///
    /// Outside a detsim run.
    ///
    /// ```
    /// use detsim::time::{now, sleep, timeout_scope, Duration, Instant};
    /// detsim::run(async {
    ///     let cm = timeout_scope(Some(Duration::from_secs(1)));
    ///     assert!(cm.reschedule(None).is_err()); // not entered yet
    ///     let c2 = cm.clone();
    ///     let r = cm.run(async move {
    ///         c2.reschedule(Some(Instant::ZERO + Duration::from_secs(3))).unwrap();
    ///         sleep(Duration::from_secs(10)).await;
    ///     }).await;
    ///     assert!(r.is_err());
    ///     assert_eq!(now().to_string(), "3s");
    /// });
    /// ```
    pub fn reschedule(&self, when: Option<Instant>) -> Result<(), RescheduleError> {
        let message = match self.inner.state.get() {
            State::Entered => {
                self.inner.timer.when.set(when);
                self.inner.arm();
                return Ok(());
            }
            State::Created => "Timeout has not been entered",
            State::Exited => "Cannot change state of finished Timeout",
            State::Expiring => "Cannot change state of expiring Timeout",
            State::Expired => "Cannot change state of expired Timeout",
        };
        Err(RescheduleError { message })
    }

    /// Runs `fut` in this scope: `Ok(output)` if it finishes first, `Err(Elapsed)` if the
    /// deadline passes first (the future is dropped then).
    ///
    /// # Panics
    ///
    /// When polled if the scope was already entered ("Timeout has already been entered").
    ///
    /// ```
    /// use detsim::time::{sleep, timeout_scope, Duration};
    /// detsim::run(async {
    ///     let cm = timeout_scope(Some(Duration::from_secs(1)));
    ///     assert_eq!(cm.run(async { sleep(Duration::from_millis(10)).await; 3 }).await, Ok(3));
    ///     assert!(!cm.expired());
    /// });
    /// ```
    pub fn run<F: Future>(&self, fut: F) -> Scoped<F> {
        Scoped {
            scope: self.clone(),
            fut: Some(Box::pin(fut)),
        }
    }
}

/// The future of [`TimeoutScope::run`].
#[must_use = "futures do nothing unless awaited"]
pub struct Scoped<F> {
    scope: TimeoutScope,
    fut: Option<Pin<Box<F>>>,
}

impl<F> fmt::Debug for Scoped<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scoped")
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

impl<F> Unpin for Scoped<F> {}

impl<F: Future> Future for Scoped<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.scope.inner.clone();
        match inner.state.get() {
            State::Created => {
                inner.state.set(State::Entered);
                inner.arm();
            }
            State::Entered => {}
            State::Expiring => {
                self.fut = None; // the body's Drop code runs now
                inner.state.set(State::Expired);
                let at = inner.timer.when.get().unwrap_or_default();
                return Poll::Ready(Err(Elapsed::new(at)));
            }
            State::Expired | State::Exited => {
                assert!(
                    self.fut.is_none(),
                    "Timeout has already been entered: a TimeoutScope runs one future; create a \
                     new scope for another"
                );
                panic!("detsim: a scoped timeout was polled after it completed; await it once");
            }
        }
        *inner.waker.borrow_mut() = Some(cx.waker().clone());
        let Some(fut) = &mut self.fut else {
            panic!(
                "Timeout has already been entered: a TimeoutScope runs one future; create a new \
                 scope for another"
            );
        };
        match fut.as_mut().poll(cx) {
            Poll::Ready(v) => {
                self.fut = None;
                inner.state.set(State::Exited);
                inner.timer.disarm();
                Poll::Ready(Ok(v))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> Drop for Scoped<F> {
    fn drop(&mut self) {
        let inner = &self.scope.inner;
        if self.fut.is_some() {
            self.fut = None;
            match inner.state.get() {
                State::Entered => inner.state.set(State::Exited),
                State::Expiring => inner.state.set(State::Expired),
                _ => {}
            }
            inner.timer.disarm();
        }
    }
}

/// Waits for `task` for at most `timeout` (`None`: no limit). On expiry the task is cancelled
/// and **waited for**, so `Err(Elapsed)` comes back only after its cancellation has run. Dropping
/// the `wait_for` cancels the task too (asyncio's `wait_for`, 3.12+).
///
/// `Ok` holds the task's outcome: its value, or a [`JoinError`] if it panicked or was cancelled
/// by someone else. With a zero timeout, a task that has not finished is cancelled at once (a task
/// that has not started never runs).
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::time::{now, sleep, wait_for, Duration};
/// detsim::run(async {
///     let slow = detsim::spawn(sleep(Duration::from_secs(1000)));
///     let c = slow.cancel_handle();
///     let r = wait_for(Duration::from_millis(100), slow).await;
///     assert!(r.is_err());
///     assert!(c.is_finished()); // cancelled and ended before wait_for returned
///     assert_eq!(now().to_string(), "0.1s");
///     let quick = detsim::spawn(async { 7 });
///     assert_eq!(wait_for(None, quick).await, Ok(Ok(7)));
/// });
/// ```
pub fn wait_for<T: 'static>(
    timeout: impl Into<Option<Duration>>,
    task: JoinHandle<T>,
) -> WaitFor<T> {
    WaitFor {
        task: Some(task),
        timeout: timeout.into(),
        shared: Rc::new(WaitForShared {
            timer: Timer::new(None),
            expired: Cell::new(false),
        }),
        started: false,
        zero_at: None,
    }
}

struct WaitForShared {
    timer: Timer,
    expired: Cell<bool>,
}

/// The future of [`wait_for`].
#[must_use = "futures do nothing unless awaited; dropping a wait_for cancels its task"]
pub struct WaitFor<T> {
    task: Option<JoinHandle<T>>,
    timeout: Option<Duration>,
    shared: Rc<WaitForShared>,
    started: bool,
    zero_at: Option<Instant>,
}

impl<T> fmt::Debug for WaitFor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor")
            .field("timeout", &self.timeout)
            .field("expired", &self.shared.expired.get())
            .finish_non_exhaustive()
    }
}

impl<T> Unpin for WaitFor<T> {}

impl<T: 'static> Future for WaitFor<T> {
    type Output = Result<Result<T, JoinError>, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(task) = &mut this.task else {
            panic!("detsim: a wait_for was polled after it completed; await it only once");
        };
        if !this.started {
            this.started = true;
            match this.timeout {
                Some(d) if d.is_zero() && !task.is_finished() => {
                    task.cancel();
                    this.shared.expired.set(true);
                    this.zero_at = Some(now());
                }
                Some(d) if d.is_zero() => {}
                Some(d) => {
                    this.shared.timer.when.set(Some(now() + d));
                    let shared = this.shared.clone();
                    let cancel = task.cancel_handle();
                    this.shared.timer.arm(move || {
                        // asyncio's _on_timeout: the outer task's cancellation reaches the inner.
                        shared.expired.set(true);
                        cancel.cancel();
                    });
                }
                None => {}
            }
        }
        let r = match Pin::new(&mut *task).poll(cx) {
            Poll::Ready(r) => r,
            Poll::Pending => return Poll::Pending,
        };
        this.task = None;
        this.shared.timer.disarm();
        let when = this.shared.timer.when.get().or(this.zero_at);
        Poll::Ready(match r {
            Err(e) if e.is_cancelled() && this.shared.expired.get() => {
                Err(Elapsed::new(when.unwrap_or_default()))
            }
            other => Ok(other),
        })
    }
}

impl<T> Drop for WaitFor<T> {
    fn drop(&mut self) {
        self.shared.timer.disarm();
        if let Some(t) = self.task.take() {
            if !t.is_finished() && crate::runtime::try_with_core(|_| ()).is_some() {
                t.cancel();
            }
        }
    }
}

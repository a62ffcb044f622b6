//! Reschedulable timeout scopes ([`TimeoutScope`], asyncio's `asyncio.timeout`) and
//! [`wait_for`].
//!
//! # State machine
//!
//! A scope is `Created` until its future is first polled, then `Entered`. When the deadline
//! passes, a timer callback marks it `Expiring` and wakes the task; at the task's next step the
//! body is dropped (its `Drop` code runs then) and the scope is `Expired` and returns
//! [`Elapsed`]. If the body is inside a [`cancellable`](crate::task::cancellable) await when the
//! deadline passes, the expiry is instead delivered as a cancellation of the task (asyncio's
//! `_on_timeout` cancels the task): the body runs on, and when it ends the scope takes the
//! request back (`uncancel`); a body that re-raised it gives `Elapsed`, one that swallowed it
//! gives its value (asyncio's `Timeout.__aexit__`). A body that finishes first leaves it `Exited`; so does dropping the scope's future
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
use crate::base::TaskId;
use crate::combinators::call_soon;
use crate::runtime::Awaited;
use crate::task::{Builder, CancelHandle, JoinHandle};

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
            let h = crate::task::named!("timeout callback")
                .internal()
                .spawn(async move {
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
    /// The task running the body, and its `cancelling()` count when the scope was entered.
    task: Cell<Option<(TaskId, u32)>>,
    /// The expiry was delivered as a cancellation of the task (its body was inside a
    /// `cancellable` await), to be taken back when the body ends.
    delivered: Cell<bool>,
}

impl ScopeInner {
    fn arm(self: &Rc<Self>) {
        let me = self.clone();
        let generation = self.timer.generation.get() + 1;
        self.timer.arm(move || {
            if me.timer.generation.get() == generation && me.state.get() == State::Entered {
                me.state.set(State::Expiring);
                let coop = me.task.get().filter(|(t, _)| {
                    crate::runtime::with_core("detsim::time::timeout_scope", |c| c.in_coop(*t))
                });
                if let Some((t, _)) = coop {
                    // asyncio's _on_timeout: cancel the task; inside a `cancellable` await the
                    // body receives it and may swallow it.
                    me.delivered.set(true);
                    crate::runtime::with_core("detsim::time::timeout_scope", |c| {
                        c.request_cancel(t, None, crate::runtime::CancelKind::Cancel)
                    });
                    return;
                }
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
            task: Cell::new(None),
            delivered: Cell::new(false),
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
                let task = crate::runtime::try_with_core(|c| {
                    c.current_task().map(|t| (t, c.cancel_requests(t)))
                })
                .flatten();
                inner.task.set(task);
                inner.arm();
            }
            State::Entered => {}
            State::Expiring if inner.delivered.get() => {
                // The body received the expiry as a cancellation: it runs on until it ends.
                let Some(fut) = &mut self.fut else {
                    panic!("detsim: a scoped timeout was polled after it completed; await it once");
                };
                let r = fut.as_mut().poll(cx);
                let Some((task, floor)) = inner.task.get() else {
                    return Poll::Pending;
                };
                let exit = |c: &crate::runtime::Core| c.scope_exit(task, floor);
                let at = inner.timer.when.get().unwrap_or_default();
                return match r {
                    Poll::Ready(v) => {
                        // Swallowed: no timeout (asyncio raises TimeoutError only for a
                        // CancelledError reaching __aexit__).
                        self.fut = None;
                        inner.state.set(State::Expired);
                        crate::runtime::with_core("detsim::time::timeout_scope", exit);
                        Poll::Ready(Ok(v))
                    }
                    Poll::Pending => {
                        let propagating =
                            crate::runtime::with_core("detsim::time::timeout_scope", |c| {
                                c.cancel_requested(task)
                            });
                        if !propagating {
                            return Poll::Pending;
                        }
                        // Re-raised: the scope's own cancellation becomes its timeout, unless
                        // another one is pending.
                        if crate::runtime::with_core("detsim::time::timeout_scope", exit) {
                            self.fut = None;
                            inner.state.set(State::Expired);
                            Poll::Ready(Err(Elapsed::new(at)))
                        } else {
                            Poll::Pending
                        }
                    }
                };
            }
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

/// Waits for `fut` for at most `timeout` (`None`: no limit): `Ok(output)`, or `Err(Elapsed)` if
/// the deadline passed first (asyncio's `wait_for`, 3.12+).
///
/// `fut` is any future, awaited in the calling task as asyncio's `wait_for` awaits it. A task's
/// [`JoinHandle`](crate::JoinHandle) or a gather is awaited as the future it is (asyncio's
/// `ensure_future` passes futures through), so `Ok` then holds its outcome — for a handle, its
/// value or [`JoinError`](crate::JoinError). At the deadline, what the calling task awaits is
/// cancelled, as asyncio's timeout cancels its task and the cancellation travels down the await
/// chain: a task or gather it awaits is cancelled and **waited for**, so `Err(Elapsed)` comes back
/// only after its cancellation has run; any other future is dropped then. Dropping the
/// `wait_for` cancels an awaited task too.
///
/// With a zero timeout, a future that is not done is cancelled at once; a plain future is first
/// wrapped in a task (asyncio's `ensure_future`), which never runs.
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
///     // Any future.
///     let r = wait_for(Duration::from_secs(1), async { sleep(Duration::from_secs(2)).await; 1 });
///     assert!(r.await.is_err());
///     assert_eq!(now().to_string(), "1.1s");
/// });
/// ```
#[track_caller]
pub fn wait_for<F>(timeout: impl Into<Option<Duration>>, fut: F) -> WaitFor<F>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let timeout = timeout.into();
    let inner = if timeout.is_some_and(|d| d.is_zero()) && !passes_through::<F>() {
        // asyncio's wait_for(coro, 0): ensure_future wraps it in a task, which is cancelled
        // before it ever runs.
        Inner::Task(Builder::new().spawn(fut))
    } else {
        Inner::Future(Box::pin(fut))
    };
    WaitFor {
        inner: Some(inner),
        timeout,
        shared: Rc::new(WaitForShared {
            timer: Timer::new(None),
            expired: Cell::new(false),
            target: RefCell::new(None),
            waker: RefCell::new(None),
        }),
        started: false,
        zero_at: None,
    }
}

/// Whether `F` is one of detsim's futures that asyncio's `ensure_future` would pass through
/// unchanged (a task's handle, a gather). Decided from the type's name, computed from detsim's
/// own types so that it follows them if they move.
fn passes_through<F>() -> bool {
    fn stem<T>() -> &'static str {
        let n = std::any::type_name::<T>();
        &n[..n.find('<').unwrap_or(n.len())]
    }
    use crate::combinators::{Gather, GatherSettled, TryGather, TupleGather};
    let name = std::any::type_name::<F>();
    let base = &name[..name.find('<').unwrap_or(name.len())];
    [
        stem::<crate::JoinHandle<()>>(),
        stem::<Gather<()>>(),
        stem::<GatherSettled<()>>(),
        stem::<TryGather<(), ()>>(),
        stem::<TupleGather<()>>(),
    ]
    .contains(&base)
}

struct WaitForShared {
    timer: Timer,
    expired: Cell<bool>,
    /// What the waiting task was last suspended on, if a cancellation can follow it.
    target: RefCell<Option<Awaited>>,
    waker: RefCell<Option<Waker>>,
}

enum Inner<F: Future> {
    Future(Pin<Box<F>>),
    /// A plain future wrapped in a task for a zero timeout (`ensure_future`).
    Task(JoinHandle<F::Output>),
}

/// The future of [`wait_for`].
#[must_use = "futures do nothing unless awaited; dropping a wait_for cancels the task it awaits"]
pub struct WaitFor<F: Future> {
    inner: Option<Inner<F>>,
    timeout: Option<Duration>,
    shared: Rc<WaitForShared>,
    started: bool,
    zero_at: Option<Instant>,
}

impl<F: Future> fmt::Debug for WaitFor<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitFor")
            .field("timeout", &self.timeout)
            .field("expired", &self.shared.expired.get())
            .finish_non_exhaustive()
    }
}

impl<F: Future> Unpin for WaitFor<F> {}

impl<F: Future> WaitFor<F> {
    /// Polls the inner future; a wrapping task's cancellation or panic becomes the wait's.
    fn poll_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        match self.inner.as_mut() {
            Some(Inner::Future(f)) => f.as_mut().poll(cx).map(Some),
            Some(Inner::Task(h)) => Pin::new(h).poll(cx).map(|r| match r {
                Ok(v) => Some(v),
                Err(e) if e.is_cancelled() => None,
                Err(e) => panic!(
                    "the future under wait_for panicked: {}",
                    e.panic_message().unwrap_or("(no message)")
                ),
            }),
            None => panic!("detsim: a wait_for was polled after it completed; await it only once"),
        }
    }

    /// Cancels what the waiting task awaits (asyncio's timeout cancelling its task).
    fn expire(shared: &WaitForShared) {
        shared.expired.set(true);
        let target = shared.target.borrow().clone();
        let accepted = target.is_some_and(|t| {
            crate::runtime::with_core("detsim::time::wait_for", |c| c.cancel_awaited(&t, None))
        });
        if !accepted {
            // Nothing to wait for: the waiting task resumes and drops the future.
            *shared.target.borrow_mut() = None;
            let w = shared.waker.borrow_mut().take();
            if let Some(w) = w {
                w.wake();
            }
        }
    }
}

impl<F: Future> Future for WaitFor<F>
where
    F::Output: 'static,
{
    type Output = Result<F::Output, Elapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if !this.started {
            this.started = true;
            if let Some(d) = this.timeout.filter(|d| !d.is_zero()) {
                this.shared.timer.when.set(Some(now() + d));
                let shared = this.shared.clone();
                this.shared.timer.arm(move || Self::expire(&shared));
            }
        }
        if this.shared.expired.get() {
            // Wait until what was cancelled has ended, then drop the future (asyncio: the
            // cancellation reaches the awaiting code only then).
            let target = this.shared.target.borrow().clone();
            let ended = target.is_none_or(|t| {
                crate::runtime::with_core("detsim::time::wait_for", |c| c.awaited_done(&t))
            });
            if !ended {
                *this.shared.waker.borrow_mut() = Some(cx.waker().clone());
                return Poll::Pending;
            }
            this.inner = None;
            let when = this.shared.timer.when.get().or(this.zero_at);
            return Poll::Ready(Err(Elapsed::new(when.unwrap_or_default())));
        }
        match this.poll_inner(cx) {
            Poll::Ready(Some(v)) => {
                this.inner = None;
                this.shared.timer.disarm();
                return Poll::Ready(Ok(v));
            }
            Poll::Ready(None) => {
                // The wrapping task was cancelled (only a zero timeout or a cancellation of the
                // waiting task reaches it).
                this.inner = None;
                this.shared.timer.disarm();
                let when = this
                    .shared
                    .timer
                    .when
                    .get()
                    .or(this.zero_at)
                    .unwrap_or_default();
                return Poll::Ready(Err(Elapsed::new(when)));
            }
            Poll::Pending => {}
        }
        let target = crate::runtime::try_with_core(|c| c.awaited_by_current()).flatten();
        *this.shared.target.borrow_mut() = target;
        *this.shared.waker.borrow_mut() = Some(cx.waker().clone());
        if this.timeout.is_some_and(|d| d.is_zero()) {
            // asyncio's zero timeout: cancel what is not done, and wait for it.
            this.zero_at = Some(now());
            this.shared.expired.set(true);
            let target = this.shared.target.borrow().clone();
            let accepted = target.is_some_and(|t| {
                crate::runtime::with_core("detsim::time::wait_for", |c| c.cancel_awaited(&t, None))
            });
            if !accepted {
                this.inner = None;
                return Poll::Ready(Err(Elapsed::new(now())));
            }
        }
        Poll::Pending
    }
}

impl<F: Future> Drop for WaitFor<F> {
    fn drop(&mut self) {
        self.shared.timer.disarm();
        if self.inner.is_some() && !self.shared.expired.get() {
            let target = self.shared.target.borrow_mut().take();
            if let Some(t) = target {
                crate::runtime::try_with_core(|c| {
                    if !c.awaited_done(&t) {
                        c.cancel_awaited(&t, None);
                    }
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::passes_through;
    use crate::combinators::{Gather, GatherSettled, TryGather};

    /// `wait_for` awaits detsim's futures as they are and wraps only the others; this pins the
    /// type-name test that tells them apart.
    #[test]
    fn futures_asyncio_passes_through_are_recognised() {
        assert!(passes_through::<crate::JoinHandle<String>>());
        assert!(passes_through::<Gather<Vec<u8>>>());
        assert!(passes_through::<GatherSettled<u8>>());
        assert!(passes_through::<TryGather<u8, String>>());
        assert!(!passes_through::<std::future::Ready<u8>>());
        assert!(!passes_through::<crate::time::Sleep>());
        assert!(!passes_through::<
            std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
        >());
    }
}

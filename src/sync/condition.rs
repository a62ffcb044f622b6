//! [`Condition`]: asyncio's `Condition` (`Lib/asyncio/locks.py`), with the lock proven by a guard.
//!
//! # Invariants
//!
//! * `wait` takes the lock's guard, releases the lock, waits to be notified, and returns a guard
//!   again: it always returns with the lock held.
//! * `notify(n)` wakes the first `n` waiters that are not done, in FIFO order; woken waiters then
//!   queue on the lock behind tasks already waiting for it.
//! * A `wait` future dropped before it returns — notified or not, while waiting or while
//!   re-acquiring — passes one notification on (asyncio 3.13, gh-112202), so no wakeup is lost.
//!   Spurious wakeups are allowed, as in asyncio.
//!
//! * `wait_timeout` that times out, and `wait_cancellable` that is cancelled, re-acquire the lock
//!   and hand the guard back with the timeout or the cancellation, as asyncio's `wait`
//!   re-acquires before the exception reaches the caller, and pass a notification on.
//!
//! Rust difference: a dropped `wait` cannot re-acquire the lock (a drop cannot await), so the lock
//! is not held after a cancelled `wait`; the caller's guard was moved into `wait` and is gone.
//! Bound the wait with [`Condition::wait_timeout`] (not `timeout(cond.wait(g))`) to keep it.

use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::lock::{Acquire, Lock, LockGuard};
use super::resource::Resource;
use super::waiters::{Key, Waiters, wake_all};
use crate::runtime::HolderChange;
use crate::task::Cancelled;
use crate::time::{Duration, Elapsed, Sleep, sleep};

struct Inner {
    waiters: RefCell<Waiters>,
    res: Resource,
}

impl Inner {
    fn notify(&self, n: usize) {
        let ws = self.waiters.borrow_mut().notify_n(n);
        self.res.op("notify", HolderChange::None);
        wake_all(ws);
    }
}

/// A condition variable with its [`Lock`] (asyncio's `Condition`).
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use detsim::sync::Condition;
/// detsim::run(async {
///     let cond = Condition::new();
///     let ready = Rc::new(Cell::new(false));
///     let (c2, r2) = (cond.clone(), ready.clone());
///     let waiter = detsim::spawn(async move {
///         let g = c2.acquire().await;
///         let _g = c2.wait_for(g, || r2.get()).await;
///         "saw it"
///     });
///     detsim::yield_now().await;
///     let g = cond.acquire().await;
///     ready.set(true);
///     cond.notify(1);
///     drop(g);
///     assert_eq!(waiter.await.unwrap(), "saw it");
/// });
/// ```
#[derive(Clone)]
pub struct Condition {
    lock: Lock,
    inner: Rc<Inner>,
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("name", &self.inner.res.name())
            .field("locked", &self.locked())
            .field("waiters", &self.waiter_count())
            .finish()
    }
}

impl Condition {
    /// A condition with a new lock.
    pub fn new() -> Condition {
        Condition::with_lock(Lock::with_kind("Condition lock", None))
    }

    /// A named condition (its lock has the same name), for traces and deadlock reports.
    pub fn named(name: impl Into<String>) -> Condition {
        let name: Rc<str> = Rc::from(name.into());
        let lock = Lock::with_kind("Condition lock", Some(name.clone()));
        Condition {
            lock,
            inner: Rc::new(Inner {
                waiters: RefCell::new(Waiters::default()),
                res: Resource::new("Condition", Some(name)),
            }),
        }
    }

    /// A condition on an existing lock (asyncio's `Condition(lock)`).
    pub fn with_lock(lock: Lock) -> Condition {
        Condition::with_lock_kind(lock, "Condition")
    }

    /// A condition on `lock` reported as `kind` (a primitive built on a condition).
    pub(crate) fn with_lock_kind(lock: Lock, kind: &'static str) -> Condition {
        let name = lock.inner.res.name().map(Rc::from);
        Condition {
            lock,
            inner: Rc::new(Inner {
                waiters: RefCell::new(Waiters::default()),
                res: Resource::new(kind, name),
            }),
        }
    }

    /// Acquires the condition's lock.
    pub fn acquire(&self) -> Acquire {
        self.lock.acquire()
    }

    /// Whether the condition's lock is held.
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// The condition's lock.
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// Queued wait futures, including notified ones that have not resumed yet.
    pub fn waiter_count(&self) -> usize {
        self.inner.waiters.borrow().len()
    }

    /// Releases the lock, waits until notified, re-acquires the lock and returns its guard.
    ///
    /// # Panics
    ///
    /// If `guard` holds another lock than this condition's.
    pub fn wait(&self, guard: LockGuard) -> Wait {
        assert!(
            self.lock.same(guard.lock_inner()),
            "Condition::wait was given the guard of another Lock; pass the guard returned by \
             this condition's acquire()"
        );
        Wait {
            cond: self.clone(),
            state: WaitState::Start(Some(guard)),
            timer: None,
            timed_out: false,
            coop: None,
            cancelled: None,
        }
    }

    /// [`wait`](Condition::wait) as a [`cancellable`](crate::task::cancellable) await that keeps
    /// the lock: `Ok(guard)` if notified, or, if the task is cancelled while waiting,
    /// `Err((guard, Cancelled))` **with the lock re-acquired** — asyncio's `wait` leaves the queue,
    /// re-acquires the lock and passes a notification on before re-raising `CancelledError`.
    ///
    /// # Panics
    ///
    /// If `guard` holds another lock than this condition's; outside a detsim task.
    ///
    /// ```
    /// use detsim::sync::Condition;
    /// detsim::run(async {
    ///     let cond = Condition::new();
    ///     let c2 = cond.clone();
    ///     let t = detsim::spawn(async move {
    ///         let g = c2.acquire().await;
    ///         let (g, cancelled) = c2.wait_cancellable(g).await.unwrap_err();
    ///         assert!(c2.locked()); // held again, by `g`
    ///         drop(g);
    ///         cancelled.propagate::<()>().await;
    ///     });
    ///     detsim::yield_now().await;
    ///     t.cancel();
    ///     assert!(t.await.unwrap_err().is_cancelled());
    ///     assert!(!cond.locked());
    /// });
    /// ```
    pub fn wait_cancellable(&self, guard: LockGuard) -> WaitCancellable {
        let mut w = self.wait(guard);
        let task = crate::runtime::with_core("Condition::wait_cancellable", |c| {
            let t = c
                .current_task()
                .expect("Condition::wait_cancellable called while no task is running");
            c.coop_enter(t);
            t
        });
        w.coop = Some(task);
        WaitCancellable { wait: w }
    }

    /// [`wait`](Condition::wait) for at most `timeout`: `Ok(guard)` if notified, or, when the
    /// time runs out first, `Err((guard, Elapsed))` **with the lock re-acquired**, as asyncio's
    /// `wait` re-acquires the lock before `wait_for`'s timeout reaches its caller (bpo-33638), and
    /// passes a notification on (gh-112202). The caller never loses the lock silently. With a
    /// zero timeout the lock is never released (asyncio's `wait_for(cond.wait(), 0)` cancels the
    /// wait before it runs).
    ///
    /// # Panics
    ///
    /// If `guard` holds another lock than this condition's.
    ///
    /// ```
    /// use detsim::{sync::Condition, time::{now, Duration}};
    /// detsim::run(async {
    ///     let cond = Condition::new();
    ///     let g = cond.acquire().await;
    ///     let (g, elapsed) = cond.wait_timeout(g, Duration::from_millis(500)).await.unwrap_err();
    ///     assert!(cond.locked()); // held again, by `g`
    ///     assert_eq!(now().to_string(), "0.5s");
    ///     assert_eq!(elapsed.deadline().to_string(), "0.5s");
    ///     drop(g);
    /// });
    /// ```
    pub fn wait_timeout(&self, guard: LockGuard, timeout: Duration) -> WaitTimeout {
        let mut w = self.wait(guard);
        w.timer = Some(sleep(timeout));
        WaitTimeout {
            wait: w,
            zero: timeout.is_zero(),
        }
    }

    /// asyncio's `wait_for`: waits until `pred()` is true, checking it first and after every
    /// wakeup; returns the guard.
    pub async fn wait_for(
        &self,
        mut guard: LockGuard,
        mut pred: impl FnMut() -> bool,
    ) -> LockGuard {
        while !pred() {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes the first `n` waiting tasks (those not woken already), in FIFO order. They resume
    /// once they re-acquire the lock.
    ///
    /// # Panics
    ///
    /// If the lock is not held (asyncio raises `RuntimeError`).
    pub fn notify(&self, n: usize) {
        assert!(
            self.locked(),
            "Condition::notify called without holding the condition's lock; acquire it first \
             (let guard = cond.acquire().await)"
        );
        self.inner.notify(n);
    }

    /// Wakes every waiting task; see [`notify`](Condition::notify).
    ///
    /// # Panics
    ///
    /// If the lock is not held.
    pub fn notify_all(&self) {
        assert!(
            self.locked(),
            "Condition::notify_all called without holding the condition's lock; acquire it \
             first (let guard = cond.acquire().await)"
        );
        self.inner.notify(usize::MAX);
    }

    /// `notify_all` without the lock check, for primitives built on a condition.
    pub(crate) fn notify_all_unchecked(&self) {
        self.inner.notify(usize::MAX);
    }
}

enum WaitState {
    Start(Option<LockGuard>),
    Waiting(Key),
    Relocking(Acquire),
    Done,
}

/// The future returned by [`Condition::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait {
    cond: Condition,
    state: WaitState,
    /// The deadline of a [`Condition::wait_timeout`].
    timer: Option<Sleep>,
    timed_out: bool,
    /// The task of a [`Condition::wait_cancellable`], inside its cancellable await.
    coop: Option<crate::base::TaskId>,
    /// The cancellation it received.
    cancelled: Option<Cancelled>,
}

impl Wait {
    /// Ends the cancellable await of a [`Condition::wait_cancellable`].
    fn leave_coop(&mut self) {
        if let Some(t) = self.coop.take() {
            crate::runtime::try_with_core(|c| c.coop_leave(t));
        }
    }
}

/// The future returned by [`Condition::wait_cancellable`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitCancellable {
    wait: Wait,
}

impl fmt::Debug for WaitCancellable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitCancellable").finish_non_exhaustive()
    }
}

impl Future for WaitCancellable {
    type Output = Result<LockGuard, (LockGuard, Cancelled)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let w = &mut self.wait;
        Pin::new(&mut *w).poll(cx).map(|g| {
            if let Some(t) = w.coop {
                // A cancellation that arrived while re-acquiring is the one re-raised.
                if let Some(m) = crate::runtime::with_core("Condition::wait", |c| c.coop_take(t)) {
                    w.cancelled = Some(Cancelled::new(m));
                }
            }
            w.leave_coop();
            match w.cancelled.take() {
                Some(c) => Err((g, c)),
                None => Ok(g),
            }
        })
    }
}

/// The future returned by [`Condition::wait_timeout`].
#[must_use = "futures do nothing unless awaited"]
pub struct WaitTimeout {
    wait: Wait,
    zero: bool,
}

impl fmt::Debug for WaitTimeout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WaitTimeout").finish_non_exhaustive()
    }
}

impl Future for WaitTimeout {
    type Output = Result<LockGuard, (LockGuard, Elapsed)>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let zero = self.zero;
        let w = &mut self.wait;
        if let (true, WaitState::Start(g)) = (zero, &mut w.state) {
            // Never released: the wait was cancelled before it ran.
            let g = g
                .take()
                .expect("detsim: Condition::wait_timeout polled after it returned");
            w.state = WaitState::Done;
            return Poll::Ready(Err((g, Elapsed::new(crate::time::now()))));
        }
        Pin::new(&mut *w).poll(cx).map(|g| {
            if w.timed_out {
                let at = w
                    .timer
                    .as_ref()
                    .and_then(|t| t.deadline())
                    .unwrap_or_default();
                Err((g, Elapsed::new(at)))
            } else {
                Ok(g)
            }
        })
    }
}

impl fmt::Debug for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}

impl Future for Wait {
    type Output = LockGuard;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                WaitState::Start(g) => {
                    drop(g.take());
                    let key = this.cond.inner.waiters.borrow_mut().push(1, cx.waker());
                    this.cond.inner.res.op("wait", HolderChange::None);
                    this.state = WaitState::Waiting(key);
                    if let Some(t) = &mut this.timer {
                        // Arms the deadline (a zero one never reaches here).
                        let _ = Pin::new(t).poll(cx);
                    }
                    this.cond.inner.res.block();
                    return Poll::Pending;
                }
                WaitState::Waiting(key) => {
                    let key = *key;
                    let delivered = this.coop.and_then(|t| {
                        crate::runtime::with_core("Condition::wait", |c| c.coop_take(t))
                    });
                    if let Some(m) = delivered {
                        // asyncio: the cancelled wait leaves the queue, re-acquires the lock,
                        // then notifies another waiter in its place and re-raises.
                        this.cond.inner.waiters.borrow_mut().remove(key);
                        this.cancelled = Some(Cancelled::new(m));
                        this.timed_out = true; // passes the notification on once relocked
                        this.state = WaitState::Relocking(this.cond.lock.acquire());
                        continue;
                    }
                    let mut ws = this.cond.inner.waiters.borrow_mut();
                    if ws.is_notified(key) != Some(true) {
                        let expired = this
                            .timer
                            .as_mut()
                            .is_some_and(|t| Pin::new(t).poll(cx).is_ready());
                        if expired {
                            // asyncio: the cancelled wait leaves the queue, re-acquires the
                            // lock, then notifies another waiter in its place.
                            ws.remove(key);
                            drop(ws);
                            this.timed_out = true;
                            this.state = WaitState::Relocking(this.cond.lock.acquire());
                            continue;
                        }
                        ws.set_waker(key, cx.waker());
                        drop(ws);
                        this.cond.inner.res.block();
                        return Poll::Pending;
                    }
                    ws.remove(key);
                    drop(ws);
                    this.state = WaitState::Relocking(this.cond.lock.acquire());
                }
                WaitState::Relocking(acq) => match Pin::new(acq).poll(cx) {
                    Poll::Ready(g) => {
                        this.state = WaitState::Done;
                        if this.timed_out {
                            this.cond.inner.notify(1);
                        }
                        return Poll::Ready(g);
                    }
                    Poll::Pending => return Poll::Pending,
                },
                WaitState::Done => panic!("Condition::wait polled after it returned"),
            }
        }
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        self.leave_coop();
        match std::mem::replace(&mut self.state, WaitState::Done) {
            WaitState::Waiting(key) => {
                self.cond.inner.waiters.borrow_mut().remove(key);
                // gh-112202: pass a notification this waiter may have consumed on.
                self.cond.inner.notify(1);
            }
            WaitState::Relocking(acq) => {
                drop(acq);
                self.cond.inner.notify(1);
            }
            WaitState::Start(_) | WaitState::Done => {}
        }
    }
}

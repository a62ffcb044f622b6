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
//! Rust difference: a dropped `wait` cannot re-acquire the lock (a drop cannot await), so the lock
//! is not held after a cancelled `wait`; the caller's guard was moved into `wait` and is gone.

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
                    this.cond.inner.res.block();
                    return Poll::Pending;
                }
                WaitState::Waiting(key) => {
                    let key = *key;
                    let mut ws = this.cond.inner.waiters.borrow_mut();
                    if ws.is_notified(key) != Some(true) {
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

//! [`Lock`]: asyncio's `Lock` (`Lib/asyncio/locks.py`), with a guard that releases on drop.
//!
//! # Invariants
//!
//! * `acquire` completes without suspending iff the lock is free and every queued waiter is
//!   cancelled (state b); otherwise it queues, FIFO.
//! * `release` wakes at most the head waiter, and only if it is not done already: exactly one task
//!   is woken per release, there is no direct hand-off (`locked()` is `false` until the woken
//!   waiter resumes), and a newcomer cannot barge past a woken waiter.
//! * A queued acquire dropped while the lock is free wakes the next waiter (bpo-27585): a woken
//!   waiter that is cancelled passes the lock on, and so does a cancelled head.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::resource::Resource;
use super::waiters::{Key, Waiters};
use crate::base::TaskId;
use crate::runtime::HolderChange;

pub(crate) struct LockInner {
    locked: Cell<bool>,
    holder: Cell<Option<TaskId>>,
    waiters: RefCell<Waiters>,
    pub(crate) res: Resource,
}

impl LockInner {
    #[inline]
    fn take(&self) {
        self.locked.set(true);
        self.holder.set(self.res.op("acquire", HolderChange::Add));
    }

    #[inline]
    fn release(&self) {
        if !self.locked.get() {
            panic!(
                "released a Lock that is not locked (asyncio: RuntimeError 'Lock is not \
                 acquired'); release a lock only once, by dropping the guard acquire() returned"
            );
        }
        self.locked.set(false);
        let change = match self.holder.take() {
            Some(t) => HolderChange::Remove(t),
            None => HolderChange::None,
        };
        self.res.op("release", change);
        self.wake_up_first();
    }

    /// Lock's `_wake_up_first`; the empty queue's answer is inlined.
    #[inline]
    fn wake_up_first(&self) {
        if self.waiters.borrow().len() > 0 {
            self.wake_up_first_slow();
        }
    }

    #[inline(never)]
    fn wake_up_first_slow(&self) {
        let w = self.waiters.borrow_mut().notify_head();
        if let Some(w) = w {
            self.res.op("wake", HolderChange::None);
            w.wake();
        }
    }
}

/// A mutual-exclusion lock without data, with asyncio's `Lock` semantics: FIFO, not re-entrant,
/// not owned by a task (the guard may be dropped by another task).
///
/// Cloning gives another handle to the same lock.
///
/// ```
/// use detsim::sync::Lock;
/// detsim::run(async {
///     let lock = Lock::new();
///     let guard = lock.acquire().await; // free: does not suspend
///     assert!(lock.locked());
///     drop(guard);
///     assert!(!lock.locked());
/// });
/// ```
#[derive(Clone)]
pub struct Lock {
    pub(crate) inner: Rc<LockInner>,
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("name", &self.inner.res.name())
            .field("locked", &self.locked())
            .field("waiters", &self.waiter_count())
            .finish()
    }
}

impl Lock {
    /// A free, unnamed lock.
    pub fn new() -> Lock {
        Lock::with_kind("Lock", None)
    }

    /// A free lock with a name, shown in traces and deadlock reports (`Lock "account b"`).
    pub fn named(name: impl Into<String>) -> Lock {
        Lock::with_kind("Lock", Some(Rc::from(name.into())))
    }

    pub(crate) fn with_kind(kind: &'static str, name: Option<Rc<str>>) -> Lock {
        Lock {
            inner: Rc::new(LockInner {
                locked: Cell::new(false),
                holder: Cell::new(None),
                waiters: RefCell::new(Waiters::default()),
                res: Resource::new(kind, name),
            }),
        }
    }

    /// Acquires the lock; the guard releases it when dropped. Completes without suspending when
    /// the lock is free and no live task waits for it. Dropping the future while it waits leaves
    /// the queue, passing the lock on if it had been granted.
    #[inline]
    pub fn acquire(&self) -> Acquire {
        Acquire {
            lock: Some(self.inner.clone()),
            key: None,
        }
    }

    /// Whether the lock is held.
    #[inline]
    pub fn locked(&self) -> bool {
        self.inner.locked.get()
    }

    /// Queued acquire futures, including woken ones that have not resumed yet (asyncio's
    /// `len(lock._waiters)`), for tests and diagnostics.
    pub fn waiter_count(&self) -> usize {
        self.inner.waiters.borrow().len()
    }

    /// asyncio's unowned `release()`: releases the lock whoever acquired it. Use it together with
    /// [`LockGuard::forget`]; normally dropping the guard releases.
    ///
    /// # Panics
    ///
    /// If the lock is not locked (asyncio raises `RuntimeError`).
    ///
    /// ```
    /// use detsim::sync::Lock;
    /// detsim::run(async {
    ///     let lock = Lock::new();
    ///     lock.acquire().await.forget();
    ///     assert!(lock.locked());
    ///     lock.release();
    ///     assert!(!lock.locked());
    /// });
    /// ```
    #[inline]
    pub fn release(&self) {
        self.inner.release();
    }

    pub(crate) fn same(&self, other: &Rc<LockInner>) -> bool {
        Rc::ptr_eq(&self.inner, other)
    }
}

/// The future returned by [`Lock::acquire`].
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire {
    /// Moved into the guard on success.
    lock: Option<Rc<LockInner>>,
    key: Option<Key>,
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("queued", &self.key.is_some())
            .finish()
    }
}

impl Future for Acquire {
    type Output = LockGuard;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard> {
        let this = &mut *self;
        let lock = this
            .lock
            .as_ref()
            .expect("Lock::acquire polled after it returned");
        match this.key {
            None => {
                let mut ws = lock.waiters.borrow_mut();
                if !lock.locked.get() && ws.all_cancelled() {
                    drop(ws);
                    lock.take();
                    return Poll::Ready(LockGuard {
                        lock: this.lock.take(),
                    });
                }
                this.key = Some(ws.push(1, cx.waker()));
            }
            Some(key) => {
                let mut ws = lock.waiters.borrow_mut();
                if ws.is_notified(key) == Some(true) {
                    ws.remove(key);
                    drop(ws);
                    this.key = None;
                    lock.take();
                    return Poll::Ready(LockGuard {
                        lock: this.lock.take(),
                    });
                }
                ws.set_waker(key, cx.waker());
            }
        }
        lock.res.block();
        Poll::Pending
    }
}

impl Drop for Acquire {
    #[inline]
    fn drop(&mut self) {
        if let (Some(key), Some(lock)) = (self.key.take(), &self.lock) {
            lock.waiters.borrow_mut().remove(key);
            if !lock.locked.get() {
                lock.wake_up_first();
            }
        }
    }
}

/// Holds a [`Lock`]; dropping it releases the lock (in whichever task drops it).
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard {
    lock: Option<Rc<LockInner>>,
}

impl fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}

impl LockGuard {
    /// Keeps the lock locked without a guard; release it later with [`Lock::release`].
    pub fn forget(mut self) {
        self.lock = None;
    }

    pub(crate) fn lock_inner(&self) -> &Rc<LockInner> {
        self.lock.as_ref().expect("a live guard holds its lock")
    }
}

impl Drop for LockGuard {
    #[inline]
    fn drop(&mut self) {
        if let Some(l) = self.lock.take() {
            l.release();
        }
    }
}

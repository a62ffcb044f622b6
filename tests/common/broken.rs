//! Deliberately broken copies of two asyncio primitives, written on public APIs only (`std`
//! wakers, `Rc`, `RefCell`), each with a historical CPython bug put back in. They run on any
//! single-threaded executor; the demonstrations run them under detsim to show the explorer finding
//! the bug, and run detsim's own [`Lock`](detsim::sync::Lock) and
//! [`Semaphore`](detsim::sync::Semaphore) through the same programs to show they do not have it.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// A queued acquire: asyncio's waiter future. `done` is `fut.done()`: set when it is woken
/// (`set_result`) or abandoned (cancelled).
#[derive(Default)]
struct Waiter {
    done: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Waiter {
    fn register(&self, cx: &Context<'_>) {
        *self.waker.borrow_mut() = Some(cx.waker().clone());
    }

    fn wake(&self) {
        self.done.set(true);
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

// ----- bpo-27585 ------------------------------------------------------------------------------

/// asyncio's `Lock` before bpo-27585 was fixed (Python ≤ 3.5): `release` wakes the first waiter,
/// but a woken waiter that is cancelled before it resumes **does not pass the wakeup on**. The lock
/// is then free, other tasks are queued, and nobody will ever wake them.
#[derive(Clone, Default)]
pub struct BrokenLock {
    inner: Rc<LockInner>,
}

#[derive(Default)]
struct LockInner {
    locked: Cell<bool>,
    waiters: RefCell<VecDeque<Rc<Waiter>>>,
}

impl LockInner {
    fn release(&self) {
        assert!(self.locked.get(), "BrokenLock released while not locked");
        self.locked.set(false);
        // Wake the first waiter that is not done yet.
        let first = self
            .waiters
            .borrow()
            .iter()
            .find(|w| !w.done.get())
            .cloned();
        if let Some(w) = first {
            w.wake();
        }
    }
}

impl BrokenLock {
    /// A free lock.
    pub fn new() -> BrokenLock {
        BrokenLock::default()
    }

    /// Acquires the lock; the guard releases it when dropped.
    pub fn acquire(&self) -> BrokenLockAcquire {
        BrokenLockAcquire {
            lock: self.inner.clone(),
            waiter: None,
        }
    }
}

/// The future of [`BrokenLock::acquire`].
pub struct BrokenLockAcquire {
    lock: Rc<LockInner>,
    waiter: Option<Rc<Waiter>>,
}

impl Future for BrokenLockAcquire {
    type Output = BrokenLockGuard;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BrokenLockGuard> {
        let this = &mut *self;
        match &this.waiter {
            None => {
                if !this.lock.locked.get() && this.lock.waiters.borrow().is_empty() {
                    this.lock.locked.set(true);
                    return Poll::Ready(BrokenLockGuard(this.lock.clone()));
                }
                let w = Rc::new(Waiter::default());
                w.register(cx);
                this.lock.waiters.borrow_mut().push_back(w.clone());
                this.waiter = Some(w);
                Poll::Pending
            }
            Some(w) if w.done.get() => {
                let w = this.waiter.take().unwrap();
                this.lock
                    .waiters
                    .borrow_mut()
                    .retain(|x| !Rc::ptr_eq(x, &w));
                this.lock.locked.set(true);
                Poll::Ready(BrokenLockGuard(this.lock.clone()))
            }
            Some(w) => {
                w.register(cx);
                Poll::Pending
            }
        }
    }
}

impl Drop for BrokenLockAcquire {
    /// Cancellation: leave the queue. THE BUG: a waiter that had already been woken (the lock is
    /// free and was meant for it) just leaves; the fix (bpo-27585) wakes the next waiter here.
    fn drop(&mut self) {
        if let Some(w) = self.waiter.take() {
            w.done.set(true);
            self.lock
                .waiters
                .borrow_mut()
                .retain(|x| !Rc::ptr_eq(x, &w));
        }
    }
}

/// Holds a [`BrokenLock`]; releases it when dropped.
pub struct BrokenLockGuard(Rc<LockInner>);

impl Drop for BrokenLockGuard {
    fn drop(&mut self) {
        self.0.release();
    }
}

// ----- gh-90155 -------------------------------------------------------------------------------

/// asyncio's `Semaphore` as of Python 3.10.9 / 3.11.0, with the `_wakeup_scheduled` flag of
/// gh-90155:
///
/// ```python
/// async def acquire(self):
///     while self._wakeup_scheduled or self._value <= 0:
///         fut = self._get_loop().create_future()
///         self._waiters.append(fut)
///         try:
///             await fut
///             self._wakeup_scheduled = False
///         except exceptions.CancelledError:
///             self._wake_up_next()
///             raise
///     self._value -= 1
///
/// def _wake_up_next(self):
///     while self._waiters:
///         waiter = self._waiters.popleft()
///         if not waiter.done():
///             waiter.set_result(None)
///             self._wakeup_scheduled = True
///             return
/// ```
///
/// A waiter woken by `release` and cancelled before it resumes never clears the flag, and with
/// nobody else queued nothing does: every later `acquire` blocks forever, although units are free.
#[derive(Clone)]
pub struct BrokenSemaphore {
    inner: Rc<SemInner>,
}

struct SemInner {
    value: Cell<usize>,
    wakeup_scheduled: Cell<bool>,
    waiters: RefCell<VecDeque<Rc<Waiter>>>,
}

impl SemInner {
    fn wake_up_next(&self) {
        loop {
            let next = self.waiters.borrow_mut().pop_front();
            match next {
                None => return,
                Some(w) if w.done.get() => continue,
                Some(w) => {
                    w.wake();
                    self.wakeup_scheduled.set(true);
                    return;
                }
            }
        }
    }

    fn release(&self) {
        self.value.set(self.value.get() + 1);
        self.wake_up_next();
    }
}

impl BrokenSemaphore {
    /// A semaphore with `value` units.
    pub fn new(value: usize) -> BrokenSemaphore {
        BrokenSemaphore {
            inner: Rc::new(SemInner {
                value: Cell::new(value),
                wakeup_scheduled: Cell::new(false),
                waiters: RefCell::new(VecDeque::new()),
            }),
        }
    }

    /// Waits for a unit; the permit gives it back when dropped.
    pub fn acquire(&self) -> BrokenSemaphoreAcquire {
        BrokenSemaphoreAcquire {
            sem: self.inner.clone(),
            waiter: None,
        }
    }
}

/// The future of [`BrokenSemaphore::acquire`].
pub struct BrokenSemaphoreAcquire {
    sem: Rc<SemInner>,
    waiter: Option<Rc<Waiter>>,
}

impl Future for BrokenSemaphoreAcquire {
    type Output = BrokenSemaphorePermit;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BrokenSemaphorePermit> {
        let this = &mut *self;
        if let Some(w) = &this.waiter {
            if !w.done.get() {
                w.register(cx);
                return Poll::Pending;
            }
            // `await fut` returned: reset the flag, then loop.
            this.waiter = None;
            this.sem.wakeup_scheduled.set(false);
        }
        let sem = &this.sem;
        if sem.wakeup_scheduled.get() || sem.value.get() == 0 {
            let w = Rc::new(Waiter::default());
            w.register(cx);
            sem.waiters.borrow_mut().push_back(w.clone());
            this.waiter = Some(w);
            return Poll::Pending;
        }
        sem.value.set(sem.value.get() - 1);
        Poll::Ready(BrokenSemaphorePermit(sem.clone()))
    }
}

impl Drop for BrokenSemaphoreAcquire {
    /// Cancellation (`except CancelledError`): the waiter future is abandoned and the next waiter
    /// woken — but `_wakeup_scheduled` is left as it is. That is the bug.
    fn drop(&mut self) {
        if let Some(w) = self.waiter.take() {
            w.done.set(true);
            self.sem.wake_up_next();
        }
    }
}

/// One unit of a [`BrokenSemaphore`].
pub struct BrokenSemaphorePermit(Rc<SemInner>);

impl Drop for BrokenSemaphorePermit {
    fn drop(&mut self) {
        self.0.release();
    }
}

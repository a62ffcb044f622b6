//! [`Semaphore`] and [`BoundedSemaphore`]: asyncio 3.13's semaphores (`Lib/asyncio/locks.py`), on a
//! weighted core that [`RwLock`](super::RwLock) shares.
//!
//! # Invariants
//!
//! * `value` never goes below 0, and a bounded semaphore's never exceeds its bound.
//! * The semaphore is *locked* for a request of `n` units iff `value < n` or a live (not
//!   cancelled) waiter is queued: newcomers queue behind woken waiters (bpo-45997).
//! * Waking a waiter reserves its units at wake time (`value -= n` before the wake), so a woken
//!   waiter always finds its units (gh-90155). A waiter dropped after its wake (state d) gives
//!   them back.
//! * A waiter that resumes, or is dropped, wakes as many further waiters as `value` allows
//!   (gh-111693); `release` wakes the first one.
//! * Waiters are woken strictly in FIFO order: a waiter asking for more units than are available
//!   is not passed by a later, smaller one.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::errors::SemaphoreOverRelease;
use super::resource::Resource;
use super::waiters::{Key, Waiters};
use crate::base::TaskId;
use crate::runtime::HolderChange;

pub(crate) struct SemInner {
    value: Cell<usize>,
    bound: Option<usize>,
    waiters: RefCell<Waiters>,
    pub(crate) res: Resource,
}

impl SemInner {
    pub(crate) fn new(value: usize, bound: Option<usize>, res: Resource) -> Rc<SemInner> {
        Rc::new(SemInner {
            value: Cell::new(value),
            bound,
            waiters: RefCell::new(Waiters::default()),
            res,
        })
    }

    #[inline]
    pub(crate) fn value(&self) -> usize {
        self.value.get()
    }

    /// asyncio's `locked()`, for a request of `n` units.
    #[inline]
    pub(crate) fn locked_for(&self, n: usize) -> bool {
        self.value.get() < n || self.waiters.borrow().any_live()
    }

    /// `_wake_up_next`: wakes the first waiter that is not done, reserving its units.
    #[inline]
    fn wake_up_next(&self) -> bool {
        let r = self
            .waiters
            .borrow_mut()
            .notify_first_fitting(self.value.get());
        match r {
            Some((n, w)) => {
                self.value.set(self.value.get() - n);
                self.res.op("wake", HolderChange::None);
                w.wake();
                true
            }
            None => false,
        }
    }

    fn wake_while_available(&self) {
        while self.value.get() > 0 {
            if !self.wake_up_next() {
                break;
            }
        }
    }

    /// Adds `n` units and wakes waiters (one, as asyncio, when `n == 1`).
    #[inline]
    pub(crate) fn add(&self, n: usize) {
        self.value.set(self.value.get() + n);
        if self.wake_up_next() && n > 1 {
            self.wake_while_available();
        }
    }

    #[inline]
    pub(crate) fn acquire(self: &Rc<Self>, n: usize) -> AcquireMany {
        AcquireMany {
            sem: self.clone(),
            n,
            key: None,
        }
    }

    #[inline]
    fn granted(&self, n: usize) -> RawPermit {
        let task = self.res.op("acquire", HolderChange::Add);
        RawPermit { n, task }
    }

    #[inline]
    pub(crate) fn release_permit(&self, p: &RawPermit) {
        if let Some(b) = self.bound {
            if self.value.get() + p.n > b && !std::thread::panicking() {
                panic!(
                    "a {} permit was released while the semaphore was already at its bound {b}: \
                     an unowned release() gave back a unit that a permit still held; release \
                     only what was acquired",
                    self.res.kind_name()
                );
            }
        }
        let change = match p.task {
            Some(t) => HolderChange::Remove(t),
            None => HolderChange::None,
        };
        self.res.op("release", change);
        self.add(p.n);
    }

    pub(crate) fn forget_permit(&self, p: &RawPermit) {
        if let Some(t) = p.task {
            self.res.op("forget", HolderChange::Remove(t));
        }
    }
}

/// What a granted acquire holds: its units and the task that acquired them (for reports).
#[derive(Debug)]
pub(crate) struct RawPermit {
    pub(crate) n: usize,
    task: Option<TaskId>,
}

/// Acquires `n` units of a [`SemInner`].
pub(crate) struct AcquireMany {
    sem: Rc<SemInner>,
    n: usize,
    key: Option<Key>,
}

impl Future for AcquireMany {
    type Output = RawPermit;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<RawPermit> {
        let sem = self.sem.clone();
        let n = self.n;
        match self.key {
            None => {
                if !sem.locked_for(n) {
                    sem.value.set(sem.value.get() - n);
                    return Poll::Ready(sem.granted(n));
                }
                self.key = Some(sem.waiters.borrow_mut().push(n, cx.waker()));
            }
            Some(key) => {
                let mut ws = sem.waiters.borrow_mut();
                if ws.is_notified(key) == Some(true) {
                    ws.remove(key);
                    drop(ws);
                    self.key = None;
                    let p = sem.granted(n);
                    sem.wake_while_available();
                    return Poll::Ready(p);
                }
                ws.set_waker(key, cx.waker());
            }
        }
        sem.res.block();
        Poll::Pending
    }
}

impl Drop for AcquireMany {
    #[inline]
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let notified = self.sem.waiters.borrow_mut().remove(key);
            if notified == Some(true) {
                // State (d): give the reserved units back.
                self.sem.value.set(self.sem.value.get() + self.n);
            }
            self.sem.wake_while_available();
        }
    }
}

impl Resource {
    pub(crate) fn kind_name(&self) -> &'static str {
        self.kind
    }
}

/// asyncio's `Semaphore`: a counter of available units; [`acquire`](Semaphore::acquire) waits
/// for one, FIFO, and returns a [`SemaphorePermit`] that gives it back when dropped.
///
/// ```
/// use detsim::sync::Semaphore;
/// detsim::run(async {
///     let sem = Semaphore::new(2);
///     let a = sem.acquire().await;
///     let _b = sem.acquire().await;
///     assert!(sem.locked());
///     drop(a);
///     assert_eq!(sem.value(), 1);
///     sem.release(); // asyncio's unowned release: may go above the initial value
///     assert_eq!(sem.value(), 2);
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    inner: Rc<SemInner>,
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("name", &self.inner.res.name())
            .field("value", &self.value())
            .finish()
    }
}

impl Semaphore {
    fn build(value: usize, bound: Option<usize>, kind: &'static str, name: Option<String>) -> Self {
        Semaphore {
            inner: SemInner::new(value, bound, Resource::new(kind, name.map(Rc::from))),
        }
    }

    /// A semaphore with `value` units. (asyncio rejects negative values; `usize` cannot be
    /// negative.)
    pub fn new(value: usize) -> Semaphore {
        Semaphore::build(value, None, "Semaphore", None)
    }

    /// A named semaphore, for traces and deadlock reports.
    pub fn named(value: usize, name: impl Into<String>) -> Semaphore {
        Semaphore::build(value, None, "Semaphore", Some(name.into()))
    }

    /// Waits for a unit; completes without suspending when the semaphore is not
    /// [`locked`](Semaphore::locked).
    #[inline]
    pub fn acquire(&self) -> Acquire {
        Acquire {
            inner: self.inner.acquire(1),
        }
    }

    /// asyncio's `locked()`: no unit is available, or a live task is queued (newcomers queue
    /// behind it).
    pub fn locked(&self) -> bool {
        self.inner.locked_for(1)
    }

    /// Units available; units reserved for woken waiters are not counted.
    #[inline]
    pub fn value(&self) -> usize {
        self.inner.value()
    }

    /// Queued acquire futures, including woken ones that have not resumed yet.
    pub fn waiter_count(&self) -> usize {
        self.inner.waiters.borrow().len()
    }

    /// asyncio's unowned `release()`: adds a unit (never fails, may exceed the initial value) and
    /// wakes the first waiter.
    pub fn release(&self) {
        self.inner.res.op("release", HolderChange::None);
        self.inner.add(1);
    }
}

/// asyncio's `BoundedSemaphore`: a [`Semaphore`] whose value may never exceed its initial value.
///
/// ```
/// use detsim::sync::{BoundedSemaphore, SemaphoreOverRelease};
/// detsim::run(async {
///     let sem = BoundedSemaphore::new(1);
///     assert_eq!(sem.release(), Err(SemaphoreOverRelease));
///     sem.acquire().await.forget();
///     assert_eq!(sem.release(), Ok(()));
/// });
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    /// The semaphore, built with its bound (which its permits check on release).
    sem: Semaphore,
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("name", &self.sem.inner.res.name())
            .field("value", &self.value())
            .field("bound", &self.sem.inner.bound)
            .finish()
    }
}

impl BoundedSemaphore {
    /// A bounded semaphore with `value` units, which is also its bound.
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            sem: Semaphore::build(value, Some(value), "BoundedSemaphore", None),
        }
    }

    /// A named bounded semaphore, for traces and deadlock reports.
    pub fn named(value: usize, name: impl Into<String>) -> BoundedSemaphore {
        BoundedSemaphore {
            sem: Semaphore::build(value, Some(value), "BoundedSemaphore", Some(name.into())),
        }
    }

    /// Waits for a unit; see [`Semaphore::acquire`].
    #[inline]
    pub fn acquire(&self) -> Acquire {
        self.sem.acquire()
    }

    /// See [`Semaphore::locked`].
    pub fn locked(&self) -> bool {
        self.sem.locked()
    }

    /// Units available.
    #[inline]
    pub fn value(&self) -> usize {
        self.sem.value()
    }

    /// Queued acquire futures, including woken ones that have not resumed yet.
    pub fn waiter_count(&self) -> usize {
        self.sem.waiter_count()
    }

    /// asyncio's unowned `release()`, for a permit given up with [`SemaphorePermit::forget`].
    ///
    /// # Errors
    ///
    /// [`SemaphoreOverRelease`] if the value is already at its bound; nothing changes then.
    pub fn release(&self) -> Result<(), SemaphoreOverRelease> {
        if self.value() >= self.sem.inner.bound.unwrap_or(usize::MAX) {
            return Err(SemaphoreOverRelease);
        }
        self.sem.release();
        Ok(())
    }
}

/// The future returned by [`Semaphore::acquire`] and [`BoundedSemaphore::acquire`].
#[must_use = "futures do nothing unless awaited"]
pub struct Acquire {
    inner: AcquireMany,
}

impl fmt::Debug for Acquire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire").finish_non_exhaustive()
    }
}

impl Future for Acquire {
    type Output = SemaphorePermit;

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<SemaphorePermit> {
        let sem = self.inner.sem.clone();
        Pin::new(&mut self.inner)
            .poll(cx)
            .map(|raw| SemaphorePermit {
                sem: Some(sem),
                raw,
            })
    }
}

/// One unit of a [`Semaphore`] or [`BoundedSemaphore`]; dropping it releases the unit.
#[must_use = "the unit is released as soon as the permit is dropped"]
pub struct SemaphorePermit {
    sem: Option<Rc<SemInner>>,
    raw: RawPermit,
}

impl fmt::Debug for SemaphorePermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

impl SemaphorePermit {
    /// Gives the permit up without releasing its unit (asyncio's `acquire()` without a matching
    /// `release()`); [`Semaphore::release`] adds a unit back later.
    pub fn forget(mut self) {
        if let Some(s) = self.sem.take() {
            s.forget_permit(&self.raw);
        }
    }
}

impl Drop for SemaphorePermit {
    #[inline]
    fn drop(&mut self) {
        if let Some(s) = self.sem.take() {
            s.release_permit(&self.raw);
        }
    }
}

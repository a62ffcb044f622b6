//! [`Mutex<T>`]: a [`Lock`] that guards data.

use std::cell::{RefCell, RefMut};
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::lock::{Acquire, Lock, LockGuard};

/// Data behind a [`Lock`]: the same FIFO, asyncio semantics, with the data reachable only through
/// the guard.
///
/// ```
/// use std::rc::Rc;
/// use detsim::sync::Mutex;
/// detsim::run(async {
///     let m = Rc::new(Mutex::new(0));
///     let tasks: Vec<_> = (0..3).map(|_| {
///         let m = m.clone();
///         detsim::spawn(async move {
///             let mut g = m.lock().await;
///             let v = *g;
///             detsim::yield_now().await; // other tasks queue meanwhile
///             *g = v + 1;
///         })
///     }).collect();
///     for t in tasks { t.await.unwrap(); }
///     assert_eq!(*m.lock().await, 3);
/// });
/// ```
pub struct Mutex<T> {
    lock: Lock,
    data: RefCell<T>,
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mutex")
            .field("lock", &self.lock)
            .finish_non_exhaustive()
    }
}

impl<T> Mutex<T> {
    /// A mutex holding `value`.
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            lock: Lock::with_kind("Mutex", None),
            data: RefCell::new(value),
        }
    }

    /// A named mutex, for traces and deadlock reports.
    pub fn named(value: T, name: impl Into<String>) -> Mutex<T> {
        Mutex {
            lock: Lock::with_kind("Mutex", Some(Rc::from(name.into()))),
            data: RefCell::new(value),
        }
    }

    /// Waits for the lock (FIFO) and returns a guard to the data. Dropping the future before it
    /// completes gives up the place in line, as cancelling `Lock::acquire` does.
    #[inline]
    pub fn lock(&self) -> MutexLock<'_, T> {
        MutexLock {
            mutex: self,
            acquire: self.lock.acquire(),
        }
    }

    /// Takes the lock if it is free and nobody waits, without waiting.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        if self.lock.locked() || self.lock.waiter_count() > 0 {
            return None;
        }
        let guard = futures::FutureExt::now_or_never(self.lock.acquire())?;
        Some(MutexGuard {
            data: self.data.borrow_mut(),
            _guard: guard,
        })
    }

    /// Whether the mutex is locked.
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// The data, through exclusive access to the mutex.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// The data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

/// The future returned by [`Mutex::lock`]: it waits as [`Lock::acquire`] does, then borrows the
/// data.
#[must_use = "futures do nothing unless awaited"]
pub struct MutexLock<'a, T> {
    mutex: &'a Mutex<T>,
    acquire: Acquire,
}

impl<T> fmt::Debug for MutexLock<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MutexLock")
            .field("acquire", &self.acquire)
            .finish()
    }
}

impl<'a, T> Future for MutexLock<'a, T> {
    type Output = MutexGuard<'a, T>;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<MutexGuard<'a, T>> {
        let this = self.get_mut();
        match Pin::new(&mut this.acquire).poll(cx) {
            Poll::Ready(guard) => Poll::Ready(MutexGuard {
                data: this.mutex.data.borrow_mut(),
                _guard: guard,
            }),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Access to a [`Mutex`]'s data; dropping it unlocks the mutex.
#[must_use = "the mutex is unlocked as soon as the guard is dropped"]
pub struct MutexGuard<'a, T> {
    // Dropped first: the data borrow ends before the lock is released.
    data: RefMut<'a, T>,
    _guard: LockGuard,
}

impl<T: fmt::Debug> fmt::Debug for MutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.data, f)
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    #[inline]
    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

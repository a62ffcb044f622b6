//! [`RwLock<T>`]: a read-write lock on the semaphore core that [`Semaphore`](super::Semaphore)
//! uses, the way tokio builds its `RwLock` on a batch semaphore.
//!
//! A reader takes one unit, a writer takes all of them. Fairness is the semaphore's: FIFO, and a
//! queued writer makes later readers queue behind it (no writer starvation).

use std::cell::{Ref, RefCell, RefMut};
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::rc::Rc;

use super::resource::Resource;
use super::semaphore::{RawPermit, SemInner};

const MAX_READERS: usize = 1 << 30;

/// Data behind a read-write lock: many readers or one writer, FIFO.
///
/// ```
/// use detsim::sync::RwLock;
/// detsim::run(async {
///     let rw = RwLock::new(1);
///     {
///         let a = rw.read().await;
///         let b = rw.read().await; // readers share
///         assert_eq!(*a + *b, 2);
///     }
///     *rw.write().await += 1;
///     assert_eq!(*rw.read().await, 2);
/// });
/// ```
pub struct RwLock<T> {
    sem: Rc<SemInner>,
    data: RefCell<T>,
}

impl<T> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLock")
            .field("name", &self.sem.res.name())
            .finish_non_exhaustive()
    }
}

impl<T> RwLock<T> {
    /// An unlocked read-write lock holding `value`.
    pub fn new(value: T) -> RwLock<T> {
        RwLock::build(value, None)
    }

    /// A named read-write lock, for traces and deadlock reports.
    pub fn named(value: T, name: impl Into<String>) -> RwLock<T> {
        RwLock::build(value, Some(Rc::from(name.into())))
    }

    fn build(value: T, name: Option<Rc<str>>) -> RwLock<T> {
        RwLock {
            sem: SemInner::new(MAX_READERS, None, Resource::new("RwLock", name)),
            data: RefCell::new(value),
        }
    }

    /// Waits for shared access (FIFO: behind any queued writer).
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        let raw = self.sem.acquire(1).await;
        RwLockReadGuard {
            data: Some(self.data.borrow()),
            lock: self,
            raw: Some(raw),
        }
    }

    /// Waits for exclusive access (FIFO).
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        let raw = self.sem.acquire(MAX_READERS).await;
        RwLockWriteGuard {
            data: Some(self.data.borrow_mut()),
            lock: self,
            raw: Some(raw),
        }
    }

    /// The data, through exclusive access to the lock.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// The data.
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

/// Shared access to a [`RwLock`]'s data.
#[must_use = "the read lock is released as soon as the guard is dropped"]
pub struct RwLockReadGuard<'a, T> {
    data: Option<Ref<'a, T>>,
    lock: &'a RwLock<T>,
    raw: Option<RawPermit>,
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.data.as_ref().expect("live guard")
    }
}

impl<T> fmt::Debug for RwLockReadGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLockReadGuard").finish_non_exhaustive()
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.data = None;
        if let Some(raw) = self.raw.take() {
            self.lock.sem.release_permit(&raw);
        }
    }
}

/// Exclusive access to a [`RwLock`]'s data.
#[must_use = "the write lock is released as soon as the guard is dropped"]
pub struct RwLockWriteGuard<'a, T> {
    data: Option<RefMut<'a, T>>,
    lock: &'a RwLock<T>,
    raw: Option<RawPermit>,
}

impl<T> fmt::Debug for RwLockWriteGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RwLockWriteGuard").finish_non_exhaustive()
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.data.as_ref().expect("live guard")
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.data.as_mut().expect("live guard")
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.data = None;
        if let Some(raw) = self.raw.take() {
            self.lock.sem.release_permit(&raw);
        }
    }
}

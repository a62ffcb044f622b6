//! [`Event`]: asyncio's `Event` (`Lib/asyncio/locks.py`).
//!
//! # Invariants
//!
//! * `set` wakes every blocked waiter once, in FIFO order; setting a set event wakes nobody.
//! * A waiter woken by `set` returns even if `clear` ran before it resumed.
//! * `wait` on a set event completes without suspending.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::resource::Resource;
use super::waiters::{Key, Waiters, wake_all};
use crate::runtime::HolderChange;

struct Inner {
    flag: Cell<bool>,
    waiters: RefCell<Waiters>,
    res: Resource,
}

/// A flag that tasks can wait for (asyncio's `Event`).
///
/// ```
/// use detsim::sync::Event;
/// detsim::run(async {
///     let ev = Event::new();
///     let ev2 = ev.clone();
///     let waiter = detsim::spawn(async move { ev2.wait().await; "woken" });
///     detsim::yield_now().await;
///     ev.set();
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// ```
#[derive(Clone)]
pub struct Event {
    inner: Rc<Inner>,
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("name", &self.inner.res.name())
            .field("set", &self.is_set())
            .finish()
    }
}

impl Event {
    /// An event that is not set.
    pub fn new() -> Event {
        Event::build(None)
    }

    /// A named event, for traces and deadlock reports.
    pub fn named(name: impl Into<String>) -> Event {
        Event::build(Some(Rc::from(name.into())))
    }

    fn build(name: Option<Rc<str>>) -> Event {
        Event {
            inner: Rc::new(Inner {
                flag: Cell::new(false),
                waiters: RefCell::new(Waiters::default()),
                res: Resource::new("Event", name),
            }),
        }
    }

    /// Sets the flag and wakes every waiting task, in FIFO order. Does nothing if already set.
    pub fn set(&self) {
        if self.inner.flag.get() {
            return;
        }
        self.inner.flag.set(true);
        self.inner.res.op("set", HolderChange::None);
        let ws = self.inner.waiters.borrow_mut().notify_n(usize::MAX);
        if !ws.is_empty() {
            self.inner.res.op("wake", HolderChange::None);
        }
        wake_all(ws);
    }

    /// Clears the flag. Tasks already woken by [`set`](Event::set) still return from `wait`.
    pub fn clear(&self) {
        self.inner.flag.set(false);
    }

    /// Whether the flag is set.
    pub fn is_set(&self) -> bool {
        self.inner.flag.get()
    }

    /// Queued wait futures, including woken ones that have not resumed yet.
    pub fn waiter_count(&self) -> usize {
        self.inner.waiters.borrow().len()
    }

    /// Waits until the flag is set; completes without suspending if it is set already. Returns
    /// `true`, as asyncio's `Event.wait()` returns `True`.
    ///
    /// ```
    /// detsim::run(async {
    ///     let e = detsim::sync::Event::new();
    ///     e.set();
    ///     assert!(e.wait().await);
    /// });
    /// ```
    pub fn wait(&self) -> Wait {
        Wait {
            inner: self.inner.clone(),
            key: None,
        }
    }
}

/// The future returned by [`Event::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait {
    inner: Rc<Inner>,
    key: Option<Key>,
}

impl fmt::Debug for Wait {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait").finish_non_exhaustive()
    }
}

impl Future for Wait {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let inner = self.inner.clone();
        match self.key {
            None => {
                if inner.flag.get() {
                    return Poll::Ready(true);
                }
                self.key = Some(inner.waiters.borrow_mut().push(1, cx.waker()));
                inner.res.op("wait", HolderChange::None);
            }
            Some(key) => {
                let mut ws = inner.waiters.borrow_mut();
                if ws.is_notified(key) == Some(true) {
                    ws.remove(key);
                    self.key = None;
                    return Poll::Ready(true);
                }
                ws.set_waker(key, cx.waker());
            }
        }
        inner.res.block();
        Poll::Pending
    }
}

impl Drop for Wait {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            // Every waiter is woken by set(), so there is nothing to pass on.
            self.inner.waiters.borrow_mut().remove(key);
        }
    }
}

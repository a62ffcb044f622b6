//! [`Promise`]: asyncio's `Future`, a one-shot value that tasks can await.
//!
//! A promise is set, failed or cancelled **once**; any later attempt is an [`InvalidState`] error
//! (cancelling a settled promise returns `false`, as asyncio's `cancel()` does). It is a cheap,
//! clonable handle: every clone refers to the same promise.
//!
//! # Invariants
//!
//! * Settling never runs user code synchronously. Every registered waiter and callback is
//!   scheduled, in **registration order**, at the moment the promise settles: a waiting task is
//!   woken (it goes to the tail of the ready queue) and a callback is queued as a task of its own,
//!   which is asyncio's `call_soon` (`Lib/asyncio/futures.py`,
//!   `Future.__schedule_callbacks`). A callback added to a settled promise is
//!   queued at once, never run inline.
//! * Awaiting a settled promise does not suspend.
//! * A waiter that is dropped before the promise settles leaves no registration behind.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// The error of an operation on a [`Promise`] in the wrong state: setting a settled promise, or
/// reading the result of a pending one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InvalidState {
    what: &'static str,
}

impl fmt::Display for InvalidState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)
    }
}

impl std::error::Error for InvalidState {}

/// Why a settled [`Promise`] holds no value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PromiseError<E> {
    /// The promise was cancelled.
    Cancelled,
    /// The promise was failed with this error.
    Failed(E),
}

impl<E: fmt::Display> fmt::Display for PromiseError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PromiseError::Cancelled => f.write_str("the promise was cancelled"),
            PromiseError::Failed(e) => write!(f, "the promise failed: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for PromiseError<E> {}

/// Identifies a callback added with [`Promise::add_done_callback`], to remove it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CallbackId(u64);

type Callback<T, E> = Box<dyn FnOnce(&Promise<T, E>)>;

enum Entry<T, E> {
    Waiter(Waker),
    Callback(Callback<T, E>),
}

struct Inner<T, E> {
    outcome: RefCell<Option<Result<T, PromiseError<E>>>>,
    entries: RefCell<Vec<(u64, Entry<T, E>)>>,
    next_id: Cell<u64>,
}

/// A one-shot value, set once and awaited by any number of tasks (asyncio's `Future`).
///
/// ```
/// use detsim::promise::{Promise, PromiseError};
/// detsim::run(async {
///     let p: Promise<u32, String> = Promise::new();
///     let p2 = p.clone();
///     let reader = detsim::spawn(async move { p2.wait().await });
///     detsim::yield_now().await;
///     p.set_result(7).unwrap();
///     assert!(p.set_result(8).is_err()); // settled once only
///     assert_eq!(reader.await.unwrap(), Ok(7));
///     let q: Promise<u32, String> = Promise::new();
///     assert!(q.cancel());
///     assert_eq!(q.wait().await, Err(PromiseError::Cancelled));
/// });
/// ```
pub struct Promise<T, E> {
    inner: Rc<Inner<T, E>>,
}

impl<T, E> Clone for Promise<T, E> {
    fn clone(&self) -> Self {
        Promise {
            inner: self.inner.clone(),
        }
    }
}

impl<T, E> Default for Promise<T, E> {
    fn default() -> Self {
        Promise::new()
    }
}

impl<T, E> fmt::Debug for Promise<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &*self.inner.outcome.borrow() {
            None => "pending",
            Some(Ok(_)) => "finished",
            Some(Err(PromiseError::Failed(_))) => "failed",
            Some(Err(PromiseError::Cancelled)) => "cancelled",
        };
        f.debug_struct("Promise").field("state", &state).finish()
    }
}

impl<T, E> Promise<T, E> {
    /// A pending promise. Creating one needs no run; settling and awaiting it do.
    ///
    /// ```
    /// let p = detsim::promise::Promise::<(), ()>::new();
    /// assert!(!p.is_done());
    /// ```
    pub fn new() -> Promise<T, E> {
        Promise {
            inner: Rc::new(Inner {
                outcome: RefCell::new(None),
                entries: RefCell::new(Vec::new()),
                next_id: Cell::new(0),
            }),
        }
    }

    /// Whether the promise is settled (finished, failed or cancelled).
    ///
    /// ```
    /// let p = detsim::promise::Promise::<u8, ()>::new();
    /// detsim::run(async move {
    ///     p.set_result(1).unwrap();
    ///     assert!(p.is_done() && !p.is_cancelled());
    /// });
    /// ```
    pub fn is_done(&self) -> bool {
        self.inner.outcome.borrow().is_some()
    }

    /// Whether the promise was cancelled.
    ///
    /// ```
    /// let p = detsim::promise::Promise::<u8, ()>::new();
    /// detsim::run(async move {
    ///     assert!(p.cancel());
    ///     assert!(p.is_cancelled() && p.is_done());
    /// });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        matches!(
            &*self.inner.outcome.borrow(),
            Some(Err(PromiseError::Cancelled))
        )
    }

    /// Sets the value. `Err(InvalidState)` if the promise is already settled.
    ///
    /// # Panics
    ///
    /// Outside a detsim run when a callback is registered (callbacks are queued as tasks).
    ///
    /// ```
    /// let p = detsim::promise::Promise::<u8, ()>::new();
    /// detsim::run(async move {
    ///     assert!(p.set_result(1).is_ok());
    ///     assert!(p.set_result(2).is_err());
    /// });
    /// ```
    pub fn set_result(&self, value: T) -> Result<(), InvalidState>
    where
        T: 'static,
        E: 'static,
    {
        self.settle(Ok(value), "set_result on a promise that is already settled")
    }

    /// Fails the promise with `error`. `Err(InvalidState)` if it is already settled.
    ///
    /// ```
    /// use detsim::promise::{Promise, PromiseError};
    /// detsim::run(async {
    ///     let p = Promise::<u8, &str>::new();
    ///     p.set_error("boom").unwrap();
    ///     assert_eq!(p.wait().await, Err(PromiseError::Failed("boom")));
    /// });
    /// ```
    pub fn set_error(&self, error: E) -> Result<(), InvalidState>
    where
        T: 'static,
        E: 'static,
    {
        self.settle(
            Err(PromiseError::Failed(error)),
            "set_error on a promise that is already settled",
        )
    }

    /// Cancels the promise: `true` if it was pending, `false` (and nothing happens) otherwise.
    ///
    /// ```
    /// let p = detsim::promise::Promise::<u8, ()>::new();
    /// detsim::run(async move {
    ///     assert!(p.cancel());
    ///     assert!(!p.cancel());
    /// });
    /// ```
    pub fn cancel(&self) -> bool
    where
        T: 'static,
        E: 'static,
    {
        self.settle(Err(PromiseError::Cancelled), "").is_ok()
    }

    fn settle(
        &self,
        outcome: Result<T, PromiseError<E>>,
        what: &'static str,
    ) -> Result<(), InvalidState>
    where
        T: 'static,
        E: 'static,
    {
        {
            let mut o = self.inner.outcome.borrow_mut();
            if o.is_some() {
                return Err(InvalidState { what });
            }
            *o = Some(outcome);
        }
        let entries = std::mem::take(&mut *self.inner.entries.borrow_mut());
        for (_, e) in entries {
            match e {
                Entry::Waiter(w) => w.wake(),
                Entry::Callback(cb) => self.schedule(cb),
            }
        }
        Ok(())
    }

    fn schedule(&self, cb: Callback<T, E>)
    where
        T: 'static,
        E: 'static,
    {
        let me = self.clone();
        crate::combinators::call_soon("promise callback", move || cb(&me));
    }

    /// The outcome: `Err(InvalidState)` while pending; otherwise the value, or why there is none.
    ///
    /// ```
    /// use detsim::promise::{Promise, PromiseError};
    /// detsim::run(async {
    ///     let p = Promise::<u8, ()>::new();
    ///     assert!(p.result().is_err()); // pending
    ///     p.set_result(42).unwrap();
    ///     assert_eq!(p.result(), Ok(Ok(42)));
    /// });
    /// ```
    pub fn result(&self) -> Result<Result<T, PromiseError<E>>, InvalidState>
    where
        T: Clone,
        E: Clone,
    {
        match &*self.inner.outcome.borrow() {
            Some(r) => Ok(r.clone()),
            None => Err(InvalidState {
                what: "the result of a promise that is still pending",
            }),
        }
    }

    /// Runs `callback` once the promise is settled, as a task queued at that moment (asyncio's
    /// `add_done_callback`); if it is settled already, the task is queued now. Callbacks and
    /// waiters are scheduled in the order they registered.
    ///
    /// # Panics
    ///
    /// Outside a detsim run if the promise is already settled.
    ///
    /// ```
    /// use std::{cell::RefCell, rc::Rc};
    /// use detsim::promise::Promise;
    /// detsim::run(async {
    ///     let bag = Rc::new(RefCell::new(Vec::new()));
    ///     let p = Promise::<&str, ()>::new();
    ///     for n in [42, 17] {
    ///         let b = bag.clone();
    ///         p.add_done_callback(move |_| b.borrow_mut().push(n));
    ///     }
    ///     p.set_result("foo").unwrap();
    ///     assert!(bag.borrow().is_empty()); // deferred
    ///     detsim::yield_now().await;
    ///     assert_eq!(*bag.borrow(), [42, 17]);
    /// });
    /// ```
    pub fn add_done_callback(&self, callback: impl FnOnce(&Promise<T, E>) + 'static) -> CallbackId
    where
        T: 'static,
        E: 'static,
    {
        let id = self.next_id();
        if self.is_done() {
            self.schedule(Box::new(callback));
        } else {
            self.inner
                .entries
                .borrow_mut()
                .push((id, Entry::Callback(Box::new(callback))));
        }
        CallbackId(id)
    }

    /// Removes a callback that has not been scheduled yet: `true` if it was removed.
    ///
    /// ```
    /// let p = detsim::promise::Promise::<u8, ()>::new();
    /// let id = p.add_done_callback(|_| unreachable!());
    /// assert!(p.remove_done_callback(id));
    /// assert!(!p.remove_done_callback(id));
    /// ```
    pub fn remove_done_callback(&self, id: CallbackId) -> bool {
        let mut entries = self.inner.entries.borrow_mut();
        let before = entries.len();
        entries.retain(|(i, e)| !(*i == id.0 && matches!(e, Entry::Callback(_))));
        entries.len() != before
    }

    fn next_id(&self) -> u64 {
        let id = self.inner.next_id.get();
        self.inner.next_id.set(id + 1);
        id
    }

    /// Waits for the promise to settle and returns a copy of its outcome. Any number of tasks may
    /// wait; they are woken in the order they started waiting.
    ///
    /// ```
    /// use detsim::promise::Promise;
    /// detsim::run(async {
    ///     let p = Promise::<String, ()>::new();
    ///     let waiters: Vec<_> = (0..3).map(|_| {
    ///         let p = p.clone();
    ///         detsim::spawn(async move { p.wait().await.unwrap() })
    ///     }).collect();
    ///     detsim::yield_now().await;
    ///     p.set_result("hi".to_string()).unwrap();
    ///     for w in waiters {
    ///         assert_eq!(w.await.unwrap(), "hi");
    ///     }
    /// });
    /// ```
    pub fn wait(&self) -> PromiseWait<T, E>
    where
        T: Clone,
        E: Clone,
    {
        PromiseWait {
            promise: self.clone(),
            id: None,
            link: None,
        }
    }
}

/// A promise as the future a cancellation of its awaiting task cancels first (asyncio's
/// `Task.cancel()` cancels the future in `_fut_waiter`).
struct Link<T, E>(Promise<T, E>);

impl<T: 'static, E: 'static> crate::runtime::AwaitTarget for Link<T, E> {
    fn cancel(&self, _message: Option<&str>) -> bool {
        self.0.cancel()
    }

    fn done(&self) -> bool {
        self.0.is_done()
    }
}

/// The future returned by [`Promise::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct PromiseWait<T, E> {
    promise: Promise<T, E>,
    id: Option<u64>,
    /// The await link registered while suspended, made on the first suspension.
    link: Option<crate::runtime::AwaitLink>,
}

impl<T, E> fmt::Debug for PromiseWait<T, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PromiseWait")
            .field("promise", &self.promise)
            .finish()
    }
}

impl<T: Clone + 'static, E: Clone + 'static> Future for PromiseWait<T, E> {
    type Output = Result<T, PromiseError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Some(r) = &*self.promise.inner.outcome.borrow() {
            return Poll::Ready(r.clone());
        }
        let promise = self.promise.clone();
        let link = self
            .link
            .get_or_insert_with(|| Rc::new(Link(promise)))
            .clone();
        crate::runtime::try_with_core(|c| c.set_await_link_anon(&link));
        let mut entries = self.promise.inner.entries.borrow_mut();
        if let Some(id) = self.id {
            if let Some((_, Entry::Waiter(w))) = entries.iter_mut().find(|(i, _)| *i == id) {
                if !w.will_wake(cx.waker()) {
                    *w = cx.waker().clone();
                }
                return Poll::Pending;
            }
        }
        drop(entries);
        let id = self.promise.next_id();
        self.promise
            .inner
            .entries
            .borrow_mut()
            .push((id, Entry::Waiter(cx.waker().clone())));
        self.id = Some(id);
        Poll::Pending
    }
}

impl<T, E> Drop for PromiseWait<T, E> {
    fn drop(&mut self) {
        if let Some(id) = self.id {
            if let Ok(mut entries) = self.promise.inner.entries.try_borrow_mut() {
                entries.retain(|(i, _)| *i != id);
            }
        }
    }
}

//! [`Queue`], [`LifoQueue`] and [`PriorityQueue`]: asyncio's queues (`Lib/asyncio/queues.py`).
//!
//! # Invariants
//!
//! * Items stay in the queue until a `get` takes them: waiters are only woken, never handed an
//!   item (bpo-23812), so a woken getter that is dropped loses nothing.
//! * A woken `put`/`get` re-checks its condition and queues again (at the tail) if it no longer
//!   holds.
//! * A `put`/`get` future dropped after it was woken (state d) wakes the next waiter of its side
//!   if its condition still holds (python/asyncio #265/#269), so no waiter sleeps while it could
//!   proceed.
//! * `get` on a non-empty queue and `put` on a non-full one never suspend.
//! * After `shutdown`, every put fails; gets return the remaining items, then fail.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use super::errors::{QueueEmpty, QueueFull, QueueShutDown, TooManyTaskDone};
use super::event::Event;
use super::resource::Resource;
use super::waiters::{Key, Waiters};
use crate::runtime::HolderChange;

/// How a queue stores its items.
trait Store<T> {
    fn push(&mut self, item: T);
    fn pop(&mut self) -> Option<T>;
    fn len(&self) -> usize;
}

struct Fifo<T>(VecDeque<T>);
struct Lifo<T>(Vec<T>);
struct Heap<T>(BinaryHeap<Reverse<T>>);

impl<T> Store<T> for Fifo<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item)
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Store<T> for Lifo<T> {
    fn push(&mut self, item: T) {
        self.0.push(item)
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> Store<T> for Heap<T> {
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item))
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|r| r.0)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

struct Inner<S> {
    items: RefCell<S>,
    maxsize: usize,
    getters: RefCell<Waiters>,
    putters: RefCell<Waiters>,
    unfinished: Cell<usize>,
    finished: Event,
    shutdown: Cell<bool>,
    res: Resource,
}

#[derive(Clone, Copy)]
enum Side {
    Get,
    Put,
}

impl<S> Inner<S> {
    fn side(&self, side: Side) -> &RefCell<Waiters> {
        match side {
            Side::Get => &self.getters,
            Side::Put => &self.putters,
        }
    }

    /// `_wakeup_next`: wakes the first waiter of `side` that is not done.
    fn wakeup_next(&self, side: Side) {
        let w = self.side(side).borrow_mut().notify_one();
        if let Some(w) = w {
            self.res.op("wake", HolderChange::None);
            w.wake();
        }
    }
}

impl<S> Inner<S> {
    fn qsize<T>(&self) -> usize
    where
        S: Store<T>,
    {
        self.items.borrow().len()
    }

    fn full<T>(&self) -> bool
    where
        S: Store<T>,
    {
        self.maxsize > 0 && self.qsize() >= self.maxsize
    }

    fn put_nowait<T>(&self, item: T) -> Result<(), PutError<T>>
    where
        S: Store<T>,
    {
        if self.shutdown.get() {
            return Err(PutError::ShutDown(item));
        }
        if self.full() {
            return Err(PutError::Full(item));
        }
        self.items.borrow_mut().push(item);
        self.unfinished.set(self.unfinished.get() + 1);
        self.finished.clear();
        self.res.op("put", HolderChange::None);
        self.wakeup_next(Side::Get);
        Ok(())
    }

    fn get_nowait<T>(&self) -> Result<T, GetError>
    where
        S: Store<T>,
    {
        let item = self.items.borrow_mut().pop();
        match item {
            None if self.shutdown.get() => Err(GetError::ShutDown),
            None => Err(GetError::Empty),
            Some(item) => {
                self.res.op("get", HolderChange::None);
                self.wakeup_next(Side::Put);
                Ok(item)
            }
        }
    }

    fn task_done(&self) -> Result<(), TooManyTaskDone> {
        let n = self.unfinished.get();
        if n == 0 {
            return Err(TooManyTaskDone);
        }
        self.unfinished.set(n - 1);
        if n == 1 {
            self.finished.set();
        }
        Ok(())
    }

    fn shutdown<T>(&self, immediate: bool)
    where
        S: Store<T>,
    {
        self.shutdown.set(true);
        self.res.op("shutdown", HolderChange::None);
        if immediate {
            let n = self.qsize();
            loop {
                let item = self.items.borrow_mut().pop();
                match item {
                    Some(item) => drop(item),
                    None => break,
                }
            }
            let left = self.unfinished.get().saturating_sub(n);
            self.unfinished.set(left);
            if left == 0 {
                self.finished.set();
            }
        }
        for side in [Side::Get, Side::Put] {
            let ws = self.side(side).borrow_mut().notify_n(usize::MAX);
            super::waiters::wake_all(ws);
        }
    }
}

enum PutError<T> {
    Full(T),
    ShutDown(T),
}

enum GetError {
    Empty,
    ShutDown,
}

/// Waits on one side of a queue until woken; on drop in state (d), wakes the next waiter of that
/// side if `still(..)` says it could proceed.
struct SideWait<'a, S> {
    q: &'a Inner<S>,
    side: Side,
    key: Option<Key>,
    could_proceed: fn(&Inner<S>) -> bool,
}

impl<S> Future for SideWait<'_, S> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let q = self.q;
        let side = self.side;
        match self.key {
            None => {
                self.key = Some(q.side(side).borrow_mut().push(1, cx.waker()));
            }
            Some(key) => {
                let mut ws = q.side(side).borrow_mut();
                if ws.is_notified(key) == Some(true) {
                    ws.remove(key);
                    self.key = None;
                    return Poll::Ready(());
                }
                ws.set_waker(key, cx.waker());
            }
        }
        q.res.block();
        Poll::Pending
    }
}

impl<S> Drop for SideWait<'_, S> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            let notified = self.q.side(self.side).borrow_mut().remove(key);
            if notified == Some(true) && (self.could_proceed)(self.q) {
                self.q.wakeup_next(self.side);
            }
        }
    }
}

impl<S> Inner<S> {
    async fn put<T>(&self, item: T) -> Result<(), QueueShutDown>
    where
        S: Store<T>,
    {
        while self.full() {
            if self.shutdown.get() {
                return Err(QueueShutDown);
            }
            SideWait {
                q: self,
                side: Side::Put,
                key: None,
                could_proceed: |q| !q.full(),
            }
            .await;
        }
        match self.put_nowait(item) {
            Ok(()) => Ok(()),
            Err(_) => Err(QueueShutDown),
        }
    }

    async fn get<T>(&self) -> Result<T, QueueShutDown>
    where
        S: Store<T>,
    {
        while self.qsize() == 0 {
            if self.shutdown.get() {
                return Err(QueueShutDown);
            }
            SideWait {
                q: self,
                side: Side::Get,
                key: None,
                could_proceed: |q| q.qsize() > 0,
            }
            .await;
        }
        self.get_nowait().map_err(|_| QueueShutDown)
    }

    async fn join(&self) {
        if self.unfinished.get() > 0 {
            self.finished.wait().await;
        }
    }
}

macro_rules! queue_type {
    ($(#[$doc:meta])* $name:ident, $store:ident, $kind:literal, [$($bound:tt)*], $new:expr) => {
        $(#[$doc])*
        pub struct $name<T> {
            inner: Rc<Inner<$store<T>>>,
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name { inner: self.inner.clone() }
            }
        }

        impl<T $($bound)*> fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct($kind)
                    .field("name", &self.inner.res.name())
                    .field("qsize", &self.qsize())
                    .field("maxsize", &self.inner.maxsize)
                    .finish()
            }
        }

        impl<T $($bound)*> $name<T> {
            /// A queue holding at most `maxsize` items; `0` means unbounded (asyncio's
            /// `maxsize <= 0`).
            pub fn new(maxsize: usize) -> Self {
                Self::build(maxsize, None)
            }

            /// An unbounded queue.
            pub fn unbounded() -> Self {
                Self::build(0, None)
            }

            /// A named queue, for traces and deadlock reports.
            pub fn named(maxsize: usize, name: impl Into<String>) -> Self {
                Self::build(maxsize, Some(Rc::from(name.into())))
            }

            fn build(maxsize: usize, name: Option<Rc<str>>) -> Self {
                $name {
                    inner: Rc::new(Inner {
                        items: RefCell::new($new),
                        maxsize,
                        getters: RefCell::new(Waiters::default()),
                        putters: RefCell::new(Waiters::default()),
                        unfinished: Cell::new(0),
                        finished: Event::new(),
                        shutdown: Cell::new(false),
                        res: Resource::new($kind, name),
                    }),
                }
            }

            /// Number of items in the queue.
            pub fn qsize(&self) -> usize {
                self.inner.qsize()
            }

            /// The capacity (`0`: unbounded).
            pub fn maxsize(&self) -> usize {
                self.inner.maxsize
            }

            /// Whether the queue holds no item.
            pub fn empty(&self) -> bool {
                self.qsize() == 0
            }

            /// Whether the queue is bounded and holds `maxsize` items.
            pub fn full(&self) -> bool {
                self.inner.full()
            }

            /// Blocked `get` futures (not yet woken), for tests and diagnostics.
            pub fn getter_count(&self) -> usize {
                self.inner.getters.borrow().pending()
            }

            /// Blocked `put` futures (not yet woken), for tests and diagnostics.
            pub fn putter_count(&self) -> usize {
                self.inner.putters.borrow().pending()
            }

            /// Puts an item, waiting while the queue is full; does not suspend when it is not.
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] if the queue is or gets shut down; the item is dropped.
            pub fn put(&self, item: T) -> impl Future<Output = Result<(), QueueShutDown>> + use<T> {
                let inner = self.inner.clone();
                async move { inner.put(item).await }
            }

            /// Puts an item without waiting.
            ///
            /// # Errors
            ///
            /// [`QueueFull`] when full, [`QueueShutDown`] after a shutdown; the item is dropped.
            pub fn put_nowait(&self, item: T) -> Result<(), PutNowaitError> {
                self.inner.put_nowait(item).map_err(|e| match e {
                    PutError::Full(_) => PutNowaitError::Full(QueueFull),
                    PutError::ShutDown(_) => PutNowaitError::ShutDown(QueueShutDown),
                })
            }

            /// Takes an item, waiting while the queue is empty; does not suspend when it is not.
            ///
            /// # Errors
            ///
            /// [`QueueShutDown`] once the queue is shut down and empty.
            pub fn get(&self) -> impl Future<Output = Result<T, QueueShutDown>> + use<T> {
                let inner = self.inner.clone();
                async move { inner.get().await }
            }

            /// Takes an item without waiting.
            ///
            /// # Errors
            ///
            /// [`QueueEmpty`] when empty, [`QueueShutDown`] when shut down and empty.
            pub fn get_nowait(&self) -> Result<T, GetNowaitError> {
                self.inner.get_nowait().map_err(|e| match e {
                    GetError::Empty => GetNowaitError::Empty(QueueEmpty),
                    GetError::ShutDown => GetNowaitError::ShutDown(QueueShutDown),
                })
            }

            /// Marks one item taken with `get` as processed; [`join`](Self::join) returns when
            /// every item put has been.
            ///
            /// # Errors
            ///
            /// [`TooManyTaskDone`] if called more times than items were put.
            pub fn task_done(&self) -> Result<(), TooManyTaskDone> {
                self.inner.task_done()
            }

            /// Waits until every item put has been marked done with `task_done`; returns at once
            /// if none is outstanding.
            pub fn join(&self) -> impl Future<Output = ()> + use<T> {
                let inner = self.inner.clone();
                async move { inner.join().await }
            }

            /// Shuts the queue down: puts fail from now on, and blocked putters and getters are
            /// woken (getters still receive remaining items). With `immediate`, the remaining
            /// items are dropped first and counted as done.
            pub fn shutdown(&self, immediate: bool) {
                self.inner.shutdown(immediate);
            }

            /// Whether [`shutdown`](Self::shutdown) was called.
            pub fn is_shut_down(&self) -> bool {
                self.inner.shutdown.get()
            }
        }
    };
}

queue_type!(
    /// asyncio's `Queue`: first in, first out, optionally bounded, with `task_done`/`join` and
    /// `shutdown`.
    ///
    /// ```
    /// use detsim::sync::Queue;
    /// detsim::run(async {
    ///     let q = Queue::new(1);
    ///     let q2 = q.clone();
    ///     let producer = detsim::spawn(async move {
    ///         for i in 0..3 { q2.put(i).await.unwrap(); }
    ///     });
    ///     let mut got = Vec::new();
    ///     for _ in 0..3 { got.push(q.get().await.unwrap()); q.task_done().unwrap(); }
    ///     producer.await.unwrap();
    ///     q.join().await;
    ///     assert_eq!(got, [0, 1, 2]);
    /// });
    /// ```
    Queue, Fifo, "Queue", [], Fifo(VecDeque::new())
);
queue_type!(
    /// asyncio's `LifoQueue`: last in, first out; otherwise a [`Queue`].
    ///
    /// ```
    /// use detsim::sync::LifoQueue;
    /// let q = LifoQueue::unbounded();
    /// for i in [1, 3, 2] { q.put_nowait(i).unwrap(); }
    /// assert_eq!(q.get_nowait().unwrap(), 2);
    /// ```
    LifoQueue, Lifo, "LifoQueue", [], Lifo(Vec::new())
);
queue_type!(
    /// asyncio's `PriorityQueue`: smallest item first; otherwise a [`Queue`].
    ///
    /// ```
    /// use detsim::sync::PriorityQueue;
    /// let q = PriorityQueue::unbounded();
    /// for i in [3, 1, 2] { q.put_nowait(i).unwrap(); }
    /// assert_eq!(q.get_nowait().unwrap(), 1);
    /// ```
    PriorityQueue, Heap, "PriorityQueue", [: Ord], Heap(BinaryHeap::new())
);

/// Why [`Queue::put_nowait`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutNowaitError {
    /// The queue is full.
    Full(QueueFull),
    /// The queue was shut down.
    ShutDown(QueueShutDown),
}

/// Why [`Queue::get_nowait`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetNowaitError {
    /// The queue is empty.
    Empty(QueueEmpty),
    /// The queue was shut down and is empty.
    ShutDown(QueueShutDown),
}

impl fmt::Display for PutNowaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutNowaitError::Full(e) => e.fmt(f),
            PutNowaitError::ShutDown(e) => e.fmt(f),
        }
    }
}

impl fmt::Display for GetNowaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetNowaitError::Empty(e) => e.fmt(f),
            GetNowaitError::ShutDown(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for PutNowaitError {}
impl std::error::Error for GetNowaitError {}

//! `wait` and `as_completed`: watch running tasks without owning their fate.
//!
//! # Invariants
//!
//! * Neither ever cancels a task. After a timeout the pending tasks keep running (asyncio's
//!   `wait` never raises on timeout; `as_completed` reports the timeout per remaining item).
//! * [`wait`] computes `done` when it resumes, so it can include tasks that ended after the one
//!   that triggered it, as asyncio's `wait` does (`Lib/asyncio/tasks.py`, `_wait`: the
//!   `done` set is built after the waiter resumes).
//! * [`as_completed`] yields in completion order: a watcher task per input is woken when its task
//!   ends, where asyncio's done callback runs, and queues the outcome.
//! * Both settle one hop after the trigger (the callback, then the waiter's wakeup), as asyncio.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use futures::Stream;

use crate::task::{CancelHandle, JoinError, JoinHandle};
use crate::time::{Duration, Elapsed, Instant, Sleep, now, sleep_until};

/// When [`wait`] returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReturnWhen {
    /// As soon as any task ends.
    FirstCompleted,
    /// As soon as a task fails (panics; for [`try_wait`], also returns `Err`), or when all have
    /// ended if none fails.
    FirstException,
    /// When every task has ended.
    AllCompleted,
}

/// The tasks of a [`wait`], split: `done` have ended (awaiting them returns at once), `pending`
/// have not. Each list keeps the argument order.
#[derive(Debug)]
pub struct WaitResult<T> {
    /// The tasks that have ended.
    pub done: Vec<JoinHandle<T>>,
    /// The tasks still running.
    pub pending: Vec<JoinHandle<T>>,
}

fn panicked<T>(r: &Result<T, JoinError>) -> bool {
    matches!(r, Err(e) if e.is_panic())
}

fn errored<T, E>(r: &Result<Result<T, E>, JoinError>) -> bool {
    matches!(r, Ok(Err(_))) || panicked(r)
}

/// Waits until `when` is met or `timeout` passes, and returns the tasks split into done and
/// pending (asyncio's `wait`). Never cancels anything and never fails on timeout.
///
/// # Panics
///
/// When polled with no tasks (asyncio raises `ValueError`), or outside a detsim run.
///
/// ```
/// use detsim::combinators::{wait, ReturnWhen};
/// use detsim::time::{now, sleep, Duration};
/// detsim::run(async {
///     let a = detsim::spawn(sleep(Duration::from_secs(10)));
///     let b = detsim::spawn(sleep(Duration::from_millis(100)));
///     let r = wait(vec![b, a], None, ReturnWhen::FirstCompleted).await;
///     assert_eq!((r.done.len(), r.pending.len()), (1, 1));
///     assert_eq!(now().to_string(), "0.1s");
///     assert!(!r.pending[0].is_finished()); // still running, not cancelled
/// });
/// ```
pub fn wait<T>(
    tasks: impl IntoIterator<Item = JoinHandle<T>>,
    timeout: Option<Duration>,
    when: ReturnWhen,
) -> Wait<T> {
    Wait::new(tasks.into_iter().collect(), timeout, when, panicked::<T>)
}

/// [`wait`] for tasks that return `Result`: with [`ReturnWhen::FirstException`], a task that
/// returns `Err` counts as failed.
///
/// ```
/// use detsim::combinators::{try_wait, ReturnWhen};
/// use detsim::time::{now, sleep, Duration};
/// detsim::run(async {
///     let a = detsim::spawn(async { sleep(Duration::from_secs(10)).await; Ok(()) });
///     let b = detsim::spawn(async { sleep(Duration::from_millis(10)).await; Err("zero") });
///     let r = try_wait(vec![b, a], None, ReturnWhen::FirstException).await;
///     assert_eq!((r.done.len(), r.pending.len()), (1, 1));
///     assert_eq!(now().to_string(), "0.01s");
/// });
/// ```
pub fn try_wait<T, E>(
    tasks: impl IntoIterator<Item = JoinHandle<Result<T, E>>>,
    timeout: Option<Duration>,
    when: ReturnWhen,
) -> Wait<Result<T, E>> {
    Wait::new(tasks.into_iter().collect(), timeout, when, errored::<T, E>)
}

/// The future of [`wait`] and [`try_wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    tasks: Vec<JoinHandle<T>>,
    timeout: Option<Duration>,
    sleep: Option<Sleep>,
    when: ReturnWhen,
    failed: fn(&Result<T, JoinError>) -> bool,
    started: bool,
    hops: Option<u8>,
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.tasks.len())
            .field("when", &self.when)
            .finish_non_exhaustive()
    }
}

impl<T> Wait<T> {
    fn new(
        tasks: Vec<JoinHandle<T>>,
        timeout: Option<Duration>,
        when: ReturnWhen,
        failed: fn(&Result<T, JoinError>) -> bool,
    ) -> Wait<T> {
        Wait {
            tasks,
            timeout,
            sleep: None,
            when,
            failed,
            started: false,
            hops: None,
        }
    }

    fn satisfied(&self) -> bool {
        let finished = self.tasks.iter().filter(|t| t.is_finished()).count();
        match self.when {
            ReturnWhen::AllCompleted => finished == self.tasks.len(),
            ReturnWhen::FirstCompleted => finished > 0,
            ReturnWhen::FirstException => {
                finished == self.tasks.len()
                    || self
                        .tasks
                        .iter()
                        .any(|t| t.peek(|r| r.is_some_and(self.failed)))
            }
        }
    }
}

impl<T> Unpin for Wait<T> {}

impl<T> Future for Wait<T> {
    type Output = WaitResult<T>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WaitResult<T>> {
        let this = &mut *self;
        let first = !this.started;
        if first {
            assert!(
                !this.tasks.is_empty(),
                "detsim::combinators::wait was given no tasks; pass at least one JoinHandle \
                 (asyncio raises ValueError here)"
            );
            this.started = true;
            if let Some(d) = this.timeout {
                this.sleep = Some(sleep_until(now() + d));
            }
        }
        if this.hops.is_none() {
            let timed_out = match &mut this.sleep {
                Some(s) => Pin::new(s).poll(cx).is_ready(),
                None => false,
            };
            if timed_out || this.satisfied() {
                // The done callback, then the waiter's wakeup; a wait that is satisfied when it
                // starts still goes through both (asyncio's add_done_callback on a done task).
                this.hops = Some(if first { 2 } else { 1 });
                this.sleep = None;
            }
        }
        match this.hops {
            Some(0) => {
                let (done, pending) = std::mem::take(&mut this.tasks)
                    .into_iter()
                    .partition(|t| t.is_finished());
                Poll::Ready(WaitResult { done, pending })
            }
            Some(n) => {
                this.hops = Some(n - 1);
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            None => {
                for t in this.tasks.iter_mut().filter(|t| !t.is_finished()) {
                    // Registers the waker (a task that has not finished is always pending)
                    // through a wait a cancellation does not follow:
                    // asyncio's `wait` neither shields nor cancels the tasks.
                    let _ = t.poll_watch(cx);
                }
                Poll::Pending
            }
        }
    }
}

/// One item of [`as_completed`]: the task's position in the input and its outcome.
pub type Completed<T> = (usize, Result<T, JoinError>);

struct AcState<T> {
    ready: RefCell<VecDeque<Completed<T>>>,
    waker: RefCell<Option<Waker>>,
}

/// Yields the outcome of each task in **completion order**, with the task's position in the
/// input; after `timeout`, yields one `Err(Elapsed)` for each task still running and ends
/// (asyncio's `as_completed`). The tasks are never cancelled.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use futures::StreamExt;
/// use detsim::combinators::as_completed;
/// use detsim::time::{sleep, Duration};
/// detsim::run(async {
///     let t = |ms, x| detsim::spawn(async move { sleep(Duration::from_millis(ms)).await; x });
///     let mut s = as_completed(vec![t(10, "b"), t(150, "c"), t(20, "a")], None);
///     let mut order = Vec::new();
///     while let Some(item) = s.next().await {
///         let (index, outcome) = item.unwrap();
///         order.push((index, outcome.unwrap()));
///     }
///     assert_eq!(order, [(0, "b"), (2, "a"), (1, "c")]);
/// });
/// ```
pub fn as_completed<T: 'static>(
    tasks: impl IntoIterator<Item = JoinHandle<T>>,
    timeout: Option<Duration>,
) -> AsCompleted<T> {
    let state = Rc::new(AcState {
        ready: RefCell::new(VecDeque::new()),
        waker: RefCell::new(None),
    });
    let mut watchers = Vec::new();
    for (i, h) in tasks.into_iter().enumerate() {
        let s = state.clone();
        let w = crate::task::named!("as_completed callback")
            .internal()
            .spawn(async move {
                let r = h.await;
                s.ready.borrow_mut().push_back((i, r));
                let w = s.waker.borrow_mut().take();
                if let Some(w) = w {
                    w.wake();
                }
            });
        watchers.push(w.cancel_handle());
    }
    let deadline = timeout.map(|d| now() + d);
    AsCompleted {
        remaining: watchers.len(),
        state,
        watchers,
        deadline,
        sleep: deadline.map(sleep_until),
        timed_out: false,
        hop: false,
    }
}

/// The stream of [`as_completed`]. Dropping it leaves the tasks running.
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<T> {
    state: Rc<AcState<T>>,
    watchers: Vec<CancelHandle>,
    remaining: usize,
    deadline: Option<Instant>,
    sleep: Option<Sleep>,
    timed_out: bool,
    hop: bool,
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .field("deadline", &self.deadline)
            .finish_non_exhaustive()
    }
}

impl<T> Unpin for AsCompleted<T> {}

impl<T> Stream for AsCompleted<T> {
    type Item = Result<Completed<T>, Elapsed>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        if this.timed_out {
            this.remaining -= 1;
            return Poll::Ready(Some(Err(Elapsed::new(this.deadline.unwrap_or_default()))));
        }
        let item = this.state.ready.borrow_mut().pop_front();
        if let Some(item) = item {
            this.remaining -= 1;
            return Poll::Ready(Some(Ok(item)));
        }
        if this.hop {
            // The timeout callback ran one hop ago: now the waiter resumes.
            this.timed_out = true;
            this.sleep = None;
            for w in std::mem::take(&mut this.watchers) {
                // Abort, not cancel: a watcher's end must not travel to the task it watches.
                w.abort();
            }
            this.remaining -= 1;
            return Poll::Ready(Some(Err(Elapsed::new(this.deadline.unwrap_or_default()))));
        }
        if let Some(s) = &mut this.sleep {
            if Pin::new(s).poll(cx).is_ready() {
                this.hop = true;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        *this.state.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T> Drop for AsCompleted<T> {
    fn drop(&mut self) {
        // Watchers hold the task handles; ending them detaches the tasks, which keep running.
        for w in std::mem::take(&mut self.watchers) {
            if crate::runtime::try_with_core(|_| ()).is_some() {
                w.abort(); // not cancel: that would travel to the watched task
            }
        }
    }
}

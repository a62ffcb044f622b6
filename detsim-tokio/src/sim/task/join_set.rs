//! `JoinSet`: tasks whose outputs come back in the order they finish.
//!
//! Each task is wrapped so that, when it ends (finishes, or is aborted: its future dropped), it
//! pushes its key to the set's completion queue and wakes the set's waiter. `join_next` pops that
//! queue, so outputs come back in completion order, as tokio's do.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::{Future, poll_fn};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{AbortHandle, Id, JoinError, JoinHandle, in_run};

#[derive(Default)]
pub(crate) struct Completions {
    done: RefCell<VecDeque<u64>>,
    waker: RefCell<Option<Waker>>,
}

impl Completions {
    fn push(&self, key: u64) {
        self.done.borrow_mut().push_back(key);
        let w = self.waker.borrow_mut().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

/// Pushes its key when dropped: when the task's future ends or is dropped by an abort.
struct Ended {
    key: u64,
    to: Rc<Completions>,
}

impl Drop for Ended {
    fn drop(&mut self) {
        self.to.push(self.key);
    }
}

/// A collection of tasks: tokio's `JoinSet`. Dropping it aborts every task still in it.
///
/// ```
/// use detsim_tokio::sim::{task::JoinSet, time::{sleep, Duration}};
/// detsim::run(async {
///     let mut set = JoinSet::new();
///     for ms in [30u64, 10, 20] {
///         set.spawn(async move { sleep(Duration::from_millis(ms)).await; ms });
///     }
///     let mut order = Vec::new();
///     while let Some(r) = set.join_next().await {
///         order.push(r.unwrap());
///     }
///     assert_eq!(order, [10, 20, 30]); // completion order
/// });
/// ```
pub struct JoinSet<T> {
    tasks: BTreeMap<u64, (JoinHandle<T>, AbortHandle)>,
    completions: Rc<Completions>,
    next_key: u64,
}

impl<T> Default for JoinSet<T> {
    fn default() -> Self {
        JoinSet::new()
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            tasks: BTreeMap::new(),
            completions: Rc::default(),
            next_key: 0,
        }
    }

    /// How many tasks are in the set (running, or ended but not yet joined).
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns a task into the set; tokio's `JoinSet::spawn`, without its `Send` bounds.
    #[track_caller]
    pub fn spawn<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        in_run("tokio::task::JoinSet::spawn");
        let key = self.next_key;
        self.next_key += 1;
        let ended = Ended {
            key,
            to: self.completions.clone(),
        };
        let h = JoinHandle::new(detsim::spawn(async move {
            let _ended = ended;
            task.await
        }));
        let abort = h.abort_handle();
        self.tasks.insert(key, (h, abort.clone()));
        abort
    }

    /// tokio's `JoinSet::spawn_local`: every task is local on detsim; see [`JoinSet::spawn`].
    #[track_caller]
    pub fn spawn_local<F>(&mut self, task: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.spawn(task)
    }

    /// tokio's `JoinSet::spawn_blocking`: the closure runs as one step of a simulated task.
    #[track_caller]
    pub fn spawn_blocking<F>(&mut self, f: F) -> AbortHandle
    where
        F: FnOnce() -> T + 'static,
    {
        self.spawn(async move { f() })
    }

    /// Waits for the next task to end and returns its outcome, or `None` if the set is empty.
    /// Outcomes come in the order the tasks ended. Cancel safe.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx))
            .await
            .map(|r| r.map(|(_, v)| v))
    }

    /// [`JoinSet::join_next`], with the task's id.
    pub async fn join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        poll_fn(|cx| self.poll_join_next(cx)).await
    }

    /// The outcome of a task that has already ended, without waiting; `None` if none has.
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.try_join_next_with_id().map(|r| r.map(|(_, v)| v))
    }

    /// [`JoinSet::try_join_next`], with the task's id.
    pub fn try_join_next_with_id(&mut self) -> Option<Result<(Id, T), JoinError>> {
        let mut cx = Context::from_waker(Waker::noop());
        match self.take_ended(&mut cx) {
            Poll::Ready(r) => r,
            Poll::Pending => None,
        }
    }

    fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(Id, T), JoinError>>> {
        if self.tasks.is_empty() {
            return Poll::Ready(None);
        }
        match self.take_ended(cx) {
            Poll::Ready(Some(r)) => Poll::Ready(Some(r)),
            _ => {
                *self.completions.waker.borrow_mut() = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }

    /// Pops the first ended task and takes its outcome.
    fn take_ended(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<(Id, T), JoinError>>> {
        loop {
            let key = self.completions.done.borrow_mut().pop_front();
            let Some(key) = key else {
                return Poll::Pending;
            };
            // A key whose handle is gone belongs to a detached task.
            let Some((mut h, a)) = self.tasks.remove(&key) else {
                continue;
            };
            let id = h.id();
            match std::pin::Pin::new(&mut h).poll(cx) {
                Poll::Ready(r) => return Poll::Ready(Some(r.map(|v| (id, v)))),
                Poll::Pending => {
                    // The task's future ended in this step, its outcome follows at once.
                    self.tasks.insert(key, (h, a));
                    self.completions.done.borrow_mut().push_front(key);
                    return Poll::Pending;
                }
            }
        }
    }

    /// Aborts every task in the set; they stay in it until joined.
    pub fn abort_all(&mut self) {
        for (_, a) in self.tasks.values() {
            a.abort();
        }
    }

    /// Aborts every task and waits for all of them to end; the set is then empty.
    pub async fn shutdown(&mut self) {
        self.abort_all();
        while self.join_next().await.is_some() {}
    }

    /// Removes every task from the set without aborting it: they keep running, detached.
    pub fn detach_all(&mut self) {
        self.tasks.clear();
        self.completions.done.borrow_mut().clear();
    }

    /// Waits for every task and returns their outputs in completion order.
    ///
    /// # Panics
    ///
    /// If a task panicked or was aborted, as tokio's `join_all` does.
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(r) = self.join_next().await {
            match r {
                Ok(v) => out.push(v),
                Err(e) => panic!("{e}"),
            }
        }
        out
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        // Outside a run (the run is over) there is nothing left to abort.
        if detsim::time::try_now().is_none() {
            return;
        }
        for (_, a) in self.tasks.values() {
            if !a.is_finished() {
                a.abort();
            }
        }
    }
}

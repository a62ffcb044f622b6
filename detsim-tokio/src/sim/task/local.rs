//! `LocalSet`: on detsim every task is already local, so a `LocalSet` only groups tasks so that
//! awaiting it waits for all of them.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{JoinHandle, in_run};

#[derive(Default)]
struct Live {
    count: Cell<usize>,
    waker: RefCell<Option<Waker>>,
}

struct Ended(Rc<Live>);

impl Drop for Ended {
    fn drop(&mut self) {
        self.0.count.set(self.0.count.get() - 1);
        if self.0.count.get() == 0 {
            let w = self.0.waker.borrow_mut().take();
            if let Some(w) = w {
                w.wake();
            }
        }
    }
}

/// tokio's `LocalSet`. Tasks spawned through it are ordinary detsim tasks (every detsim task is
/// local); awaiting the set waits until all of them have ended.
///
/// Under detsim, [`LocalSet::spawn_local`] must be called inside a run (inside `run_until`,
/// `block_on`, a test body…): it starts the task at once rather than when the set is first run.
///
/// ```
/// use std::rc::Rc;
/// use detsim_tokio::sim::task::{self, LocalSet};
/// detsim::run(async {
///     let local = LocalSet::new();
///     let v = local.run_until(async {
///         let rc = Rc::new(3);
///         task::spawn_local(async move { *rc * 2 }).await.unwrap()
///     }).await;
///     assert_eq!(v, 6);
/// });
/// ```
#[derive(Default)]
pub struct LocalSet {
    live: Rc<Live>,
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("tasks", &self.live.count.get())
            .finish()
    }
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet::default()
    }

    /// Spawns a task that belongs to this set.
    ///
    /// # Panics
    ///
    /// Outside a detsim run.
    #[track_caller]
    pub fn spawn_local<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        in_run("tokio::task::LocalSet::spawn_local");
        self.live.count.set(self.live.count.get() + 1);
        let ended = Ended(self.live.clone());
        JoinHandle::new(detsim::spawn(async move {
            let _ended = ended;
            future.await
        }))
    }

    /// Runs `future` to completion; the set's tasks run alongside it (as every task does).
    pub async fn run_until<F: Future>(&self, future: F) -> F::Output {
        future.await
    }

    /// Runs `future` on `rt`: [`Runtime::block_on`](crate::sim::runtime::Runtime::block_on).
    pub fn block_on<F: Future>(&self, rt: &crate::sim::runtime::Runtime, future: F) -> F::Output {
        rt.block_on(future)
    }
}

impl Future for LocalSet {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.live.count.get() == 0 {
            return Poll::Ready(());
        }
        *self.live.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

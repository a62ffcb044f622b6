//! `JoinHandle` and `CancelHandle`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{JoinError, TaskId};
use crate::runtime::{self, JoinSink, WaitOn};

pub(crate) struct JoinState<T> {
    result: RefCell<Option<Result<T, JoinError>>>,
    finished: Cell<bool>,
    waiter: RefCell<Option<Waker>>,
}

impl<T> JoinState<T> {
    pub(crate) fn new() -> JoinState<T> {
        JoinState {
            result: RefCell::new(None),
            finished: Cell::new(false),
            waiter: RefCell::new(None),
        }
    }

    pub(crate) fn complete(&self, r: Result<T, JoinError>) {
        if self.finished.replace(true) {
            return;
        }
        *self.result.borrow_mut() = Some(r);
        let w = self.waiter.borrow_mut().take();
        if let Some(w) = w {
            w.wake();
        }
    }
}

impl<T> JoinSink for JoinState<T> {
    fn fail(&self, err: JoinError) {
        self.complete(Err(err));
    }
}

/// A handle to a spawned task: a future of its output, and the means to cancel it.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task was cancelled or panicked.
/// Dropping it detaches the task.
///
/// ```
/// use detsim::time::{sleep, Duration};
/// detsim::run(async {
///     let h = detsim::spawn(sleep(Duration::from_secs(5)));
///     detsim::yield_now().await;
///     assert!(h.cancel());
///     assert!(h.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct JoinHandle<T> {
    id: TaskId,
    state: Rc<JoinState<T>>,
    taken: bool,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id)
            .field("finished", &self.state.finished.get())
            .finish()
    }
}

impl<T> JoinHandle<T> {
    pub(crate) fn new(id: TaskId, state: Rc<JoinState<T>>) -> JoinHandle<T> {
        JoinHandle {
            id,
            state,
            taken: false,
        }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Whether the task has ended (finished, cancelled or panicked).
    pub fn is_finished(&self) -> bool {
        self.state.finished.get()
    }

    /// Looks at the task's outcome without taking it: `None` while it runs (used by `wait`).
    pub(crate) fn peek<R>(&self, f: impl FnOnce(Option<&Result<T, JoinError>>) -> R) -> R {
        f(self.state.result.borrow().as_ref())
    }

    /// A clonable handle that can only cancel the task: hand it to other tasks or timers
    /// (asyncio lets any code call `task.cancel()`), while this handle awaits the output.
    ///
    /// ```
    /// use detsim::time::{now, sleep, Duration};
    /// detsim::run(async {
    ///     let sleeper = detsim::spawn(sleep(Duration::from_secs(5000)));
    ///     let c = sleeper.cancel_handle();
    ///     detsim::spawn(async move {
    ///         sleep(Duration::from_millis(100)).await;
    ///         c.cancel();
    ///     });
    ///     assert!(sleeper.await.unwrap_err().is_cancelled());
    ///     assert_eq!(now().to_string(), "0.1s");
    /// });
    /// ```
    pub fn cancel_handle(&self) -> CancelHandle
    where
        T: 'static,
    {
        CancelHandle {
            id: self.id,
            finished: self.state.clone(),
        }
    }

    /// Requests cancellation, with asyncio's timing: the task becomes runnable, and when it would
    /// next run, its future is dropped instead of polled. Returns `false` if the task has already
    /// ended; repeated calls before then return `true`.
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    ///
    /// ```
    /// detsim::run(async {
    ///     let h = detsim::spawn(async { 1 });
    ///     assert_eq!(detsim::spawn(async {}).await.unwrap(), ()); // let `h` finish
    ///     assert!(!h.cancel()); // already finished
    ///     assert_eq!(h.await.unwrap(), 1);
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        if self.state.finished.get() {
            return false;
        }
        runtime::with_core("JoinHandle::cancel", |c| c.cancel(self.id))
    }
}

/// Cancels a task; see [`JoinHandle::cancel_handle`]. Cloning it is cheap.
#[derive(Clone)]
pub struct CancelHandle {
    id: TaskId,
    finished: Rc<dyn Finished>,
}

trait Finished {
    fn finished(&self) -> bool;
}

impl<T> Finished for JoinState<T> {
    fn finished(&self) -> bool {
        self.finished.get()
    }
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("id", &self.id)
            .finish()
    }
}

impl CancelHandle {
    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.finished.finished()
    }

    /// Requests cancellation; see [`JoinHandle::cancel`].
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    pub fn cancel(&self) -> bool {
        if self.finished.finished() {
            return false;
        }
        runtime::with_core("CancelHandle::cancel", |c| c.cancel(self.id))
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.taken {
            panic!(
                "JoinHandle for task {} polled after it returned its result; a JoinHandle yields \
                 its output once",
                self.id
            );
        }
        let ready = self.state.result.borrow_mut().take();
        if let Some(r) = ready {
            self.taken = true;
            return Poll::Ready(r);
        }
        let id = self.id;
        runtime::with_core("awaiting a JoinHandle", |c| {
            if c.current_task() == Some(id) {
                panic!(
                    "task {id} awaits its own JoinHandle, which can never complete; a task cannot \
                     wait for itself"
                );
            }
            c.set_waiting(WaitOn::Join(id));
        });
        let mut w = self.state.waiter.borrow_mut();
        match &*w {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

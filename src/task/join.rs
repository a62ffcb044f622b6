//! `JoinHandle` and `CancelHandle`.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use super::{JoinError, TaskId};
use crate::runtime::{self, CancelKind, JoinSink, WaitOn};

pub(crate) struct JoinState<T> {
    /// The value (stored by the task's own future before it returns) or the error; taken by
    /// the `JoinHandle` when awaited.
    result: RefCell<Option<Result<T, JoinError>>>,
    /// A copy of the error, kept after the result is taken, for `error()` and `cancelled()`.
    error: RefCell<Option<JoinError>>,
    finished: Cell<bool>,
    observed: Cell<bool>,
    waiter: RefCell<Option<Waker>>,
}

impl<T> JoinState<T> {
    pub(crate) fn new() -> JoinState<T> {
        JoinState {
            result: RefCell::new(None),
            error: RefCell::new(None),
            finished: Cell::new(false),
            observed: Cell::new(false),
            waiter: RefCell::new(None),
        }
    }

    /// The task's value, stored by its future just before it returns; the runtime settles it.
    pub(crate) fn store(&self, v: T) {
        *self.result.borrow_mut() = Some(Ok(v));
    }
}

impl<T> JoinSink for JoinState<T> {
    fn settle(&self, r: Result<(), JoinError>) {
        if self.finished.replace(true) {
            return;
        }
        if let Err(e) = r {
            *self.error.borrow_mut() = Some(e.clone());
            // A task that cancelled itself and then returned: its stored value is discarded
            // (dropped here, after the borrow ends).
            let old = self.result.borrow_mut().replace(Err(e));
            drop(old);
        }
        let w = self.waiter.borrow_mut().take();
        if let Some(w) = w {
            w.wake();
        }
    }

    fn is_done(&self) -> bool {
        self.finished.get()
    }

    fn peek_error(&self) -> Option<JoinError> {
        self.error.borrow().clone()
    }

    fn mark_observed(&self) {
        self.observed.set(true);
    }

    fn observed(&self) -> bool {
        self.observed.get()
    }
}

/// A handle to a spawned task: a future of its output, and the means to inspect and cancel it.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task was cancelled or panicked.
/// Dropping it detaches the task (it keeps running).
///
/// # Cancelling a task that awaits another
///
/// [`cancel`](JoinHandle::cancel) is asyncio's `Task.cancel()`: if the task is suspended on
/// another task's `JoinHandle` (or on a gather, or a `wait_for`), that task is cancelled first
/// and the outer task ends one hop after it, when the awaited task's cancellation reaches it —
/// exactly as asyncio's `_fut_waiter` makes it travel. [`shield`](crate::combinators::shield)
/// stops it. [`abort`](JoinHandle::abort) is tokio's: the task's future is dropped at its next
/// turn and what it awaited is only detached.
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

    /// Whether the task has ended (asyncio's `Task.done()`); the same as
    /// [`is_finished`](JoinHandle::is_finished).
    pub fn done(&self) -> bool {
        self.state.finished.get()
    }

    /// Whether the task ended cancelled (asyncio's `Task.cancelled()`).
    ///
    /// ```
    /// detsim::run(async {
    ///     let h = detsim::spawn(async { 1 });
    ///     h.cancel(); // before it ever ran
    ///     detsim::yield_now().await;
    ///     assert!(h.done() && h.cancelled());
    /// });
    /// ```
    pub fn cancelled(&self) -> bool {
        self.state
            .error
            .borrow()
            .as_ref()
            .is_some_and(|e| e.is_cancelled())
    }

    /// Why the task produced no value, without waiting: `None` while it runs or if it returned
    /// (asyncio's `Task.exception()`, with a cancellation as an error instead of raised). Reading
    /// it counts as observing the task's failure; the handle can still be awaited.
    ///
    /// ```
    /// let r = detsim::Builder::new().fail_on_task_panic(false).run(async {
    ///     let h = detsim::spawn(async { panic!("boom") });
    ///     assert_eq!(h.error(), None); // still running
    ///     detsim::yield_now().await;
    ///     assert_eq!(h.error().unwrap().panic_message(), Some("boom"));
    ///     h.await.unwrap_err().to_string() // still awaitable
    /// });
    /// assert_eq!(r.unwrap(), "task panicked: boom");
    /// ```
    pub fn error(&self) -> Option<JoinError> {
        let e = self.state.error.borrow().clone();
        if e.is_some() {
            self.state.observed.set(true);
        }
        e
    }

    /// The task's outcome without waiting and without taking it (asyncio's `Task.result()`):
    /// `None` while the task runs, or once awaiting the handle has moved the value out;
    /// otherwise a clone of its value, or its [`JoinError`]. The handle can still be awaited.
    ///
    /// ```
    /// detsim::run(async {
    ///     let h = detsim::spawn(async { 7 });
    ///     assert_eq!(h.result(), None);
    ///     detsim::yield_now().await;
    ///     assert_eq!(h.result(), Some(Ok(7)));
    ///     assert_eq!(h.await, Ok(7));
    /// });
    /// ```
    pub fn result(&self) -> Option<Result<T, JoinError>>
    where
        T: Clone,
    {
        if !self.state.finished.get() {
            return None;
        }
        let r = self.state.result.borrow().clone();
        if r.is_some() {
            self.state.observed.set(true);
        }
        r
    }

    /// Looks at the task's outcome without taking it: `None` while it runs (used by `wait`).
    pub(crate) fn peek<R>(&self, f: impl FnOnce(Option<&Result<T, JoinError>>) -> R) -> R {
        if !self.state.finished.get() {
            return f(None);
        }
        f(self.state.result.borrow().as_ref())
    }

    /// A clonable handle that can cancel and inspect the task: hand it to other tasks or timers
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
            state: self.state.clone(),
        }
    }

    /// Requests cancellation, with asyncio's timing and reach (`Task.cancel()`): the task becomes
    /// runnable, and when it would next run, its future is dropped instead of polled. If it is
    /// suspended on another task, a gather or a `wait_for`, that is cancelled first and this task
    /// ends when it has (see the type's docs). Returns `false` if the task has already ended;
    /// repeated calls before then return `true`.
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
        request(
            self.id,
            &*self.state,
            None,
            CancelKind::Cancel,
            "JoinHandle::cancel",
        )
    }

    /// [`cancel`](JoinHandle::cancel) with a message, which whoever awaits the task sees in
    /// [`JoinError::cancel_message`] (asyncio's `Task.cancel(msg)`).
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    ///
    /// ```
    /// use detsim::time::{sleep, Duration};
    /// detsim::run(async {
    ///     let h = detsim::spawn(sleep(Duration::from_secs(5)));
    ///     h.cancel_with("shutting down");
    ///     assert_eq!(h.await.unwrap_err().cancel_message(), Some("shutting down"));
    /// });
    /// ```
    pub fn cancel_with(&self, message: impl Into<String>) -> bool {
        let m = message.into();
        request(
            self.id,
            &*self.state,
            Some(&m),
            CancelKind::Cancel,
            "JoinHandle::cancel_with",
        )
    }

    /// Drops the task's future at its next turn, with the same timing as
    /// [`cancel`](JoinHandle::cancel) but **without** cancelling what it awaits: a task or gather
    /// it waits for is only detached and keeps running (tokio's `JoinHandle::abort`). Returns
    /// `false` if the task has already ended.
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    ///
    /// ```
    /// use detsim::time::{sleep, Duration};
    /// detsim::run(async {
    ///     let inner = detsim::spawn(async { sleep(Duration::from_secs(1)).await; "inner done" });
    ///     let watch = inner.cancel_handle();
    ///     let outer = detsim::spawn(async move { inner.await.unwrap() });
    ///     detsim::yield_now().await;
    ///     outer.abort();
    ///     assert!(outer.await.unwrap_err().is_cancelled());
    ///     assert!(!watch.done()); // cancel() would have cancelled it too
    /// });
    /// ```
    pub fn abort(&self) -> bool {
        request(
            self.id,
            &*self.state,
            None,
            CancelKind::Abort,
            "JoinHandle::abort",
        )
    }

    /// How many cancellations of the task were requested and not taken back by
    /// [`uncancel`](CancelHandle::uncancel) (asyncio's `Task.cancelling()`); kept after the task
    /// ends.
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    pub fn cancelling(&self) -> u32 {
        cancelling(self.id)
    }

    /// Awaits the task as [`shield`](crate::combinators::shield) does: a cancellation of the
    /// awaiting task does not travel to this one.
    pub(crate) fn poll_watch(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        self.poll_with(cx, WaitOn::Watch(self.id))
    }

    fn poll_with(&mut self, cx: &mut Context<'_>, on: WaitOn) -> Poll<Result<T, JoinError>> {
        if self.taken {
            panic!(
                "JoinHandle for task {} polled after it returned its result; a JoinHandle yields \
                 its output once",
                self.id
            );
        }
        if self.state.finished.get() {
            let ready = self.state.result.borrow_mut().take();
            if let Some(r) = ready {
                self.taken = true;
                self.state.observed.set(true);
                return Poll::Ready(r);
            }
        }
        let id = self.id;
        runtime::with_core("awaiting a JoinHandle", |c| {
            if c.current_task() == Some(id) {
                panic!(
                    "task {id} awaits its own JoinHandle, which can never complete; a task cannot \
                     wait for itself"
                );
            }
            c.set_waiting(on);
        });
        let mut w = self.state.waiter.borrow_mut();
        match &*w {
            Some(old) if old.will_wake(cx.waker()) => {}
            _ => *w = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

fn request(
    id: TaskId,
    state: &dyn JoinSink,
    message: Option<&str>,
    kind: CancelKind,
    api: &str,
) -> bool {
    if state.is_done() {
        return false;
    }
    runtime::with_core(api, |c| c.request_cancel(id, message, kind))
}

fn cancelling(id: TaskId) -> u32 {
    runtime::with_core("cancelling()", |c| c.cancel_requests(id))
}

/// Cancels and inspects a task; see [`JoinHandle::cancel_handle`] and
/// [`current`](crate::task::current). Cloning it is cheap.
#[derive(Clone)]
pub struct CancelHandle {
    id: TaskId,
    state: Rc<dyn JoinSink>,
}

impl fmt::Debug for CancelHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancelHandle")
            .field("id", &self.id)
            .finish()
    }
}

impl CancelHandle {
    pub(crate) fn from_sink(id: TaskId, state: Rc<dyn JoinSink>) -> CancelHandle {
        CancelHandle { id, state }
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Whether the task has ended.
    pub fn is_finished(&self) -> bool {
        self.state.is_done()
    }

    /// Whether the task has ended (asyncio's `Task.done()`).
    pub fn done(&self) -> bool {
        self.state.is_done()
    }

    /// Whether the task ended cancelled (asyncio's `Task.cancelled()`).
    pub fn cancelled(&self) -> bool {
        self.state.peek_error().is_some_and(|e| e.is_cancelled())
    }

    /// Why the task produced no value; see [`JoinHandle::error`].
    pub fn error(&self) -> Option<JoinError> {
        let e = self.state.peek_error();
        if e.is_some() {
            self.state.mark_observed();
        }
        e
    }

    /// Counts the task's outcome as read (a task group reports its child's panic itself).
    pub(crate) fn mark_observed(&self) {
        self.state.mark_observed();
    }

    /// Requests cancellation; see [`JoinHandle::cancel`].
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    pub fn cancel(&self) -> bool {
        request(
            self.id,
            &*self.state,
            None,
            CancelKind::Cancel,
            "CancelHandle::cancel",
        )
    }

    /// Requests cancellation with a message; see [`JoinHandle::cancel_with`].
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    pub fn cancel_with(&self, message: impl Into<String>) -> bool {
        let m = message.into();
        request(
            self.id,
            &*self.state,
            Some(&m),
            CancelKind::Cancel,
            "CancelHandle::cancel_with",
        )
    }

    /// Drops the task's future at its next turn without cancelling what it awaits; see
    /// [`JoinHandle::abort`].
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    pub fn abort(&self) -> bool {
        request(
            self.id,
            &*self.state,
            None,
            CancelKind::Abort,
            "CancelHandle::abort",
        )
    }

    /// How many cancellations of the task are pending; see [`JoinHandle::cancelling`].
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    pub fn cancelling(&self) -> u32 {
        cancelling(self.id)
    }

    /// Takes one requested cancellation back (asyncio's `Task.uncancel()`) and returns how many
    /// remain; at zero, a cancellation not yet delivered to a
    /// [`cancellable`](crate::task::cancellable) await is forgotten. Typically the task's own
    /// code calls it, through [`current`](crate::task::current), after catching a cancellation
    /// it means to ignore.
    ///
    /// # Panics
    ///
    /// Outside the run the task belongs to.
    pub fn uncancel(&self) -> u32 {
        runtime::with_core("CancelHandle::uncancel", |c| c.uncancel(self.id))
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.id;
        self.poll_with(cx, WaitOn::Join(id))
    }
}

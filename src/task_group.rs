//! Structured concurrency: [`task_group`] (asyncio's `TaskGroup`).
//!
//! # Shape
//!
//! A group is a **scope function**: `task_group(|g| async move { ... })` runs the body with a
//! [`TaskGroup`] handle, and the returned future ends only after the body and every child have
//! ended. Because the group's lifetime is the future's, there is no way to "enter" it twice, to
//! spawn before it exists or to forget to wait for it — the misuses asyncio reports at run time
//! (case TG-16) cannot be written. The handle is `Clone` and `'static`, so children can spawn
//! siblings; a handle kept past the end of its group refuses to spawn ([`SpawnError::Finished`]).
//!
//! # Invariants
//!
//! * No child outlives the group: the future returns only when every child has ended. If the
//!   group future itself is dropped (its task cancelled), the body is dropped and every child is
//!   cancelled at once; each child's future is dropped when it would next run.
//! * The first child failure — an `Err` or a panic — aborts the group: every other child is
//!   cancelled (in spawn order) and the body is dropped at its current await. Later failures are
//!   only collected. A child that is cancelled on its own does not affect the group.
//! * A body that returns `Err` aborts the group the same way.
//! * Errors beat cancellation: the group returns every child error in **completion order**,
//!   followed by the body's error, in one [`TaskGroupError`].
//! * Timing is asyncio's: a child's end is handled by a done callback queued when it ends, and the
//!   body is interrupted by a wakeup queued by that callback.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use crate::combinators::{OnDrop, call_soon};
use crate::task::{CancelHandle, JoinHandle};

/// How one member of a group failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChildFailure<E> {
    /// It returned this error.
    Error(E),
    /// It panicked with this message (only seen with `Builder::fail_on_task_panic(false)`; by
    /// default a panic fails the whole run).
    Panicked(String),
}

impl<E: fmt::Display> fmt::Display for ChildFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChildFailure::Error(e) => e.fmt(f),
            ChildFailure::Panicked(m) => write!(f, "panicked: {m}"),
        }
    }
}

/// The error of a failed group: every child failure in completion order, then the body's error
/// (asyncio's `ExceptionGroup`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskGroupError<E> {
    errors: Vec<ChildFailure<E>>,
}

impl<E> TaskGroupError<E> {
    /// The failures, children's first (in completion order), then the body's.
    pub fn errors(&self) -> &[ChildFailure<E>] {
        &self.errors
    }

    /// The failures, by value.
    pub fn into_errors(self) -> Vec<ChildFailure<E>> {
        self.errors
    }
}

impl<E: fmt::Display> fmt::Display for TaskGroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unhandled errors in a task group ({}):",
            self.errors.len()
        )?;
        for e in &self.errors {
            write!(f, " [{e}]")?;
        }
        Ok(())
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for TaskGroupError<E> {}

/// Why [`TaskGroup::spawn`] refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpawnError {
    /// The group has ended; its children cannot outlive it.
    Finished,
    /// The group is aborting after a failure; it accepts no new children.
    ShuttingDown,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpawnError::Finished => f.write_str(
                "TaskGroup is finished: a task group's children cannot outlive it; spawn into a \
                 group whose scope is still running",
            ),
            SpawnError::ShuttingDown => f.write_str(
                "TaskGroup is shutting down: a child failed and the group is cancelling the \
                 others, so it accepts no new tasks",
            ),
        }
    }
}

impl std::error::Error for SpawnError {}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Open,
    Aborting,
    Finished,
}

struct GroupState<E> {
    /// For deadlock reports: a blocked parent "waits for TaskGroup held by" its live children.
    res: crate::sync::resource::Resource,
    phase: Cell<Phase>,
    children: RefCell<Vec<CancelHandle>>,
    live: Cell<usize>,
    errors: RefCell<Vec<ChildFailure<E>>>,
    parent: RefCell<Option<Waker>>,
}

enum ChildEnd<E> {
    Ok,
    Cancelled,
    Failed(ChildFailure<E>),
}

impl<E> GroupState<E> {
    fn wake_parent(&self) {
        let w = self.parent.borrow().clone();
        if let Some(w) = w {
            w.wake();
        }
    }

    fn abort(&self) {
        self.phase.set(Phase::Aborting);
        let children = self.children.borrow().clone();
        for c in children {
            c.cancel();
        }
    }

    /// A child's done callback (asyncio's `_on_task_done`).
    fn child_done(&self, end: ChildEnd<E>) {
        self.live.set(self.live.get() - 1);
        if self.live.get() == 0 {
            self.wake_parent();
        }
        if let ChildEnd::Failed(f) = end {
            self.errors.borrow_mut().push(f);
            if self.phase.get() == Phase::Open {
                self.abort();
                self.wake_parent();
            }
        }
    }
}

/// A handle to a running group, given to the body of [`task_group`]; clone it to let children
/// spawn siblings.
pub struct TaskGroup<E> {
    state: Rc<GroupState<E>>,
}

impl<E> Clone for TaskGroup<E> {
    fn clone(&self) -> Self {
        TaskGroup {
            state: self.state.clone(),
        }
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroup")
            .field("phase", &self.state.phase.get())
            .field("live", &self.state.live.get())
            .finish()
    }
}

fn panic_message(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_string()
    }
}

pin_project_lite::pin_project! {
    /// Polls `fut`, noting a panic's message before letting it unwind on.
    struct NotePanic<F> {
        #[pin]
        fut: F,
        note: Rc<RefCell<Option<String>>>,
    }
}

impl<F: Future> Future for NotePanic<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let fut = this.fut;
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(p) => p,
            Err(payload) => {
                *this.note.borrow_mut() = Some(panic_message(&*payload));
                resume_unwind(payload)
            }
        }
    }
}

impl<E: 'static> TaskGroup<E> {
    /// Spawns `fut` as a child of the group. Its handle gives `Some(value)` if it succeeded and
    /// `None` if it returned an error (the error goes to the group's [`TaskGroupError`]).
    ///
    /// Allowed while the body runs and while the group waits for its children (so children may
    /// spawn siblings); refused once the group is aborting or finished.
    ///
    /// # Panics
    ///
    /// Outside a detsim run.
    ///
    /// ```
    /// use detsim::task_group::{task_group, SpawnError};
    /// detsim::run(async {
    ///     let mut kept = None;
    ///     let r = task_group(|g| {
    ///         kept = Some(g.clone());
    ///         async move {
    ///             let h = g.spawn(async { Ok::<_, String>(2) }).unwrap();
    ///             Ok(h.await.unwrap())
    ///         }
    ///     }).await;
    ///     assert_eq!(r, Ok(Some(2)));
    ///     let late = kept.unwrap().spawn(async { Ok(()) });
    ///     assert_eq!(late.unwrap_err(), SpawnError::Finished);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<T, F>(&self, fut: F) -> Result<JoinHandle<Option<T>>, SpawnError>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        match self.state.phase.get() {
            Phase::Open => {}
            Phase::Aborting => return Err(SpawnError::ShuttingDown),
            Phase::Finished => return Err(SpawnError::Finished),
        }
        let state = self.state.clone();
        let note = Rc::new(RefCell::new(None));
        let fut = NotePanic {
            fut,
            note: note.clone(),
        };
        let end: Rc<RefCell<Option<ChildEnd<E>>>> = Rc::new(RefCell::new(None));
        let e2 = end.clone();
        // However the child ends, its done callback is queued at that moment; the guard lives in
        // the task's future, so it fires even for a child cancelled before it first ran.
        let me: Rc<RefCell<Option<CancelHandle>>> = Rc::new(RefCell::new(None));
        let me2 = me.clone();
        let cb = OnDrop(Some(move || {
            let outcome = match (e2.borrow_mut().take(), note.borrow_mut().take()) {
                (Some(end), _) => end,
                (None, Some(m)) => {
                    // The group reports the panic: it is not an unseen one.
                    if let Some(c) = me2.borrow_mut().take() {
                        c.mark_observed();
                    }
                    ChildEnd::Failed(ChildFailure::Panicked(m))
                }
                (None, None) => ChildEnd::Cancelled,
            };
            call_soon("task group callback", move || state.child_done(outcome));
        }));
        let h = crate::task::named!("task group child").spawn(async move {
            let _cb = cb;
            match fut.await {
                Ok(v) => {
                    *end.borrow_mut() = Some(ChildEnd::Ok);
                    Some(v)
                }
                Err(e) => {
                    *end.borrow_mut() = Some(ChildEnd::Failed(ChildFailure::Error(e)));
                    None
                }
            }
        });
        self.state.live.set(self.state.live.get() + 1);
        *me.borrow_mut() = Some(h.cancel_handle());
        self.state.children.borrow_mut().push(h.cancel_handle());
        Ok(h)
    }

    /// Whether the group has ended.
    ///
    /// ```
    /// use detsim::task_group::task_group;
    /// detsim::run(async {
    ///     let mut kept = None;
    ///     task_group(|g| { kept = Some(g.clone()); async { Ok::<_, ()>(()) } }).await.unwrap();
    ///     assert!(kept.unwrap().is_finished());
    /// });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.state.phase.get() == Phase::Finished
    }

    /// How many children have not yet been handled as ended.
    ///
    /// ```
    /// use detsim::task_group::task_group;
    /// detsim::run(async {
    ///     task_group(|g| async move {
    ///         g.spawn(async { Ok(()) }).unwrap();
    ///         assert_eq!(g.live_children(), 1);
    ///         Ok::<_, ()>(())
    ///     }).await.unwrap();
    /// });
    /// ```
    pub fn live_children(&self) -> usize {
        self.state.live.get()
    }
}

/// Runs `body` as the body of a new task group and waits for it and every child it spawned.
///
/// `Ok(value)` is the body's value when neither it nor any child failed. Otherwise the result is
/// a [`TaskGroupError`] holding every child failure in completion order, then the body's error.
/// See the [module docs](self) for the rules.
///
/// # Panics
///
/// When spawning children outside a detsim run.
///
/// ```
/// use detsim::task_group::{task_group, ChildFailure};
/// use detsim::time::{now, sleep, Duration};
/// detsim::run(async {
///     let r = task_group(|g| async move {
///         g.spawn(async { sleep(Duration::from_millis(100)).await; Err::<(), _>("boom") }).unwrap();
///         let sibling = g.spawn(async { sleep(Duration::from_secs(1)).await; Ok(()) }).unwrap();
///         let _ = sibling; // cancelled when the first child fails
///         sleep(Duration::from_secs(10)).await; // the body is cancelled too
///         Ok::<_, &str>(())
///     }).await;
///     assert_eq!(r.unwrap_err().errors(), [ChildFailure::Error("boom")]);
///     assert_eq!(now().to_string(), "0.1s");
/// });
/// ```
pub fn task_group<E, R, F, Fut>(body: F) -> TaskGroupScope<Fut, E>
where
    E: 'static,
    F: FnOnce(TaskGroup<E>) -> Fut,
    Fut: Future<Output = Result<R, E>>,
{
    let state = Rc::new(GroupState {
        res: crate::sync::resource::Resource::new("TaskGroup", None),
        phase: Cell::new(Phase::Open),
        children: RefCell::new(Vec::new()),
        live: Cell::new(0),
        errors: RefCell::new(Vec::new()),
        parent: RefCell::new(None),
    });
    let body = body(TaskGroup {
        state: state.clone(),
    });
    TaskGroupScope {
        state,
        body: Some(Box::pin(body)),
        value: None,
        body_error: None,
    }
}

/// The future of [`task_group`]. Dropping it cancels the body and every child.
#[must_use = "futures do nothing unless awaited"]
pub struct TaskGroupScope<Fut: Future, E> {
    state: Rc<GroupState<E>>,
    body: Option<Pin<Box<Fut>>>,
    value: Option<Fut::Output>,
    body_error: Option<E>,
}

impl<Fut: Future, E> fmt::Debug for TaskGroupScope<Fut, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskGroupScope")
            .field("phase", &self.state.phase.get())
            .field("live", &self.state.live.get())
            .field("body_running", &self.body.is_some())
            .finish()
    }
}

impl<Fut: Future, E> Unpin for TaskGroupScope<Fut, E> {}

impl<R, E, Fut> Future for TaskGroupScope<Fut, E>
where
    Fut: Future<Output = Result<R, E>>,
{
    type Output = Result<R, TaskGroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        {
            let mut p = this.state.parent.borrow_mut();
            match &*p {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *p = Some(cx.waker().clone()),
            }
        }
        if let Some(body) = &mut this.body {
            if this.state.phase.get() == Phase::Aborting {
                // A child failed: the body is cancelled at its current await.
                this.body = None;
            } else {
                match body.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(Ok(v)) => {
                        this.body = None;
                        this.value = Some(Ok(v));
                    }
                    Poll::Ready(Err(e)) => {
                        this.body = None;
                        this.body_error = Some(e);
                        if this.state.phase.get() == Phase::Open {
                            this.state.abort();
                        }
                    }
                }
            }
        }
        if this.state.live.get() > 0 {
            let live = this.state.children.borrow();
            this.state
                .res
                .block_on_tasks(live.iter().filter(|c| !c.is_finished()).map(|c| c.id()));
            return Poll::Pending;
        }
        this.state.phase.set(Phase::Finished);
        *this.state.parent.borrow_mut() = None;
        let mut errors = std::mem::take(&mut *this.state.errors.borrow_mut());
        if let Some(e) = this.body_error.take() {
            errors.push(ChildFailure::Error(e));
        }
        if !errors.is_empty() {
            return Poll::Ready(Err(TaskGroupError { errors }));
        }
        match this.value.take() {
            Some(Ok(v)) => Poll::Ready(Ok(v)),
            _ => panic!("detsim: a task group was polled after it returned; await it only once"),
        }
    }
}

impl<Fut: Future, E> Drop for TaskGroupScope<Fut, E> {
    fn drop(&mut self) {
        if self.state.phase.get() == Phase::Finished {
            return;
        }
        // Cancelled from outside: the body first (as asyncio interrupts it), then every child.
        self.body = None;
        *self.state.parent.borrow_mut() = None;
        if crate::runtime::try_with_core(|_| ()).is_some() {
            self.state.abort();
        }
        self.state.phase.set(Phase::Finished);
    }
}

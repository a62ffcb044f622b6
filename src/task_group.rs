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
//! * Cooperative form: if the body is suspended inside a
//!   [`cancellable`](crate::task::cancellable) await of its own when a child fails, the group
//!   cancels its task instead of dropping the body (asyncio 3.13's `_on_task_done` calling
//!   `parent_task.cancel()`), once per group: the body receives `Err(Cancelled)` and runs on —
//!   it may clean up with awaits, return an error (collected after the children's), or re-raise
//!   with [`Cancelled::propagate`](crate::task::Cancelled::propagate), which the group takes (the
//!   task is not ended). When the group ends it takes its request back with `uncancel()`
//!   (asyncio's `__aexit__`), so the task's
//!   [`cancelling()`](crate::task::CancelHandle::cancelling) is what it was before the group.
//!   A `cancellable` await outside the group (around it) does not count.
//! * [`TaskGroupScope::cooperative`] also makes the group's wait for its children such a point
//!   (asyncio's `__aexit__`): a cancellation from outside cancels the children, is re-raised
//!   once they have ended (errors beat it), and a nested group takes an enclosing group's
//!   cancellation there. Without it a cancellation while the group waits drops its future.
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

use crate::base::TaskId;
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
    /// The task running the group, and how many `cancellable` awaits it had in progress when
    /// the group was entered (the body is under the cooperative form while it has more).
    parent_task: Cell<Option<(TaskId, u32)>>,
    /// The group cancelled its parent task and must take that request back when it ends
    /// (asyncio's `_parent_cancel_requested`).
    parent_cancel_requested: Cell<bool>,
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
                if !self.cancel_parent() {
                    self.wake_parent();
                }
            }
        }
    }

    /// asyncio's `_on_task_done` cancelling the parent task: done when the task is inside a
    /// `cancellable` await entered within the group (the body's own, or a cooperative group
    /// waiting for its children), which then receives the cancellation as a value. Returns
    /// whether it did; otherwise the body is dropped at the parent's next turn.
    fn cancel_parent(&self) -> bool {
        let Some((task, floor)) = self.parent_task.get() else {
            return false;
        };
        if self.parent_cancel_requested.get() {
            return false;
        }
        crate::runtime::with_core("detsim::task_group", |c| {
            if c.coop_depth(task) <= floor {
                return false;
            }
            self.parent_cancel_requested.set(true);
            c.request_cancel(task, None, crate::runtime::CancelKind::Cancel)
        })
    }

    /// The group ends: takes back the cancellation it requested of its parent (asyncio's
    /// `__aexit__` calling `uncancel()`).
    /// Returns how many requests remain, if it had one to take back.
    fn uncancel_parent(&self) -> Option<u32> {
        if !self.parent_cancel_requested.replace(false) {
            return None;
        }
        let (task, _) = self.parent_task.get()?;
        crate::runtime::try_with_core(|c| c.uncancel(task))
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

/// What a child's future, its done callback and its spawner share (one allocation per child).
struct ChildShared<E> {
    /// A panic's message, noted as it unwinds.
    note: RefCell<Option<String>>,
    /// How the child's future ended, if it returned.
    end: RefCell<Option<ChildEnd<E>>>,
    /// The child's own handle, to mark its panic observed: the group reports it.
    me: RefCell<Option<CancelHandle>>,
}

pin_project_lite::pin_project! {
    /// Polls `fut`, noting a panic's message before letting it unwind on.
    struct NotePanic<F, E> {
        #[pin]
        fut: F,
        shared: Rc<ChildShared<E>>,
    }
}

impl<F: Future, E> Future for NotePanic<F, E> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let fut = this.fut;
        match catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(p) => p,
            Err(payload) => {
                *this.shared.note.borrow_mut() = Some(panic_message(&*payload));
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
        let shared = Rc::new(ChildShared {
            note: RefCell::new(None),
            end: RefCell::new(None),
            me: RefCell::new(None),
        });
        let fut = NotePanic {
            fut,
            shared: shared.clone(),
        };
        let end = shared.clone();
        // However the child ends, its done callback is queued at that moment; the guard lives in
        // the task's future, so it fires even for a child cancelled before it first ran.
        let mine = shared.clone();
        let cb = OnDrop(Some(move || {
            let ended = mine.end.borrow_mut().take();
            let note = mine.note.borrow_mut().take();
            let outcome = match (ended, note) {
                (Some(end), _) => end,
                (None, Some(m)) => {
                    // The group reports the panic: it is not an unseen one.
                    if let Some(c) = mine.me.borrow_mut().take() {
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
                    *end.end.borrow_mut() = Some(ChildEnd::Ok);
                    Some(v)
                }
                Err(e) => {
                    *end.end.borrow_mut() = Some(ChildEnd::Failed(ChildFailure::Error(e)));
                    None
                }
            }
        });
        self.state.live.set(self.state.live.get() + 1);
        *shared.me.borrow_mut() = Some(h.cancel_handle());
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
        parent_task: Cell::new(None),
        parent_cancel_requested: Cell::new(false),
    });
    let body = body(TaskGroup {
        state: state.clone(),
    });
    TaskGroupScope {
        state,
        body: Some(Box::pin(body)),
        value: None,
        body_error: None,
        cooperative: false,
        receiving: false,
        propagate: None,
    }
}

/// The future of [`task_group`]. Dropping it cancels the body and every child.
#[must_use = "futures do nothing unless awaited"]
pub struct TaskGroupScope<Fut: Future, E> {
    state: Rc<GroupState<E>>,
    body: Option<Pin<Box<Fut>>>,
    value: Option<Fut::Output>,
    body_error: Option<E>,
    /// Set by [`TaskGroupScope::cooperative`].
    cooperative: bool,
    /// The group's wait for its children is a `cancellable` await in progress.
    receiving: bool,
    /// A cancellation from outside was received while waiting, to re-raise at the end (with its
    /// message) unless there are errors (asyncio's `propagate_cancellation_error`).
    propagate: Option<Option<String>>,
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

impl<Fut: Future, E> TaskGroupScope<Fut, E> {
    /// Makes the group's wait for its children a point where a cancellation of the task arrives
    /// as a value, as in asyncio's `TaskGroup.__aexit__`: a cancellation from outside while the
    /// group waits cancels the children, the group waits for them to end, then re-raises it
    /// (unless a child failed: errors beat cancellation); the group's own cancellation of its
    /// task, and an enclosing group's, is taken there, so the code after the group runs on with
    /// [`cancelling()`](crate::task::CancelHandle::cancelling) counting what is left
    /// (asyncio 3.13, gh-116720). Without it a cancellation while the group waits drops the
    /// group's future at once. A `cancellable` await *around* the group would take a
    /// cancellation first (dropping the group): await a cooperative group directly.
    ///
    /// ```
    /// use detsim::task::current;
    /// use detsim::task_group::task_group;
    /// detsim::run(async {
    ///     let outer = task_group(|outer| async move {
    ///         let inner = task_group(|inner| async move {
    ///             inner.spawn(async { Err::<(), _>("inner") }).unwrap();
    ///             outer.spawn(async { Err::<(), _>("outer") }).unwrap();
    ///             Ok(())
    ///         })
    ///         .cooperative()
    ///         .await;
    ///         assert!(inner.is_err());
    ///         // The outer group's cancellation was taken by the inner group's wait.
    ///         assert_eq!(current().cancelling(), 1);
    ///         Ok(())
    ///     })
    ///     .cooperative()
    ///     .await;
    ///     assert!(outer.is_err());
    ///     assert_eq!(current().cancelling(), 0);
    /// });
    /// ```
    pub fn cooperative(mut self) -> Self {
        self.cooperative = true;
        self
    }

    /// The body has ended: the wait for the children receives cancellations.
    fn wait_cooperatively(&mut self) {
        let Some((task, _)) = self.state.parent_task.get() else {
            return;
        };
        let received = crate::runtime::with_core("detsim::task_group", |c| {
            if !self.receiving && self.state.live.get() > 0 {
                c.coop_enter(task);
                self.receiving = true;
            }
            if self.receiving {
                c.coop_take(task)
            } else {
                None
            }
        });
        if let Some(message) = received {
            if self.state.phase.get() == Phase::Open {
                // Cancelled from outside while waiting: cancel the children, wait, re-raise.
                self.propagate = Some(message);
                self.state.abort();
            }
        }
    }

    fn leave_cooperative(&mut self) {
        if std::mem::take(&mut self.receiving) {
            if let Some((task, _)) = self.state.parent_task.get() {
                crate::runtime::try_with_core(|c| c.coop_leave(task));
            }
        }
    }
}

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
        if this.state.parent_task.get().is_none() {
            let task =
                crate::runtime::try_with_core(|c| c.current_task().map(|t| (t, c.coop_depth(t))))
                    .flatten();
            this.state.parent_task.set(task);
        }
        if let Some(body) = &mut this.body {
            if this.state.phase.get() == Phase::Aborting
                && !this.state.parent_cancel_requested.get()
            {
                // A child failed: the body is cancelled at its current await.
                this.body = None;
            } else {
                match body.as_mut().poll(cx) {
                    Poll::Pending => {
                        // Under the cooperative form the body received the group's cancellation
                        // and runs on; once it re-raises it, the group takes it and waits.
                        let propagated = this.state.parent_cancel_requested.get()
                            && this.state.parent_task.get().is_some_and(|(t, _)| {
                                crate::runtime::with_core("detsim::task_group", |c| {
                                    c.take_propagation(t)
                                })
                            });
                        if !propagated {
                            return Poll::Pending;
                        }
                        this.body = None;
                    }
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
        if this.body.is_none() && this.cooperative {
            this.wait_cooperatively();
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
        this.leave_cooperative();
        if this.state.uncancel_parent() == Some(0) {
            // No request left: the cancellation the group received is its own.
            this.propagate = None;
        }
        let mut errors = std::mem::take(&mut *this.state.errors.borrow_mut());
        if let Some(e) = this.body_error.take() {
            errors.push(ChildFailure::Error(e));
        }
        if !errors.is_empty() {
            // Errors beat cancellation.
            return Poll::Ready(Err(TaskGroupError { errors }));
        }
        if let Some(message) = this.propagate.take() {
            // Re-raised: the task ends cancelled at the end of this step.
            crate::runtime::with_core("detsim::task_group", |c| c.cancel_current(message));
            return Poll::Pending;
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
            self.leave_cooperative();
            self.state.uncancel_parent();
        }
        self.state.phase.set(Phase::Finished);
    }
}

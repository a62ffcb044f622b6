//! Tasks: [`spawn`], named tasks through [`Builder`], [`JoinHandle`], [`yield_now`].
//!
//! A task is queued when spawned and first runs when the scheduler picks it (asyncio's
//! `create_task`): spawning never runs any of the task's code. Task ids follow spawn order; the
//! main future is task 0.
//!
//! Cancellation follows asyncio's timing: [`JoinHandle::cancel`] makes the task runnable, and when
//! it would next run, its future is dropped instead of polled, so its `Drop` code runs at that
//! point, inside the run. It travels down the await chain first (a task, gather, `wait_for` or
//! `Promise` the task awaits is cancelled, and the task ends one hop after it);
//! [`JoinHandle::abort`] does not. Inside a [`cancellable`] await a cancellation arrives as a
//! value instead ([`Cancelled`]). Dropping a `JoinHandle` detaches the task; it keeps running.

mod cooperative;
mod join;

/// A [`Builder`] for one of detsim's own helper tasks ("task group child", "shield", ...): its
/// name is an `Rc<str>` made once per thread, so spawning such a task allocates no name.
macro_rules! named {
    ($name:literal) => {{
        thread_local! {
            static NAME: std::rc::Rc<str> = std::rc::Rc::from($name);
        }
        $crate::task::Builder::new().shared_name(NAME.with(std::rc::Rc::clone))
    }};
}
pub(crate) use named;

pub use crate::base::{JoinError, TaskId};
pub use cooperative::{Cancellable, Cancelled, Propagate, cancellable};
pub use join::{CancelHandle, JoinHandle};

use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::runtime::{self, JoinSink, TaskKind};

/// Spawns `fut` as a new task of the current run and returns its handle.
///
/// The task is queued at the tail of the ready queue and first runs when the scheduler picks it.
/// Futures need not be `Send`.
///
/// The task remembers where it was spawned (this call's location), for the end-of-run report
/// of tasks that ended unseen.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use std::rc::Rc; // not Send: fine
/// detsim::run(async {
///     let shared = Rc::new(5);
///     let s = shared.clone();
///     let h = detsim::spawn(async move { *s * 2 });
///     assert_eq!(h.await.unwrap(), 10);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    Builder::new().spawn(fut)
}

/// Configures a task before spawning it (today: its name, shown in traces and reports).
///
/// ```
/// detsim::run(async {
///     let h = detsim::task::Builder::new().name("reader").spawn(async {
///         detsim::task::current_name()
///     });
///     assert_eq!(h.await.unwrap().as_deref(), Some("reader"));
/// });
/// ```
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<Rc<str>>,
    /// A user's task, detsim's own machinery (never reported as unseen), or a task standing for
    /// an asyncio Future (cancelled at once).
    kind: TaskKind,
    at: Option<&'static Location<'static>>,
}

impl Builder {
    /// A builder for an unnamed task.
    pub fn new() -> Builder {
        Builder {
            name: None,
            kind: TaskKind::User,
            at: None,
        }
    }

    /// Marks the task as detsim's own machinery (a done callback, a timer, a shield).
    pub(crate) fn internal(mut self) -> Builder {
        self.kind = TaskKind::Internal;
        self
    }

    /// Makes the task stand for an asyncio Future rather than a Task (a shield's outer future):
    /// a cancellation ends it at once instead of at its next turn.
    pub(crate) fn future_like(mut self) -> Builder {
        self.kind = TaskKind::Future;
        self
    }

    /// The location reported as where the task was spawned (a combinator's caller).
    pub(crate) fn at(mut self, at: &'static Location<'static>) -> Builder {
        self.at = Some(at);
        self
    }

    /// Names the task.
    pub fn name(mut self, name: impl Into<String>) -> Builder {
        self.name = Some(Rc::from(name.into()));
        self
    }

    /// Names the task with a name shared by many tasks (`named!`): no allocation.
    pub(crate) fn shared_name(mut self, name: Rc<str>) -> Builder {
        self.name = Some(name);
        self
    }

    /// Makes the task an event-loop callback (`detsim::event_loop`): cancelled at once, never
    /// reported as unseen.
    pub(crate) fn callback(mut self) -> Builder {
        self.kind = TaskKind::Callback;
        self
    }

    /// Spawns `fut` as a callback task that waits, unqueued, for a timer at `when`; returns its
    /// handle and the timer (none while the run shuts down).
    #[track_caller]
    pub(crate) fn spawn_timed<F>(
        self,
        fut: F,
        when: crate::base::Instant,
    ) -> (JoinHandle<F::Output>, Option<runtime::TimerKey>)
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let (p, state) = self.prepare(fut, Location::caller());
        let (id, key) = runtime::with_core("detsim::event_loop::call_at", |core| {
            core.spawn_timed(p.name, p.fut, p.sink, p.at, when)
        });
        (JoinHandle::new(id, state), key)
    }

    /// The task's future, which stores its value for the runtime to settle, and its spawn
    /// details. `caller` is the spawn call's location, used unless `at` names another.
    fn prepare<F>(
        self,
        fut: F,
        caller: &'static Location<'static>,
    ) -> (Prepared, Rc<join::JoinState<F::Output>>)
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let state = Rc::new(join::JoinState::<F::Output>::new());
        let s2 = state.clone();
        let task = async move {
            let v = fut.await;
            // The runtime settles the outcome when it marks the task finished.
            s2.store(v);
        };
        let sink: Rc<dyn JoinSink> = state.clone();
        let p = Prepared {
            name: self.name,
            kind: self.kind,
            at: self.at.unwrap_or(caller),
            fut: Box::pin(task),
            sink,
        };
        (p, state)
    }

    /// Spawns `fut` with this configuration; see [`spawn`].
    ///
    /// # Panics
    ///
    /// Outside a detsim run.
    #[track_caller]
    pub fn spawn<F>(self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        // `Location::caller()` here, not in a closure: only a direct call sees `#[track_caller]`.
        let (p, state) = self.prepare(fut, Location::caller());
        let id = runtime::with_core("detsim::spawn", |core| {
            core.spawn(p.name, p.fut, p.sink, p.at, p.kind)
        });
        JoinHandle::new(id, state)
    }
}

/// A task ready to hand to the runtime.
struct Prepared {
    name: Option<Rc<str>>,
    kind: TaskKind,
    at: &'static Location<'static>,
    fut: runtime::BoxFuture,
    sink: Rc<dyn JoinSink>,
}

/// The id of the task that is running.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// detsim::run(async {
///     assert_eq!(detsim::task::current_id().as_u32(), 0); // the main future
///     let h = detsim::spawn(async { detsim::task::current_id() });
///     assert_eq!(h.await.unwrap().as_u32(), 1);
/// });
/// ```
pub fn current_id() -> TaskId {
    runtime::with_core("detsim::task::current_id", |c| c.current_task())
        .expect("detsim::task::current_id called while no task is running")
}

/// A handle to the task that is running (asyncio's `asyncio.current_task()`): it can cancel
/// the task, the main task included, and inspect it.
///
/// # Panics
///
/// Outside a detsim run, or outside a task (in a timer callback).
///
/// ```
/// let failure = detsim::Builder::new().run(async {
///     let me = detsim::task::current();
///     assert_eq!(me.id().as_u32(), 0);
///     assert!(!me.done());
///     me.cancel_with("enough");
///     detsim::yield_now().await; // the main future is dropped here
///     unreachable!();
/// }).unwrap_err();
/// assert!(matches!(failure.kind, detsim::FailureKind::MainCancelled { .. }));
/// ```
pub fn current() -> CancelHandle {
    runtime::with_core("detsim::task::current", |c| {
        let id = c
            .current_task()
            .expect("detsim::task::current called while no task is running");
        let sink = c.join_sink(id).unwrap_or_else(|| {
            // Being dropped at the end of the run: the handle reports it as done.
            let done = runtime::MainSink::default();
            done.done.set(true);
            Rc::new(done)
        });
        CancelHandle::from_sink(id, sink)
    })
}

/// The id of the task that is running, or `None` outside a detsim run or between polls.
///
/// ```
/// assert_eq!(detsim::task::try_current_id(), None);
/// detsim::run(async { assert_eq!(detsim::task::try_current_id().map(|t| t.as_u32()), Some(0)) });
/// ```
pub fn try_current_id() -> Option<TaskId> {
    runtime::try_with_core(|c| c.current_task()).flatten()
}

/// The name of the task that is running (`"main"` for the main future).
///
/// # Panics
///
/// Outside a detsim run.
pub fn current_name() -> Option<String> {
    runtime::with_core("detsim::task::current_name", |c| {
        c.current_task()
            .and_then(|t| c.task_name(t))
            .map(|n| n.to_string())
    })
}

/// Yields to the scheduler: the task goes to the tail of the ready queue, as asyncio's
/// `await asyncio.sleep(0)`.
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// let log = detsim::run(async {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let l = log.clone();
///     detsim::spawn(async move { l.borrow_mut().push("child") });
///     log.borrow_mut().push("main");
///     detsim::yield_now().await; // the child runs here
///     log.borrow_mut().push("main again");
///     log.take()
/// });
/// assert_eq!(log, ["main", "child", "main again"]);
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

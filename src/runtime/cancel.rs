//! Cancellation requests: asyncio's `Task.cancel(msg)`, travelling down the await chain, and
//! tokio's `abort()`, which does not.
//!
//! # How a cancellation travels (asyncio's `Task._fut_waiter`)
//!
//! A suspended asyncio task remembers the future it awaits (`_fut_waiter`); `Task.cancel()`
//! cancels that future first, and only if that fails marks the task itself (`_must_cancel`)
//! and queues it (`Lib/asyncio/tasks.py`). So cancelling a task blocked on `await other_task`
//! cancels `other_task`, and the outer task ends one hop after it, when the awaited task's
//! `CancelledError` reaches it; cancelling a task blocked on a gather cancels the gather's
//! children (bpo-34872 fixed the last gap).
//!
//! detsim keeps no separate pointer for this: what a suspended task awaits is already recorded in
//! its slot's `waiting` (set by the future that suspended it, cleared at the task's next poll,
//! never touched by the run loop otherwise). A task waiting on [`WaitOn::Join`] awaits that task
//! directly; a task waiting on a resource that registered an *await link* (a gather) awaits that
//! future, which knows how to cancel itself. A cancellation that reaches the awaited future marks
//! the outer task cancelled **without waking it**: the awaited future's end wakes it, and its
//! future is dropped then. A `shield` or a `wait` watches through [`WaitOn::Watch`], which is never followed.
//!
//! # Invariants
//!
//! * The running task has no await link (asyncio clears `_fut_waiter` while a task steps), so a
//!   task that cancels itself is only marked, and queued at the end of its step.
//! * A cancellation request on a finished task returns `false` and changes nothing.
//! * `abort` never follows a link: the task's future is dropped at its next turn, whatever it
//!   awaits (tokio's `JoinHandle::abort`).

use std::rc::Rc;

use super::{Core, WaitOn};
use crate::base::TaskId;
use crate::event::EventKind;

/// An outer future a task can be blocked on (a gather), as a cancellation reaches it.
pub(crate) trait AwaitTarget {
    /// Cancels it; returns whether it accepted (asyncio's `Future.cancel()` return value).
    fn cancel(&self, message: Option<&str>) -> bool;
    /// Whether it has settled.
    fn done(&self) -> bool;
}

/// A shared [`AwaitTarget`].
pub(crate) type AwaitLink = Rc<dyn AwaitTarget>;

/// What a suspended task awaits, as far as a cancellation can follow it.
#[derive(Clone)]
pub(crate) enum Awaited {
    /// Another task's `JoinHandle`.
    Task(TaskId),
    /// An outer future that registered an await link.
    Link(AwaitLink),
}

/// Per-task cancellation state that most tasks never need, boxed to keep task slots small.
#[derive(Default)]
pub(crate) struct TaskCold {
    /// The message of the cancellation that will end the task (asyncio's `_cancel_message`).
    pub(crate) message: Option<String>,
    /// How many cancellations were requested (asyncio's `_num_cancels_requested`).
    pub(crate) requests: u32,
    /// The outer future this task is blocked on, as `(resource id, how to cancel it)`; valid
    /// only while the task's `waiting` is that resource (or [`WaitOn::Linked`]).
    pub(crate) link: Option<(u32, AwaitLink)>,
    /// How many `cancellable` awaits of this task are in progress: while there is one, a
    /// cancellation is delivered to it as a value instead of dropping the task.
    pub(crate) coop: u32,
    /// A cancellation waiting to be delivered to a `cancellable` await (asyncio's
    /// `_must_cancel`).
    pub(crate) must_cancel: bool,
}

/// What a task stands for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum TaskKind {
    /// A user's task.
    #[default]
    User,
    /// detsim's own machinery (a done callback, a timer): never reported as unseen.
    Internal,
    /// A task standing for an asyncio Future, not a Task (a shield's outer future): a
    /// cancellation ends it at once, and its awaiter's wakeup is queued then, as
    /// `Future.cancel()` schedules its done callbacks.
    Future,
    /// An event-loop callback (`call_soon`, `call_later`): a cancellation removes it at once,
    /// as a cancelled asyncio handle is skipped; never reported as unseen.
    Callback,
}

impl TaskKind {
    /// Whether a cancellation ends it on the spot instead of at its next turn.
    fn at_once(self) -> bool {
        matches!(self, TaskKind::Future | TaskKind::Callback)
    }

    /// Whether the report of unseen tasks lists it.
    pub(crate) fn reported(self) -> bool {
        matches!(self, TaskKind::User | TaskKind::Future)
    }
}

/// How a cancellation request treats the future the task awaits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CancelKind {
    /// asyncio's `Task.cancel()`: cancels what the task awaits, if it can.
    Cancel,
    /// tokio's `JoinHandle::abort()`: drops the task's future at its next turn, and nothing else.
    Abort,
}

/// What a task waiting on `waiting` awaits, if a cancellation can follow it there.
fn awaited(waiting: WaitOn, cold: &TaskCold) -> Option<Awaited> {
    match waiting {
        WaitOn::Join(t) => Some(Awaited::Task(t)),
        WaitOn::Resource(r) => match &cold.link {
            Some((lr, f)) if *lr == r => Some(Awaited::Link(f.clone())),
            _ => None,
        },
        WaitOn::Linked => cold.link.as_ref().map(|(_, f)| Awaited::Link(f.clone())),
        _ => None,
    }
}

impl Core {
    /// What the running task has just suspended on (in this step), if a cancellation can follow
    /// it there: a timeout captures it to cancel it at expiry, as asyncio's timeout cancels its
    /// task and the cancellation travels.
    pub(crate) fn awaited_by_current(&self) -> Option<Awaited> {
        let id = self.current.get()?;
        let tasks = self.tasks.borrow();
        let slot = tasks.get(id.index())?;
        match &slot.cold {
            Some(cold) => awaited(slot.waiting, cold),
            None => awaited(slot.waiting, &TaskCold::default()),
        }
    }

    /// Cancels what a task awaits; returns whether it accepted.
    pub(crate) fn cancel_awaited(&self, a: &Awaited, message: Option<&str>) -> bool {
        match a {
            Awaited::Task(t) => self.request_cancel(*t, message, CancelKind::Cancel),
            Awaited::Link(l) => l.cancel(message),
        }
    }

    /// Whether what a task awaited has ended.
    pub(crate) fn awaited_done(&self, a: &Awaited) -> bool {
        match a {
            Awaited::Task(t) => self.tasks.borrow().get(t.index()).is_none_or(|s| s.done),
            Awaited::Link(l) => l.done(),
        }
    }

    /// Requests cancellation of `id`; returns `false` if it has finished. See the module docs.
    pub(crate) fn request_cancel(
        &self,
        id: TaskId,
        message: Option<&str>,
        kind: CancelKind,
    ) -> bool {
        let mut tasks = self.tasks.borrow_mut();
        let Some(slot) = tasks.get_mut(id.index()) else {
            return false;
        };
        if slot.done {
            return false;
        }
        let running = self.current.get() == Some(id);
        let cold = slot.cold.get_or_insert_with(Default::default);
        if kind == CancelKind::Cancel {
            cold.requests += 1;
        }
        if message.is_some() || cold.message.is_none() {
            cold.message = message.map(str::to_owned);
        }
        let link = match (kind, running) {
            (CancelKind::Cancel, false) => awaited(slot.waiting, cold),
            _ => None,
        };
        if kind == CancelKind::Cancel && cold.coop > 0 {
            // Cooperative: the cancellation is delivered to the `cancellable` await as a value.
            cold.must_cancel = true;
            drop(tasks);
            self.emit(EventKind::Cancel { target: id });
            let delegated = link.is_some_and(|a| self.cancel_awaited(&a, message));
            if !delegated {
                // Running, it is queued at once and sees the cancellation at its next turn.
                self.wake(id);
            }
            return true;
        }
        slot.cancel = true;
        let at_once = slot.kind.at_once() && !running;
        let fut = if at_once { slot.run.take() } else { None };
        drop(tasks);
        self.emit(EventKind::Cancel { target: id });
        if at_once {
            // An asyncio Future is cancelled on the spot: drop the future (it only watches
            // another task) and settle the handle, which queues the awaiter. Its events are its
            // own.
            let prev = self.current.get();
            self.set_current(Some(id));
            let r = fut.map(|(fut, waker)| {
                let r = super::panic::catch_user(move || drop(fut));
                drop(waker);
                r
            });
            match r {
                Some(Err(p)) => self.on_panic(id, p),
                _ => self.finish(id, crate::event::Outcome::Cancelled),
            }
            self.set_current(prev);
            return true;
        }
        let delegated = link.is_some_and(|a| self.cancel_awaited(&a, message));
        if !running && !delegated {
            // The running task is queued at the end of its own step instead (asyncio queues it
            // when it next suspends). A task whose awaited future took the cancellation is woken
            // by that future's end.
            self.wake(id);
        }
        true
    }

    /// Enters a `cancellable` await of task `id`.
    pub(crate) fn coop_enter(&self, id: TaskId) {
        let mut tasks = self.tasks.borrow_mut();
        if let Some(slot) = tasks.get_mut(id.index()) {
            slot.cold.get_or_insert_with(Default::default).coop += 1;
        }
    }

    /// Takes a cancellation delivered to a `cancellable` await of `id`: `Some(message)` if one
    /// arrived.
    pub(crate) fn coop_take(&self, id: TaskId) -> Option<Option<String>> {
        let mut tasks = self.tasks.borrow_mut();
        let cold = tasks.get_mut(id.index())?.cold.as_mut()?;
        if !std::mem::take(&mut cold.must_cancel) {
            return None;
        }
        Some(cold.message.take())
    }

    /// Leaves a `cancellable` await of `id`. A cancellation that arrived and was not taken
    /// becomes an ordinary one: the task's future is dropped at its next turn.
    pub(crate) fn coop_leave(&self, id: TaskId) {
        let mut tasks = self.tasks.borrow_mut();
        let Some(slot) = tasks.get_mut(id.index()) else {
            return;
        };
        let Some(cold) = slot.cold.as_mut() else {
            return;
        };
        cold.coop = cold.coop.saturating_sub(1);
        if cold.coop == 0 && std::mem::take(&mut cold.must_cancel) && !slot.done {
            slot.cancel = true;
            let running = self.current.get() == Some(id);
            drop(tasks);
            if !running {
                self.wake(id);
            }
        }
    }

    /// Whether `id` is inside a `cancellable` await, where a cancellation is delivered.
    pub(crate) fn in_coop(&self, id: TaskId) -> bool {
        self.coop_depth(id) > 0
    }

    /// How many `cancellable` awaits of task `id` are in progress.
    pub(crate) fn coop_depth(&self, id: TaskId) -> u32 {
        self.tasks
            .borrow()
            .get(id.index())
            .and_then(|s| s.cold.as_ref())
            .map_or(0, |c| c.coop)
    }

    /// A task group that cancelled its running parent `id` sees the body re-raise that
    /// cancellation ([`Cancelled::propagate`](crate::task::Cancelled::propagate)): takes the
    /// re-raise into the group (asyncio's `__aexit__` receiving the `CancelledError`), so the
    /// task runs on while the group waits for its children. Returns whether there was one.
    pub(crate) fn take_propagation(&self, id: TaskId) -> bool {
        let mut tasks = self.tasks.borrow_mut();
        match tasks.get_mut(id.index()) {
            Some(slot) if slot.cancel && !slot.done && self.current.get() == Some(id) => {
                slot.cancel = false;
                true
            }
            _ => false,
        }
    }

    /// A timeout scope that delivered its expiry as a cancellation of the running task `id`
    /// ends: takes its request back (`uncancel`) and, if the task re-raised it
    /// ([`Cancelled::propagate`](crate::task::Cancelled::propagate)) and no other request is
    /// left above `floor` (the count when the scope was entered), turns the re-raise into the
    /// scope's timeout — asyncio's `Timeout.__aexit__`. Returns whether it did.
    pub(crate) fn scope_exit(&self, id: TaskId, floor: u32) -> bool {
        let left = self.uncancel(id);
        let mut tasks = self.tasks.borrow_mut();
        let Some(slot) = tasks.get_mut(id.index()) else {
            return false;
        };
        if slot.cancel && left <= floor && self.current.get() == Some(id) {
            slot.cancel = false;
            return true;
        }
        false
    }

    /// The running task ends cancelled (a cooperative cancellation re-raised): its future is
    /// dropped at its next turn, or it ends cancelled if it returns first.
    pub(crate) fn cancel_current(&self, message: Option<String>) {
        let Some(id) = self.current.get() else {
            return;
        };
        let mut tasks = self.tasks.borrow_mut();
        let slot = &mut tasks[id.index()];
        slot.cancel = true;
        slot.cold.get_or_insert_with(Default::default).message = message;
    }

    /// asyncio's `Task.uncancel()`: takes one requested cancellation back; returns how many
    /// remain. At zero, a cancellation not yet delivered is dropped too.
    pub(crate) fn uncancel(&self, id: TaskId) -> u32 {
        let mut tasks = self.tasks.borrow_mut();
        let Some(cold) = tasks.get_mut(id.index()).and_then(|s| s.cold.as_mut()) else {
            return 0;
        };
        cold.requests = cold.requests.saturating_sub(1);
        if cold.requests == 0 {
            cold.must_cancel = false;
        }
        cold.requests
    }

    /// Records that the current task is about to block on a future that a cancellation of the
    /// task should cancel first, with no resource of its own (a `Promise`).
    pub(crate) fn set_await_link_anon(&self, link: &AwaitLink) {
        if let Some(id) = self.current.get() {
            let mut tasks = self.tasks.borrow_mut();
            let slot = &mut tasks[id.index()];
            slot.waiting = WaitOn::Linked;
            let cold = slot.cold.get_or_insert_with(Default::default);
            match &cold.link {
                Some((_, f)) if Rc::ptr_eq(f, link) => {}
                _ => cold.link = Some((u32::MAX, link.clone())),
            }
        }
    }

    /// Records that the current task is about to block on resource `resource`, an outer future
    /// that a cancellation of the task should cancel first (`link`).
    pub(crate) fn set_await_link(&self, resource: u32, link: &AwaitLink) {
        if let Some(id) = self.current.get() {
            let mut tasks = self.tasks.borrow_mut();
            let slot = &mut tasks[id.index()];
            slot.waiting = WaitOn::Resource(resource);
            let cold = slot.cold.get_or_insert_with(Default::default);
            match &cold.link {
                Some((r, f)) if *r == resource && Rc::ptr_eq(f, link) => {}
                _ => cold.link = Some((resource, link.clone())),
            }
        }
    }

    /// Whether the running task stands for an asyncio Future (a shield being cancelled or
    /// dropped): a gather it drops is detached, not cancelled.
    pub(crate) fn current_is_future_like(&self) -> bool {
        let Some(id) = self.current.get() else {
            return false;
        };
        self.tasks
            .borrow()
            .get(id.index())
            .is_some_and(|s| s.kind == TaskKind::Future)
    }

    /// How many cancellations of `id` were requested (asyncio's `Task.cancelling()`).
    pub(crate) fn cancel_requests(&self, id: TaskId) -> u32 {
        self.tasks
            .borrow()
            .get(id.index())
            .and_then(|s| s.cold.as_ref())
            .map_or(0, |c| c.requests)
    }
}

impl Core {
    /// The main task's cancellation took effect: the run ends with
    /// [`FailureKind::MainCancelled`](crate::FailureKind::MainCancelled), as `asyncio.run` raises
    /// `CancelledError`.
    pub(super) fn main_cancelled(&self) {
        let (join, message) = {
            let mut tasks = self.tasks.borrow_mut();
            let slot = &mut tasks[super::MAIN.index()];
            slot.done = true;
            let message = slot.cold.as_mut().and_then(|c| c.message.take());
            (slot.join.take(), message)
        };
        if let Some(j) = join {
            j.settle(Err(crate::base::JoinError::cancelled_with(message.clone())));
        }
        self.emit(EventKind::Complete {
            outcome: crate::event::Outcome::Cancelled,
        });
        self.fail(crate::failure::FailureKind::MainCancelled { message });
    }
}

//! The event model: what happened in a run, step by step, in simulated time.
//!
//! Recording is passive: turning it on or off never changes a decision (a test checks this). The
//! runtime emits an [`Event`] at each point below; with recording off, emitting costs one branch.
//!
//! Events hold ids, never names or addresses; a [`Trace`](crate::trace::Trace) carries the names to render them.

use std::fmt;

use super::{Decision, Instant, TaskId};

/// One thing that happened in a run.
///
/// 48 bytes on 64-bit targets (a unit test pins it): a fully recorded run stores one per event,
/// several per step, so its size is most of the recording cost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// The step during which it happened (0 before the first poll).
    pub step: u64,
    /// The simulated time.
    pub time: Instant,
    /// The task that was running, if any (timer firings and clock moves happen between steps).
    pub task: Option<TaskId>,
    /// What happened.
    pub kind: EventKind,
}

/// Who woke a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WakeSource {
    /// A running task (possibly itself, for a yield).
    Task(TaskId),
    /// A timer firing.
    Timer,
    /// The runtime itself (spawn, cancellation).
    Runtime,
}

/// What a task that returned `Pending` without waking itself waits for, as far as detsim knows.
///
/// detsim's own futures (sleeps, join handles, its sync primitives) record it; a future from
/// outside detsim (a `futures` mutex, a channel of another crate) leaves it [`BlockOn::Unknown`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BlockOn {
    /// Nothing recorded: a future from outside detsim.
    Unknown,
    /// A timer with this deadline (a sleep, a timeout, an interval).
    Timer(Instant),
    /// A sleep that never ends (`Duration::MAX`).
    Forever,
    /// Another task, to finish (awaiting its join handle).
    Task(TaskId),
    /// A resource of the trace's resource table (a lock, a semaphore, a queue…).
    Resource(u32),
}

/// How a task ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Its future returned.
    Finished,
    /// It was cancelled; its future was dropped.
    Cancelled,
    /// It panicked with this message (boxed: panics are rare, and a thin pointer keeps every
    /// [`Event`] small).
    Panicked(Box<String>),
}

/// The kinds of [`Event`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventKind {
    /// `task` spawned `child`.
    Spawn {
        /// The new task.
        child: TaskId,
    },
    /// A step began polling `task` (or dropping it, if it was cancelled).
    Poll,
    /// The poll returned `Pending` after the task woke itself: a yield (it is queued again).
    Yield,
    /// The poll returned `Pending` without the task waking itself: it blocks, waiting for `on`.
    Block {
        /// What it waits for.
        on: BlockOn,
    },
    /// A task became runnable.
    Wake {
        /// The woken task.
        target: TaskId,
        /// Who woke it.
        by: WakeSource,
    },
    /// A timer was set.
    TimerSet {
        /// Its deadline.
        deadline: Instant,
    },
    /// A timer fired.
    TimerFire {
        /// Its deadline.
        deadline: Instant,
    },
    /// The clock jumped forward because no task was runnable.
    ClockAdvance {
        /// The new time.
        to: Instant,
    },
    /// Cancellation of `target` was requested.
    Cancel {
        /// The task asked to cancel.
        target: TaskId,
    },
    /// A task ended.
    Complete {
        /// How.
        outcome: Outcome,
    },
    /// The run ended with tasks still alive; their futures are dropped next, in id order (events
    /// after this one come from their `Drop` code).
    Shutdown,
    /// The scheduler made a decision.
    Decision(Decision),
    /// A resource operation (acquire, release, wait, notify, put, get…).
    Resource {
        /// Which resource (an index into the trace's resource table).
        resource: u32,
        /// The operation, e.g. `acquire`.
        op: &'static str,
    },
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EventKind::Spawn { child } => write!(f, "spawn task {child}"),
            EventKind::Poll => f.write_str("poll"),
            EventKind::Yield => f.write_str("yield"),
            EventKind::Block { on } => match on {
                BlockOn::Unknown => f.write_str("blocked on a future outside detsim"),
                BlockOn::Timer(t) => write!(f, "blocked on a timer at {t}"),
                BlockOn::Forever => f.write_str("blocked on a sleep that never ends"),
                BlockOn::Task(t) => write!(f, "blocked on task {t} to finish"),
                BlockOn::Resource(r) => write!(f, "blocked on resource {r}"),
            },
            EventKind::Wake { target, by } => match by {
                WakeSource::Task(t) => write!(f, "wake task {target} (by task {t})"),
                WakeSource::Timer => write!(f, "wake task {target} (by timer)"),
                WakeSource::Runtime => write!(f, "wake task {target} (by runtime)"),
            },
            EventKind::TimerSet { deadline } => write!(f, "timer set for {deadline}"),
            EventKind::TimerFire { deadline } => write!(f, "timer fired (deadline {deadline})"),
            EventKind::ClockAdvance { to } => write!(f, "clock advances to {to}"),
            EventKind::Cancel { target } => write!(f, "cancel task {target}"),
            EventKind::Complete { outcome } => match outcome {
                Outcome::Finished => f.write_str("finished"),
                Outcome::Cancelled => f.write_str("cancelled"),
                Outcome::Panicked(m) => write!(f, "panicked: {m}"),
            },
            EventKind::Shutdown => f.write_str("shutdown: dropping the tasks still alive"),
            EventKind::Decision(d) => write!(f, "decision {d}"),
            EventKind::Resource { resource, op } => write!(f, "{op} resource {resource}"),
        }
    }
}

impl fmt::Display for Event {
    /// One line: `step 12 @0.5s task 3: wake task 4 (by task 3)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "step {} @{} ", self.step, self.time)?;
        match self.task {
            Some(t) => write!(f, "task {t}: ")?,
            None => f.write_str("runtime: ")?,
        }
        write!(f, "{}", self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Recording cost grows with the size of an event: keep it at 48 bytes (step, time, task and a
    /// 24-byte kind). A new variant with a large payload should box it, as `Outcome::Panicked` does.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn event_stays_small() {
        assert_eq!(std::mem::size_of::<EventKind>(), 24);
        assert_eq!(std::mem::size_of::<Event>(), 48);
    }
}

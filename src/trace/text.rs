//! The text form of a trace: one stable line per event.

use std::fmt::Write;

use super::Trace;
use crate::base::Decision;
use crate::event::{BlockOn, Event, EventKind, Outcome, WakeSource};

/// `step 4 @0.5s task 2 "read": wake task 1 "colour" (by timer)`.
pub(super) fn event_line(t: &Trace, e: &Event) -> String {
    let mut s = format!("step {} @{} ", e.step, e.time);
    match e.task {
        Some(id) => s.push_str(&t.task_label(id)),
        None => s.push_str("runtime"),
    }
    s.push_str(": ");
    let _ = match &e.kind {
        EventKind::Spawn { child } => write!(s, "spawn {}", t.task_label(*child)),
        EventKind::Poll => write!(s, "poll"),
        EventKind::Yield => write!(s, "yield"),
        EventKind::Block { on } => write!(s, "block on {}", block_target(t, on)),
        EventKind::Wake { target, by } => {
            let _ = write!(s, "wake {}", t.task_label(*target));
            if !matches!(by, WakeSource::Task(w) if Some(*w) == e.task && w != target) {
                s.push(' ');
            }
            match by {
                WakeSource::Task(w) if w == target => write!(s, "(itself)"),
                WakeSource::Task(w) if Some(*w) == e.task => Ok(()),
                WakeSource::Task(w) => write!(s, "(by {})", t.task_label(*w)),
                WakeSource::Timer => write!(s, "(by timer)"),
                WakeSource::Runtime => write!(s, "(by runtime)"),
            }
        }
        EventKind::TimerSet { deadline } => write!(s, "timer set for {deadline}"),
        EventKind::TimerFire { deadline } => write!(s, "timer fires (deadline {deadline})"),
        EventKind::ClockAdvance { to } => write!(s, "clock advances to {to}"),
        EventKind::Cancel { target } => write!(s, "cancel {}", t.task_label(*target)),
        EventKind::Complete { outcome } => match outcome {
            Outcome::Finished => write!(s, "finished"),
            Outcome::Cancelled => write!(s, "cancelled"),
            Outcome::Panicked(m) => write!(s, "panicked: {m:?}"),
        },
        EventKind::Shutdown => write!(s, "shutdown: dropping the tasks still alive"),
        EventKind::Decision(d) => match d {
            Decision::Task {
                task,
                index,
                runnable,
            } => write!(
                s,
                "decision {d}: run {} (index {index} of {runnable} runnable)",
                t.task_label(*task)
            ),
            Decision::Random(v) => write!(s, "decision {d}: random value {v}"),
        },
        EventKind::Resource { resource, op } => {
            let r = t.resource_label(*resource);
            match *op {
                "wait" => write!(s, "wait on {r}"),
                // Followed by one `wake task …` line per waiter woken.
                "wake" => write!(s, "wake waiters of {r}"),
                op => write!(s, "{op} {r}"),
            }
        }
    };
    s
}

/// What a `Block` event waits for, with names.
pub(super) fn block_target(t: &Trace, on: &BlockOn) -> String {
    match on {
        BlockOn::Timer(at) => format!("a timer at {at}"),
        BlockOn::Forever => "a sleep that never ends".to_string(),
        BlockOn::Task(id) => format!("{} to finish", t.task_label(*id)),
        BlockOn::Resource(r) => t.resource_label(*r),
        _ => "a future outside detsim".to_string(),
    }
}

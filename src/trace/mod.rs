//! Traces: a run's events with the names needed to read them, as text, as a Chrome trace and as
//! an SVG timeline.
//!
//! A [`Trace`] is what a recorded run hands back ([`RunReport::trace`](crate::RunReport::trace),
//! [`Failure::trace`](crate::Failure::trace)): the [`Event`]s plus the task table (id, name,
//! parent) and the resource table (id, kind, name) at the end of the run.
//!
//! ```
//! let report = detsim::Builder::new().record().run_report(async {
//!     let h = detsim::task::Builder::new().name("reader").spawn(async {
//!         detsim::yield_now().await;
//!     });
//!     h.await.unwrap();
//! });
//! let text = report.trace.to_string();
//! assert!(text.contains(r#"step 2 @0s task 1 "reader": yield"#), "{text}");
//! ```
//!
//! # Invariants
//!
//! * **Stable text.** The text form ([`Trace::render`], `Display`) is one line per event, names
//!   every task and resource by id *and* name, and contains nothing that varies between runs or
//!   machines: no addresses, no wall-clock times, no hash-map orders. The same run always renders
//!   to the same bytes, so it can be snapshot-tested ([`assert_trace_snapshot!`](crate::assert_trace_snapshot)).
//! * **Passive.** Building, filtering or rendering a trace never touches a run; recording events
//!   never changes a decision (`tests/trace_events.rs` checks this under the `Random` scheduler).
//! * **Bounded.** With [`Builder::record_last`](crate::Builder::record_last) a run keeps only the
//!   last `n` events; the tables hold one entry per task and per resource.
//! * **Exports are deterministic too.** [`Trace::to_chrome_json`] and [`Trace::to_svg`] use the
//!   step number as their time axis (simulated time stands still within an iteration, so it
//!   cannot separate events) and show simulated time in labels; their output depends only on the
//!   trace.

mod chrome;
#[cfg(feature = "logging")]
mod log;
#[cfg(feature = "snapshots")]
mod snapshot;
mod svg;
mod text;

#[cfg(feature = "logging")]
pub use log::{SimTimer, init_test_logging};

use std::fmt;

use crate::base::TaskId;
use crate::event::{BlockOn, Event, EventKind};

/// A task as the trace knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskInfo {
    /// Its id (spawn order; the main future is task 0).
    pub id: TaskId,
    /// Its name, if it was given one (`"main"` for task 0).
    pub name: Option<String>,
    /// The task that spawned it (`None` for the main future).
    pub parent: Option<TaskId>,
}

/// A resource (lock, semaphore, queue…) as the trace knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResourceInfo {
    /// Its id: the number in [`EventKind::Resource`] and [`BlockOn::Resource`].
    pub id: u32,
    /// Its kind, e.g. `Lock`.
    pub kind: &'static str,
    /// Its name, if it was given one.
    pub name: Option<String>,
}

/// A run's events and the names to render them; see the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trace {
    /// The recorded events, in order (only the last `n` with `record_last(n)`).
    pub events: Vec<Event>,
    /// Every task of the run, indexed by id.
    pub tasks: Vec<TaskInfo>,
    /// Every resource of the run, indexed by id.
    pub resources: Vec<ResourceInfo>,
}

/// The kinds of event a [`Filter`] can select.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// [`EventKind::Spawn`].
    Spawn,
    /// [`EventKind::Poll`].
    Poll,
    /// [`EventKind::Yield`].
    Yield,
    /// [`EventKind::Block`].
    Block,
    /// [`EventKind::Wake`].
    Wake,
    /// [`EventKind::TimerSet`] and [`EventKind::TimerFire`].
    Timer,
    /// [`EventKind::ClockAdvance`].
    Clock,
    /// [`EventKind::Cancel`].
    Cancel,
    /// [`EventKind::Complete`].
    Complete,
    /// [`EventKind::Shutdown`].
    Shutdown,
    /// [`EventKind::Decision`]: task choices and random values.
    Decision,
    /// [`EventKind::Resource`]: acquire, release, notify, put, get…
    Resource,
}

impl Kind {
    /// The kind of `e`.
    pub fn of(e: &EventKind) -> Kind {
        match e {
            EventKind::Spawn { .. } => Kind::Spawn,
            EventKind::Poll => Kind::Poll,
            EventKind::Yield => Kind::Yield,
            EventKind::Block { .. } => Kind::Block,
            EventKind::Wake { .. } => Kind::Wake,
            EventKind::TimerSet { .. } | EventKind::TimerFire { .. } => Kind::Timer,
            EventKind::ClockAdvance { .. } => Kind::Clock,
            EventKind::Cancel { .. } => Kind::Cancel,
            EventKind::Complete { .. } => Kind::Complete,
            EventKind::Shutdown => Kind::Shutdown,
            EventKind::Decision(_) => Kind::Decision,
            EventKind::Resource { .. } => Kind::Resource,
        }
    }
}

/// Selects events of a [`Trace`]: by task, by resource, by kind.
///
/// Within one dimension the choices are alternatives (task 1 *or* task 2); across dimensions all
/// must hold (task 1 *and* kind `Wake`). An empty dimension selects everything. An event
/// *involves* a task if the task was running, or is the event's target (the woken, spawned or
/// cancelled task, or the task awaited). An event involves a resource if it operates on it or
/// blocks on it.
///
/// ```
/// use detsim::trace::{Filter, Kind};
/// let report = detsim::Builder::new().record().run_report(async {
///     detsim::task::Builder::new().name("child").spawn(async {}).await.unwrap();
/// });
/// let only = report.trace.filter(&Filter::new().task_named("child").kind(Kind::Complete));
/// assert_eq!(only.render(), "step 2 @0s task 1 \"child\": finished\n");
/// ```
#[derive(Clone, Debug, Default)]
pub struct Filter {
    tasks: Vec<TaskSel>,
    resources: Vec<u32>,
    kinds: Vec<Kind>,
}

#[derive(Clone, Debug)]
enum TaskSel {
    Id(TaskId),
    Name(String),
}

impl Filter {
    /// A filter that selects every event.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Also select events involving task `id`.
    pub fn task(mut self, id: TaskId) -> Filter {
        self.tasks.push(TaskSel::Id(id));
        self
    }

    /// Also select events involving every task named `name`.
    pub fn task_named(mut self, name: impl Into<String>) -> Filter {
        self.tasks.push(TaskSel::Name(name.into()));
        self
    }

    /// Also select events involving resource `id`.
    pub fn resource(mut self, id: u32) -> Filter {
        self.resources.push(id);
        self
    }

    /// Also select events of kind `kind`.
    pub fn kind(mut self, kind: Kind) -> Filter {
        self.kinds.push(kind);
        self
    }

    fn selects(&self, trace: &Trace, e: &Event) -> bool {
        let task_ok = self.tasks.is_empty()
            || involved_tasks(e).into_iter().flatten().any(|t| {
                self.tasks.iter().any(|sel| match sel {
                    TaskSel::Id(id) => *id == t,
                    TaskSel::Name(n) => trace.task_name(t) == Some(n.as_str()),
                })
            });
        let res_ok = self.resources.is_empty()
            || involved_resource(e).is_some_and(|r| self.resources.contains(&r));
        let kind_ok = self.kinds.is_empty() || self.kinds.contains(&Kind::of(&e.kind));
        task_ok && res_ok && kind_ok
    }
}

/// The tasks an event involves: the running task and its target, if any.
fn involved_tasks(e: &Event) -> [Option<TaskId>; 2] {
    let target = match &e.kind {
        EventKind::Spawn { child } => Some(*child),
        EventKind::Wake { target, .. } | EventKind::Cancel { target } => Some(*target),
        EventKind::Block {
            on: BlockOn::Task(t),
        } => Some(*t),
        _ => None,
    };
    [e.task, target]
}

fn involved_resource(e: &Event) -> Option<u32> {
    match &e.kind {
        EventKind::Resource { resource, .. } => Some(*resource),
        EventKind::Block {
            on: BlockOn::Resource(r),
        } => Some(*r),
        _ => None,
    }
}

impl Trace {
    /// The name of task `id`, if it has one.
    pub fn task_name(&self, id: TaskId) -> Option<&str> {
        self.tasks.get(id.index()).and_then(|t| t.name.as_deref())
    }

    /// The same tables with only the events `filter` selects.
    pub fn filter(&self, filter: &Filter) -> Trace {
        Trace {
            events: self
                .events
                .iter()
                .filter(|e| filter.selects(self, e))
                .cloned()
                .collect(),
            tasks: self.tasks.clone(),
            resources: self.resources.clone(),
        }
    }

    /// The events, one line each (see [`Trace::render_event`]), each ending in a newline.
    pub fn render(&self) -> String {
        self.render_events(self.events.iter())
    }

    /// Some events (of this trace, or any with ids from its tables) as [`Trace::render`] shows
    /// them.
    pub fn render_events<'a>(&self, events: impl IntoIterator<Item = &'a Event>) -> String {
        let mut s = String::new();
        for e in events {
            s.push_str(&self.render_event(e));
            s.push('\n');
        }
        s
    }

    /// One event as a line without a newline:
    /// `step 4 @0.5s task 2 "read": wake task 1 "colour" (by timer)`.
    pub fn render_event(&self, e: &Event) -> String {
        text::event_line(self, e)
    }

    /// `task 3 "reader"`, or `task 3` if it has no name.
    pub fn task_label(&self, id: TaskId) -> String {
        match self.task_name(id) {
            Some(n) => format!("task {id} {n:?}"),
            None => format!("task {id}"),
        }
    }

    /// `Lock #0 "account b"`, or `Lock #0` if it has no name (`resource #0` if unknown).
    pub fn resource_label(&self, id: u32) -> String {
        match self.resources.get(id as usize) {
            Some(ResourceInfo {
                kind,
                name: Some(n),
                ..
            }) => format!("{kind} #{id} {n:?}"),
            Some(ResourceInfo { kind, .. }) => format!("{kind} #{id}"),
            None => format!("resource #{id}"),
        }
    }

    /// The events that led task `id` into its last wait: its events in the step of its last
    /// `Block` up to that `Block`, and, if it waits for a resource, the last operation of another
    /// task on that resource before that step.
    ///
    /// Used by the deadlock report; empty if no `Block` of `id` was recorded.
    pub fn why_blocked(&self, id: TaskId) -> Vec<&Event> {
        let Some(last) = self
            .events
            .iter()
            .rposition(|e| e.task == Some(id) && matches!(e.kind, EventKind::Block { .. }))
        else {
            return Vec::new();
        };
        let step = self.events[last].step;
        let first = self.events[..last]
            .iter()
            .rposition(|e| e.step != step)
            .map_or(0, |i| i + 1);
        let mut out = Vec::new();
        if let EventKind::Block {
            on: BlockOn::Resource(r),
        } = self.events[last].kind
        {
            if let Some(e) = self.events[..first].iter().rev().find(|e| {
                e.task != Some(id)
                    && matches!(e.kind, EventKind::Resource { resource, .. } if resource == r)
            }) {
                out.push(e);
            }
        }
        out.extend(
            self.events[first..=last]
                .iter()
                .filter(|e| e.task == Some(id)),
        );
        out
    }
}

impl fmt::Display for Trace {
    /// The text form: [`Trace::render`].
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

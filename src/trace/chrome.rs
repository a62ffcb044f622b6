//! Chrome Trace Event Format export (Perfetto, `chrome://tracing`).
//!
//! Layout: process 1 is the run. Thread 0 is the `runtime` track (clock moves, timer firings,
//! decisions), thread `t + 1` is task `t`. Time axis: step `s` starts at `s` milliseconds; a poll
//! occupies the first 0.8 ms of its step, the runtime's work between steps the rest.

use std::fmt::Write;

use super::Trace;
use super::text;
use crate::base::TaskId;
use crate::event::{EventKind, WakeSource};

/// Microseconds per step on the time axis.
pub(super) const STEP_US: u64 = 1000;
/// How long a poll slice lasts within its step.
pub(super) const POLL_US: u64 = 800;

/// What a task was doing between two points of the time axis.
#[derive(Clone, Debug)]
pub(super) struct Interval {
    pub(super) task: TaskId,
    pub(super) start: u64,
    pub(super) end: u64,
    pub(super) label: String,
}

/// The intervals and arrows both exports draw, computed once from the events.
#[derive(Debug, Default)]
pub(super) struct Layout {
    /// One per poll: (task, step, how the poll ended).
    pub(super) polls: Vec<(TaskId, u64, String)>,
    /// From a block to the task's next poll (or the end of the trace).
    pub(super) blocked: Vec<Interval>,
    /// From an `acquire` to the same task's `release` of the same resource.
    pub(super) holds: Vec<Interval>,
    /// Wakes by another task or a timer: (source track, source ts, target, target ts).
    pub(super) wakes: Vec<(Option<TaskId>, u64, TaskId, u64)>,
    /// Instants: (track, ts, text).
    pub(super) marks: Vec<(Option<TaskId>, u64, String)>,
    /// The end of the time axis.
    pub(super) end: u64,
}

pub(super) fn layout(t: &Trace) -> Layout {
    let mut l = Layout::default();
    let ev = &t.events;
    let last_step = ev.iter().map(|e| e.step).max().unwrap_or(0);
    l.end = (last_step + 1) * STEP_US;
    // Position of each event within its step, to keep same-step events in order.
    let mut k = 0u64;
    let mut prev_step = None;
    // For each block and wake event, when the task it concerns is next polled: one backward
    // pass (a forward search per event would make long traces quadratic).
    let next_poll_after: Vec<Option<u64>> = {
        let mut next: Vec<Option<u64>> = Vec::new();
        let mut answer = vec![None; ev.len()];
        for (i, e) in ev.iter().enumerate().rev() {
            let of = match &e.kind {
                EventKind::Block { .. } => e.task,
                EventKind::Wake { target, .. } => Some(*target),
                _ => None,
            };
            if let Some(t) = of {
                answer[i] = next.get(t.as_u32() as usize).copied().flatten();
            }
            if let (EventKind::Poll, Some(t)) = (&e.kind, e.task) {
                let j = t.as_u32() as usize;
                if next.len() <= j {
                    next.resize(j + 1, None);
                }
                next[j] = Some(e.step * STEP_US);
            }
        }
        answer
    };
    let next_poll = |i: usize| next_poll_after[i];
    let mut open_holds: Vec<(TaskId, u32, u64)> = Vec::new();
    for (i, e) in ev.iter().enumerate() {
        if prev_step != Some(e.step) {
            k = 0;
            prev_step = Some(e.step);
        }
        k += 1;
        let base = e.step * STEP_US;
        let ts = match e.task {
            Some(_) => base + (10 * k).min(POLL_US - 10),
            None => base + POLL_US + (10 * k).min(STEP_US - POLL_US - 10),
        };
        match &e.kind {
            EventKind::Poll => {
                let task = e.task.expect("a poll has a task");
                let end = ev[i + 1..]
                    .iter()
                    .take_while(|n| n.step == e.step)
                    .find_map(|n| match &n.kind {
                        EventKind::Yield => Some("yield".to_string()),
                        EventKind::Block { .. } => Some("block".to_string()),
                        EventKind::Complete { outcome } => Some(format!("{outcome:?}")),
                        _ => None,
                    })
                    .unwrap_or_else(|| "cut off".to_string());
                l.polls.push((task, e.step, end));
            }
            EventKind::Block { on } => {
                let task = e.task.expect("a block has a task");
                l.blocked.push(Interval {
                    task,
                    start: base + POLL_US,
                    end: next_poll(i).unwrap_or(l.end),
                    label: format!("blocked on {}", text::block_target(t, on)),
                });
            }
            EventKind::Wake { target, by } => {
                let self_wake = matches!(by, WakeSource::Task(w) if w == target);
                if !self_wake {
                    if let Some(to) = next_poll(i) {
                        l.wakes.push((e.task, ts, *target, to + 1));
                    }
                }
            }
            EventKind::Resource { resource, op } => {
                if let Some(task) = e.task {
                    if *op == "acquire" {
                        open_holds.push((task, *resource, ts));
                    } else if *op == "release" {
                        if let Some(j) = open_holds
                            .iter()
                            .position(|(h, r, _)| *h == task && r == resource)
                        {
                            let (_, _, start) = open_holds.remove(j);
                            l.holds.push(Interval {
                                task,
                                start,
                                end: ts,
                                label: format!("holds {}", t.resource_label(*resource)),
                            });
                        }
                    }
                }
                l.marks.push((e.task, ts, line_text(t, i)));
            }
            EventKind::Yield => {}
            _ => l.marks.push((e.task, ts, line_text(t, i))),
        }
    }
    for (task, r, start) in open_holds {
        l.holds.push(Interval {
            task,
            start,
            end: l.end,
            label: format!("holds {}", t.resource_label(r)),
        });
    }
    l
}

/// The text line of event `i` without its `step … task …:` prefix.
fn line_text(t: &Trace, i: usize) -> String {
    let line = t.render_event(&t.events[i]);
    match line.split_once(": ") {
        Some((_, rest)) => rest.to_string(),
        None => line,
    }
}

/// A JSON string literal.
pub(super) fn json_str(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn tid(task: Option<TaskId>) -> u64 {
    task.map_or(0, |t| u64::from(t.as_u32()) + 1)
}

pub(super) fn export(t: &Trace) -> String {
    let l = layout(t);
    // The time of each step's first event; steps only grow along the trace, so a binary search.
    let mut step_times: Vec<(u64, crate::base::Instant)> = Vec::new();
    for e in &t.events {
        if step_times.last().is_none_or(|(s, _)| *s != e.step) {
            step_times.push((e.step, e.time));
        }
    }
    let time_of_step = |step: u64| {
        step_times
            .binary_search_by_key(&step, |(s, _)| *s)
            .map(|i| step_times[i].1.to_string())
            .unwrap_or_default()
    };
    let mut out: Vec<String> = Vec::new();
    out.push(r#"{"ph":"M","name":"process_name","pid":1,"tid":0,"args":{"name":"detsim run (1 ms = 1 step)"}}"#.to_string());
    out.push(
        r#"{"ph":"M","name":"thread_name","pid":1,"tid":0,"args":{"name":"runtime"}}"#.to_string(),
    );
    for task in &t.tasks {
        let id = tid(Some(task.id));
        out.push(format!(
            r#"{{"ph":"M","name":"thread_name","pid":1,"tid":{id},"args":{{"name":{}}}}}"#,
            json_str(&t.task_label(task.id))
        ));
        out.push(format!(
            r#"{{"ph":"M","name":"thread_sort_index","pid":1,"tid":{id},"args":{{"sort_index":{id}}}}}"#
        ));
    }
    for (task, step, end) in &l.polls {
        out.push(format!(
            r#"{{"ph":"X","cat":"poll","name":"poll","pid":1,"tid":{},"ts":{},"dur":{POLL_US},"args":{{"step":{step},"time":{},"end":{}}}}}"#,
            tid(Some(*task)),
            step * STEP_US,
            json_str(&time_of_step(*step)),
            json_str(end)
        ));
    }
    // Between-step slices on the runtime track, to anchor its instants and wake arrows.
    let mut runtime_steps: Vec<u64> = t
        .events
        .iter()
        .filter(|e| e.task.is_none())
        .map(|e| e.step)
        .collect();
    runtime_steps.dedup();
    for step in runtime_steps {
        out.push(format!(
            r#"{{"ph":"X","cat":"runtime","name":"between steps","pid":1,"tid":0,"ts":{},"dur":{},"args":{{"step":{step},"time":{}}}}}"#,
            step * STEP_US + POLL_US,
            STEP_US - POLL_US,
            json_str(&time_of_step(step))
        ));
    }
    for b in &l.blocked {
        out.push(format!(
            r#"{{"ph":"X","cat":"blocked","name":{},"pid":1,"tid":{},"ts":{},"dur":{}}}"#,
            json_str(&b.label),
            tid(Some(b.task)),
            b.start,
            b.end - b.start
        ));
    }
    for (n, h) in l.holds.iter().enumerate() {
        for (ph, ts) in [("b", h.start), ("e", h.end)] {
            out.push(format!(
                r#"{{"ph":"{ph}","cat":"hold","id":{n},"name":{},"pid":1,"tid":{},"ts":{ts}}}"#,
                json_str(&h.label),
                tid(Some(h.task))
            ));
        }
    }
    for (n, (from, ts, to, to_ts)) in l.wakes.iter().enumerate() {
        out.push(format!(
            r#"{{"ph":"s","cat":"wake","name":"wake","id":{n},"pid":1,"tid":{},"ts":{ts}}}"#,
            tid(*from)
        ));
        out.push(format!(
            r#"{{"ph":"f","bp":"e","cat":"wake","name":"wake","id":{n},"pid":1,"tid":{},"ts":{to_ts}}}"#,
            tid(Some(*to))
        ));
    }
    for (task, ts, text) in &l.marks {
        out.push(format!(
            r#"{{"ph":"i","s":"t","cat":"event","name":{},"pid":1,"tid":{},"ts":{ts}}}"#,
            json_str(text),
            tid(*task)
        ));
    }
    format!(
        "{{\"traceEvents\":[\n{}\n],\"displayTimeUnit\":\"ms\"}}\n",
        out.join(",\n")
    )
}

impl Trace {
    /// The trace as a Chrome Trace Event Format JSON document; see [`chrome`](Trace::to_chrome_json).
    ///
    /// One track (thread) per task plus a `runtime` track; each poll is a slice; the intervals a
    /// task spent blocked are slices named `blocked on …`; resource holds (acquire to release)
    /// are async slices; wakes are flow arrows from the waker's slice to the woken task's next
    /// poll. One step is one millisecond on the time axis; `args` carry the step and the
    /// simulated time. Open it in <https://ui.perfetto.dev> or `chrome://tracing`.
    ///
    /// ```
    /// let report = detsim::Builder::new().record().run_report(async {
    ///     detsim::spawn(async {}).await.unwrap();
    /// });
    /// let json = report.trace.to_chrome_json();
    /// assert!(json.starts_with("{\"traceEvents\":["));
    /// ```
    pub fn to_chrome_json(&self) -> String {
        export(self)
    }
}

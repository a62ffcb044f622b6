//! A self-contained SVG timeline (and an HTML page around it), readable for a run of a few
//! hundred steps and a dozen tasks.
//!
//! Layout, top to bottom: a title, a legend of every colour and mark, the simulated-time axis,
//! one lane for the runtime (timers, clock moves) and one per task in id order, and a step ruler.
//!
//! * **x axis.** Steps, evenly spaced: simulated time stands still within an event-loop
//!   iteration, so a purely time-scaled axis would stack every step at one point. The time axis
//!   above the lanes shows simulated time on that scale: one band per instant, a boundary
//!   wherever the clock advances, labelled with the new time.
//! * **Lanes.** A thin line spans each task's life; polls are boxes coloured by how the poll
//!   ended; blocked intervals are pale red bars (grey while waiting for a timer) with what the
//!   task waited for in their tooltip;
//!   resource holds are purple bars under the lane; wakes by another task or a timer are arrows
//!   from the waker to the woken task's next poll.
//! * **The failure** is marked where it happened: a red line across every lane and a label, at the
//!   panic, or, for a run that ended with its main future blocked (a deadlock), at the end, where
//!   the lanes of the tasks still blocked end in a red bar.
//! * **Labels never overlap:** axis and ruler labels are placed only where the previous one has
//!   room (by the width of their text in the 11 px monospace font), and lane labels are cut to
//!   fit the label column.
//!
//! Every lane is a `<g class="row">` carrying its geometry (`data-task`, `data-top`,
//! `data-height`), and the failure mark a `<g class="failure" data-x=…>`, so tools and tests can
//! find them. Every shape has a `<title>` (a tooltip in browsers). The output depends only on the
//! trace.

use std::fmt::Write;

use super::Trace;
use super::chrome::{self, POLL_US, STEP_US};
use crate::base::{Instant, TaskId};
use crate::event::{EventKind, Outcome};

/// Width of the lane-label column.
const LABEL_W: f64 = 200.0;
/// Height of a lane.
const ROW_H: f64 = 22.0;
/// Width of one character of the 11 px monospace font (generous, so labels never touch).
const CHAR_W: f64 = 7.0;
/// Where the lanes start: below the title, the legend and the time axis.
const LANES_TOP: f64 = 112.0;
/// Width available to the steps.
const PLOT_W: f64 = 1400.0;
const RIGHT: f64 = 24.0;

/// Colours, shared by the shapes and the legend.
const YIELD: &str = "#60a5fa";
const BLOCK: &str = "#1d4ed8";
const FINISHED: &str = "#16a34a";
const PANICKED: &str = "#dc2626";
const CANCELLED: &str = "#6b7280";
const BLOCKED: &str = "#fca5a5";
const SLEEPING: &str = "#cbd5e1";
const HOLD: &str = "#9333ea";
const WAKE: &str = "#f59e0b";
const FAILURE: &str = "#b91c1c";
const MARK: &str = "#374151";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// `s` cut to `max` characters, with `…` when cut.
fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn text_w(s: &str) -> f64 {
    s.chars().count() as f64 * CHAR_W
}

/// How the run failed, as far as the events tell.
enum Failed {
    /// A task panicked at this step.
    Panic { task: TaskId, step: u64 },
    /// The run ended with its main future blocked: these tasks were still blocked.
    Deadlock { blocked: Vec<TaskId> },
}

/// The first panic, or a deadlock: the main future never completed and was blocked when the run
/// ended (at the `Shutdown` event, or at the end of the trace).
fn failure(t: &Trace) -> Option<Failed> {
    for e in &t.events {
        if let (
            EventKind::Complete {
                outcome: Outcome::Panicked(_),
            },
            Some(task),
        ) = (&e.kind, e.task)
        {
            return Some(Failed::Panic { task, step: e.step });
        }
    }
    let end = t
        .events
        .iter()
        .position(|e| matches!(e.kind, EventKind::Shutdown))
        .unwrap_or(t.events.len());
    // Each task's state at the end: blocked (its last poll ended in a block) or not.
    let mut blocked: Vec<Option<bool>> = vec![None; t.tasks.len().max(1)];
    let mut main_done = false;
    for e in &t.events[..end] {
        let Some(task) = e.task else { continue };
        let i = task.as_u32() as usize;
        if blocked.len() <= i {
            blocked.resize(i + 1, None);
        }
        match &e.kind {
            EventKind::Block { .. } => blocked[i] = Some(true),
            EventKind::Poll | EventKind::Yield => blocked[i] = Some(false),
            EventKind::Complete { .. } => {
                blocked[i] = None;
                main_done |= i == 0;
            }
            _ => {}
        }
    }
    if main_done || blocked.first() != Some(&Some(true)) {
        return None;
    }
    let blocked = (0..blocked.len())
        .filter(|&i| blocked[i] == Some(true))
        .map(|i| TaskId::from_u32(i as u32))
        .collect();
    Some(Failed::Deadlock { blocked })
}

/// The simulated time at the start of each step `0..=last`, in one pass.
fn step_times(t: &Trace, last: u64) -> Vec<Instant> {
    let mut times = vec![Instant::ZERO; last as usize + 1];
    let mut now = Instant::ZERO;
    let mut events = t.events.iter().peekable();
    for (step, slot) in times.iter_mut().enumerate() {
        while let Some(e) = events.peek() {
            if e.step as usize > step {
                break;
            }
            now = e.time;
            events.next();
        }
        *slot = now;
    }
    times
}

/// A tick spacing of 1, 2, 5, 10, 20, 50… steps, at least `min_px` apart.
fn ruler_every(px_step: f64, min_px: f64) -> u64 {
    let mut every = 1u64;
    loop {
        for m in [1, 2, 5] {
            if (every * m) as f64 * px_step >= min_px {
                return every * m;
            }
        }
        every *= 10;
    }
}

pub(super) fn export(t: &Trace) -> String {
    let l = chrome::layout(t);
    let last_step = l.end / STEP_US - 1;
    let steps = last_step + 1;
    let px_step = (PLOT_W / steps as f64).clamp(3.0, 28.0);
    let x = |ts: u64| LABEL_W + ts as f64 / STEP_US as f64 * px_step;
    let lanes = t.tasks.len() + 1;
    let lane_of = |task: Option<TaskId>| task.map_or(0, |t| t.as_u32() as usize + 1);
    let top_of = |task: Option<TaskId>| LANES_TOP + lane_of(task) as f64 * ROW_H;
    let lanes_bottom = LANES_TOP + lanes as f64 * ROW_H;
    let plot_right = x(l.end);
    let failed = failure(t);
    let width = (plot_right + RIGHT).max(LABEL_W + 760.0);
    let height = lanes_bottom + 40.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="ui-monospace, Menlo, Consolas, 'DejaVu Sans Mono', monospace" font-size="11">"#
    );
    let _ = writeln!(
        s,
        r#"<defs><marker id="arrow" viewBox="0 0 6 6" refX="6" refY="3" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L6,3 L0,6 z" fill="{WAKE}"/></marker></defs>"#
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    header(&mut s, t, steps, &failed);
    time_axis(&mut s, t, last_step, &x, lanes_bottom);

    for r in 0..lanes {
        let task = (r > 0).then(|| t.tasks[r - 1].id);
        let label = task.map_or("runtime".to_string(), |id| t.task_label(id));
        let top = top_of(task);
        let mid = top + ROW_H / 2.0;
        let _ = writeln!(
            s,
            r##"<g class="row" data-task="{}" data-top="{top}" data-height="{ROW_H}"><rect x="0" y="{top}" width="{width:.0}" height="{ROW_H}" fill="{}"/><text x="6" y="{:.0}" fill="#111827"><title>{}</title>{}</text>"##,
            task.map_or("runtime".to_string(), |t| t.to_string()),
            if r % 2 == 0 { "#f9fafb" } else { "#eef2f7" },
            top + 15.0,
            esc(&label),
            esc(&fit(&label, ((LABEL_W - 12.0) / CHAR_W) as usize))
        );
        if let Some(id) = task {
            // The task's life: from its first event to its completion (or the end).
            let first = t.events.iter().find(|e| e.task == Some(id)).map(|e| e.step);
            let done = t
                .events
                .iter()
                .find(|e| e.task == Some(id) && matches!(e.kind, EventKind::Complete { .. }))
                .map_or(l.end, |e| e.step * STEP_US + POLL_US);
            if let Some(first) = first {
                let _ = writeln!(
                    s,
                    r##"<line x1="{:.1}" y1="{mid:.1}" x2="{:.1}" y2="{mid:.1}" stroke="#9ca3af" stroke-width="1"/>"##,
                    x(first * STEP_US),
                    x(done)
                );
            }
        }
        for b in l.blocked.iter().filter(|b| Some(b.task) == task) {
            let to_end = b.end >= l.end;
            let stuck = to_end
                && matches!(&failed, Some(Failed::Deadlock { blocked }) if blocked.contains(&b.task));
            let fill = if stuck {
                FAILURE
            } else if b.label.starts_with("blocked on a timer") {
                SLEEPING
            } else {
                BLOCKED
            };
            let _ = writeln!(
                s,
                r##"<rect class="blocked" x="{:.1}" y="{:.1}" width="{:.1}" height="6" fill="{fill}"><title>{}</title></rect>"##,
                x(b.start),
                mid - 3.0,
                (x(b.end) - x(b.start)).max(1.0),
                esc(&b.label)
            );
        }
        for h in l.holds.iter().filter(|h| Some(h.task) == task) {
            let _ = writeln!(
                s,
                r##"<rect class="hold" x="{:.1}" y="{:.1}" width="{:.1}" height="3" fill="{HOLD}"><title>{}</title></rect>"##,
                x(h.start),
                top + ROW_H - 4.0,
                (x(h.end) - x(h.start)).max(1.0),
                esc(&h.label)
            );
        }
        for (_, step, end) in l.polls.iter().filter(|p| Some(p.0) == task) {
            let fill = match end.as_str() {
                "yield" => YIELD,
                "block" => BLOCK,
                "Finished" => FINISHED,
                "Cancelled" => CANCELLED,
                _ => PANICKED,
            };
            let _ = writeln!(
                s,
                r##"<rect class="poll" x="{:.1}" y="{:.1}" width="{:.1}" height="14" fill="{fill}"><title>step {step}: poll, then {}</title></rect>"##,
                x(step * STEP_US),
                top + 4.0,
                (px_step * 0.8).max(2.0),
                esc(end)
            );
        }
        for (_, ts, text) in l.marks.iter().filter(|m| m.0 == task) {
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="1.5" height="4" fill="{MARK}"><title>{}</title></rect>"##,
                x(*ts),
                top + 1.0,
                esc(text)
            );
        }
        s.push_str("</g>\n");
    }
    for (from, ts, to, to_ts) in &l.wakes {
        let (x1, y1) = (x(*ts), top_of(*from) + ROW_H / 2.0);
        let (x2, y2) = (x(*to_ts), top_of(Some(*to)) + ROW_H / 2.0);
        let _ = writeln!(
            s,
            r#"<path class="wake" d="M{x1:.1},{y1:.1} C{:.1},{y1:.1} {:.1},{y2:.1} {x2:.1},{y2:.1}" fill="none" stroke="{WAKE}" stroke-width="1.3" stroke-opacity="0.85" marker-end="url(#arrow)"><title>wake {}</title></path>"#,
            x1 + (x2 - x1) * 0.5,
            x1 + (x2 - x1) * 0.5,
            esc(&t.task_label(*to))
        );
    }
    if let Some(f) = &failed {
        let (fx, label) = match f {
            Failed::Panic { task, step } => (
                x(step * STEP_US + POLL_US),
                format!("panic in {}", t.task_label(*task)),
            ),
            Failed::Deadlock { blocked } => (
                plot_right,
                format!("deadlock: {} tasks blocked", blocked.len()),
            ),
        };
        let lx = (fx - text_w(&label) - 4.0).max(LABEL_W);
        let _ = writeln!(
            s,
            r#"<g class="failure" data-x="{fx:.1}"><line x1="{fx:.1}" y1="{:.1}" x2="{fx:.1}" y2="{lanes_bottom:.1}" stroke="{FAILURE}" stroke-width="2.5"/><text x="{lx:.1}" y="{:.1}" fill="{FAILURE}" font-weight="bold">{}</text><title>{}</title></g>"#,
            LANES_TOP - 6.0,
            LANES_TOP - 8.0,
            esc(&label),
            esc(&label)
        );
    }
    step_ruler(&mut s, last_step, px_step, &x, lanes_bottom);
    s.push_str("</svg>\n");
    s
}

/// The title and the legend.
fn header(s: &mut String, t: &Trace, steps: u64, failed: &Option<Failed>) {
    let end = t.events.last().map_or(Instant::ZERO, |e| e.time);
    let outcome = match failed {
        Some(Failed::Panic { .. }) => ", failed: panic",
        Some(Failed::Deadlock { .. }) => ", failed: deadlock",
        None => "",
    };
    let _ = writeln!(
        s,
        r##"<text x="6" y="18" fill="#111827" font-size="13" font-weight="bold">detsim trace: {steps} steps, {} tasks, simulated time 0s to {end}{outcome}</text>"##,
        t.tasks.len()
    );
    let items: [(&str, &str, &str); 11] = [
        ("box", YIELD, "poll, then yield"),
        ("box", BLOCK, "poll, then block"),
        ("box", FINISHED, "poll, finished"),
        ("box", PANICKED, "poll, panicked"),
        ("box", CANCELLED, "cancelled"),
        ("bar", BLOCKED, "blocked (tooltip: on what)"),
        ("bar", SLEEPING, "waiting for a timer"),
        ("hold", HOLD, "holds a resource"),
        ("arrow", WAKE, "wakes"),
        ("tick", MARK, "other event"),
        ("line", FAILURE, "failure"),
    ];
    let (mut lx, mut ly) = (6.0, 40.0);
    s.push_str("<g class=\"legend\">\n");
    for (shape, colour, label) in items {
        let w = 22.0 + text_w(label) + 16.0;
        if lx + w > LABEL_W + 760.0 {
            lx = 6.0;
            ly += 18.0;
        }
        let swatch = match shape {
            "box" => format!(
                r#"<rect x="{lx}" y="{}" width="12" height="10" fill="{colour}"/>"#,
                ly - 9.0
            ),
            "bar" => format!(
                r#"<rect x="{lx}" y="{}" width="16" height="6" fill="{colour}"/>"#,
                ly - 7.0
            ),
            "hold" => format!(
                r#"<rect x="{lx}" y="{}" width="16" height="3" fill="{colour}"/>"#,
                ly - 5.0
            ),
            "arrow" => format!(
                r#"<line x1="{lx}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}" stroke-width="1.5" marker-end="url(#arrow)"/>"#,
                lx + 16.0,
                y = ly - 4.0
            ),
            "tick" => format!(
                r#"<rect x="{}" y="{}" width="2" height="8" fill="{colour}"/>"#,
                lx + 6.0,
                ly - 9.0
            ),
            _ => format!(
                r#"<rect x="{}" y="{}" width="3" height="12" fill="{colour}"/>"#,
                lx + 6.0,
                ly - 10.0
            ),
        };
        let _ = writeln!(
            s,
            r##"<g class="legend-item" data-x="{lx}" data-y="{ly}" data-colour="{colour}">{swatch}<text x="{}" y="{ly}" fill="#374151">{}</text></g>"##,
            lx + 20.0,
            esc(label)
        );
        lx += w;
    }
    s.push_str("</g>\n");
}

/// Simulated time above the lanes: a band per instant, a boundary and label where the clock
/// advances (labels only where they fit).
fn time_axis(s: &mut String, t: &Trace, last_step: u64, x: &dyn Fn(u64) -> f64, bottom: f64) {
    let times = step_times(t, last_step);
    let y = LANES_TOP - 30.0;
    let _ = writeln!(
        s,
        r##"<text x="6" y="{:.0}" fill="#374151">simulated time</text>"##,
        y + 13.0
    );
    let mut start = 0u64;
    let mut band = 0;
    let mut label_end = f64::MIN;
    // Labels after every band, so that no band covers a label.
    let mut labels = String::new();
    for step in 1..=last_step + 1 {
        let boundary = step > last_step || times[step as usize] != times[start as usize];
        if !boundary {
            continue;
        }
        let (x0, x1) = (x(start * STEP_US), x(step * STEP_US));
        let time = times[start as usize];
        let _ = writeln!(
            s,
            r##"<rect class="instant" x="{x0:.1}" y="{y:.1}" width="{:.1}" height="18" fill="{}"><title>steps {start} to {}: simulated time {time}</title></rect>"##,
            (x1 - x0).max(1.0),
            if band % 2 == 0 { "#e0e7ff" } else { "#c7d2fe" },
            step - 1
        );
        if start > 0 {
            let _ = writeln!(
                s,
                r##"<line x1="{x0:.1}" y1="{y:.1}" x2="{x0:.1}" y2="{bottom:.1}" stroke="#6366f1" stroke-width="0.8" stroke-dasharray="3,3"/>"##
            );
        }
        let label = time.to_string();
        if x0 + 3.0 >= label_end {
            let _ = writeln!(
                labels,
                r##"<text class="axis-label" x="{:.1}" y="{:.1}" fill="#1e1b4b" data-w="{:.0}">{}</text>"##,
                x0 + 3.0,
                y + 13.0,
                text_w(&label),
                esc(&label)
            );
            label_end = x0 + 3.0 + text_w(&label) + 8.0;
        }
        start = step;
        band += 1;
    }
    s.push_str(&labels);
}

/// Step numbers below the lanes, at a spacing their labels fit in.
fn step_ruler(s: &mut String, last_step: u64, px_step: f64, x: &dyn Fn(u64) -> f64, bottom: f64) {
    let widest = text_w(&last_step.to_string());
    let every = ruler_every(px_step, widest + 12.0);
    let _ = writeln!(
        s,
        r##"<text x="6" y="{:.0}" fill="#374151">step</text>"##,
        bottom + 16.0
    );
    let mut step = 0;
    while step <= last_step {
        let sx = x(step * STEP_US);
        let label = step.to_string();
        let _ = writeln!(
            s,
            r##"<line x1="{sx:.1}" y1="{bottom:.1}" x2="{sx:.1}" y2="{:.1}" stroke="#6b7280"/><text class="ruler-label" x="{sx:.1}" y="{:.1}" fill="#374151" data-w="{:.0}">{label}</text>"##,
            bottom + 5.0,
            bottom + 16.0,
            text_w(&label)
        );
        step += every;
    }
}

pub(super) fn html(t: &Trace) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>detsim trace</title></head>\n<body>\n{}<pre>{}</pre>\n</body></html>\n",
        export(t),
        esc(&t.render())
    )
}

impl Trace {
    /// The trace as a self-contained SVG timeline, readable for a few hundred steps and a dozen
    /// tasks: a legend; simulated time along the top (a band per instant, the clock's jumps
    /// marked and labelled); one lane per task, with polls coloured by how they ended, blocked
    /// intervals, resource holds and wake arrows; the failure (a panic, or a deadlock at the end)
    /// marked where it happened; step numbers below. Tooltips give each shape's details.
    ///
    /// ```
    /// let report = detsim::Builder::new().record().run_report(async {
    ///     detsim::spawn(async {}).await.unwrap();
    /// });
    /// assert!(report.trace.to_svg().starts_with("<svg"));
    /// ```
    ///
    /// `docs/timeline.png` in the repository (shown in the README) is such a timeline: a failing
    /// run of workers contending for a lock, a semaphore and timers, rendered by
    /// `tests/trace_timeline.rs`.
    pub fn to_svg(&self) -> String {
        export(self)
    }

    /// [`Trace::to_svg`] inside a minimal HTML page with the text form below it, for a browser.
    pub fn to_html(&self) -> String {
        html(self)
    }
}

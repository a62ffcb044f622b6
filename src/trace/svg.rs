//! A self-contained SVG timeline (and an HTML page around it).
//!
//! Rows: the runtime, then one per task in id order. Each row is a `<g class="row">` carrying its
//! geometry (`data-task`, `data-top`, `data-height`) so tools and tests can find it. The x axis is
//! the step number (the same layout as the Chrome export); simulated time is in the tick labels
//! and in each shape's `<title>` (a tooltip in browsers).

use std::fmt::Write;

use super::Trace;
use super::chrome::{self, POLL_US, STEP_US};
use crate::base::TaskId;

const LABEL_W: f64 = 180.0;
const ROW_H: f64 = 28.0;
const TOP: f64 = 30.0;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

pub(super) fn export(t: &Trace) -> String {
    let l = chrome::layout(t);
    let steps = (l.end / STEP_US).max(1);
    let px_step = (1200.0 / steps as f64).clamp(4.0, 40.0);
    let x = |ts: u64| LABEL_W + ts as f64 / STEP_US as f64 * px_step;
    let rows = t.tasks.len() + 1;
    let row_of = |task: Option<TaskId>| task.map_or(0, |t| t.index() + 1);
    let y = |task: Option<TaskId>| TOP + row_of(task) as f64 * ROW_H;
    let width = x(l.end) + 20.0;
    let height = TOP + rows as f64 * ROW_H + 10.0;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="monospace" font-size="11">"#
    );
    let _ = writeln!(s, r##"<rect width="100%" height="100%" fill="#ffffff"/>"##);
    // Tick labels every few steps, with the simulated time of that step.
    let every = ((steps as f64 / 12.0).ceil() as u64).max(1);
    let mut step = 0;
    while step <= steps {
        let time = t
            .events
            .iter()
            .find(|e| e.step >= step)
            .map(|e| e.time.to_string())
            .unwrap_or_default();
        let _ = writeln!(
            s,
            r##"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{y2:.0}" stroke="#eeeeee"/><text x="{x:.1}" y="{ty}" fill="#666666">{step} @{}</text>"##,
            esc(&time),
            x = x(step * STEP_US),
            y1 = TOP - 6.0,
            y2 = height - 10.0,
            ty = TOP - 10.0,
        );
        step += every;
    }
    for r in 0..rows {
        let (task, label) = if r == 0 {
            (None, "runtime".to_string())
        } else {
            let id = t.tasks[r - 1].id;
            (Some(id), t.task_label(id))
        };
        let top = y(task);
        let _ = writeln!(
            s,
            r##"<g class="row" data-task="{}" data-top="{top}" data-height="{ROW_H}"><rect x="0" y="{top}" width="{width:.0}" height="{ROW_H}" fill="{}"/><text x="6" y="{:.0}" fill="#222222">{}</text>"##,
            task.map_or("runtime".to_string(), |t| t.to_string()),
            if r % 2 == 0 { "#fafafa" } else { "#f2f4f8" },
            top + 17.0,
            esc(&label)
        );
        for b in l.blocked.iter().filter(|b| Some(b.task) == task) {
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="8" fill="#f8b4b4"><title>{}</title></rect>"##,
                x(b.start),
                top + 9.0,
                (x(b.end) - x(b.start)).max(1.0),
                esc(&b.label)
            );
        }
        for (_, step, end) in l.polls.iter().filter(|p| Some(p.0) == task) {
            let fill = match end.as_str() {
                "yield" => "#60a5fa",
                "block" => "#2563eb",
                "Finished" => "#16a34a",
                _ => "#dc2626",
            };
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="16" fill="{fill}"><title>step {step}: poll, then {}</title></rect>"##,
                x(step * STEP_US),
                top + 5.0,
                (x(step * STEP_US + POLL_US) - x(step * STEP_US)).max(2.0),
                esc(end)
            );
        }
        for h in l.holds.iter().filter(|h| Some(h.task) == task) {
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="3" fill="#9333ea"><title>{}</title></rect>"##,
                x(h.start),
                top + ROW_H - 5.0,
                (x(h.end) - x(h.start)).max(1.0),
                esc(&h.label)
            );
        }
        for (_, ts, text) in l.marks.iter().filter(|m| m.0 == task) {
            let _ = writeln!(
                s,
                r##"<rect x="{:.1}" y="{:.1}" width="2" height="6" fill="#444444"><title>{}</title></rect>"##,
                x(*ts),
                top + 2.0,
                esc(text)
            );
        }
        s.push_str("</g>\n");
    }
    for (from, ts, to, to_ts) in &l.wakes {
        let _ = writeln!(
            s,
            r##"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="#f59e0b" stroke-width="1.2"><title>wake {}</title></line>"##,
            x(*ts),
            y(*from) + ROW_H / 2.0,
            x(*to_ts),
            y(Some(*to)) + ROW_H / 2.0,
            esc(&t.task_label(*to))
        );
    }
    s.push_str("</svg>\n");
    s
}

pub(super) fn html(t: &Trace) -> String {
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>detsim trace</title></head>\n<body>\n{}<pre>{}</pre>\n</body></html>\n",
        export(t),
        esc(&t.render())
    )
}

impl Trace {
    /// The trace as a self-contained SVG timeline: one row per task, polls as solid boxes,
    /// blocked intervals as pale boxes, resource holds as bars under the row, wakes as arrows.
    /// The x axis is the step number; labels show simulated time.
    ///
    /// ```
    /// let report = detsim::Builder::new().record().run_report(async {
    ///     detsim::spawn(async {}).await.unwrap();
    /// });
    /// assert!(report.trace.to_svg().starts_with("<svg"));
    /// ```
    pub fn to_svg(&self) -> String {
        export(self)
    }

    /// [`Trace::to_svg`] inside a minimal HTML page with the text form below it, for a browser.
    pub fn to_html(&self) -> String {
        html(self)
    }
}

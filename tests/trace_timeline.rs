//! The SVG timeline of a run of a few hundred steps and a dozen tasks, rendered to PNG by resvg
//! and checked by its structure and its pixels. resvg is built without text support here, so the
//! labels are checked in the SVG (positions and widths: none overlaps) and the shapes in the
//! picture (every lane drawn, the legend's colours, wake arrows, the failure's red line).
//!
//! The rendered PNG is written to `$CARGO_TARGET_TMPDIR/timeline.png` to look at; with
//! `DETSIM_TIMELINE_SVG=path` the SVG is written there too (to regenerate `docs/timeline.png`,
//! see CONTRIBUTING.md).

use std::time::Duration;

use detsim::sync::{Lock, Semaphore};
use detsim::task::Builder as Task;
use detsim::time::sleep;
use detsim::trace::Trace;

/// Ten workers share a pool of three permits and a ledger lock over a few rounds with simulated
/// delays; then two transfers take two accounts in opposite orders and deadlock (under FIFO).
async fn workers_then_deadlock() {
    let pool = Semaphore::named(3, "pool");
    let ledger = Lock::named("ledger");
    let hs: Vec<_> = (0..10u64)
        .map(|i| {
            let (pool, ledger) = (pool.clone(), ledger.clone());
            Task::new().name(format!("worker {i}")).spawn(async move {
                for round in 0..3u64 {
                    let _permit = pool.acquire().await;
                    sleep(Duration::from_millis((i * 7 + round * 3) % 4 * 10)).await;
                    let _entry = ledger.acquire().await;
                    detsim::yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    let (a, b) = (Lock::named("account a"), Lock::named("account b"));
    let t1 = Task::new().name("a->b").spawn({
        let (a, b) = (a.clone(), b.clone());
        async move {
            let _x = a.acquire().await;
            detsim::yield_now().await;
            let _y = b.acquire().await;
        }
    });
    let t2 = Task::new().name("b->a").spawn(async move {
        let _y = b.acquire().await;
        detsim::yield_now().await;
        let _x = a.acquire().await;
    });
    t1.await.unwrap();
    t2.await.unwrap();
}

fn record<F: std::future::Future>(f: F) -> Trace {
    let report = detsim::Builder::new().record().run_report(f);
    assert!(report.output.is_err(), "the sample run must fail");
    report.trace
}

/// `name="…"` of the element starting at `at`.
fn attr(svg: &str, at: usize, name: &str) -> String {
    let key = format!(" {name}=\"");
    let end = svg[at..].find('>').unwrap() + at;
    let a = svg[at..end]
        .find(&key)
        .unwrap_or_else(|| panic!("no {name} in {}", &svg[at..end]))
        + at
        + key.len();
    let b = svg[a..].find('"').unwrap() + a;
    svg[a..b].to_string()
}

fn num(svg: &str, at: usize, name: &str) -> f64 {
    attr(svg, at, name).parse().unwrap()
}

/// Every element whose opening tag contains `marker`, as its start offset.
fn elements(svg: &str, marker: &str) -> Vec<usize> {
    svg.match_indices(marker)
        .map(|(i, _)| svg[..i].rfind('<').unwrap())
        .collect()
}

fn render(svg: &str) -> resvg::tiny_skia::Pixmap {
    let tree =
        resvg::usvg::Tree::from_str(svg, &resvg::usvg::Options::default()).expect("the SVG parses");
    let size = tree.size().to_int_size();
    let mut pixmap = resvg::tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
    resvg::render(
        &tree,
        resvg::tiny_skia::Transform::default(),
        &mut pixmap.as_mut(),
    );
    pixmap
}

fn rgb(p: resvg::tiny_skia::PremultipliedColorU8) -> (u8, u8, u8) {
    (p.red(), p.green(), p.blue())
}

fn hex(c: &str) -> (u8, u8, u8) {
    let v = |i: usize| u8::from_str_radix(&c[i..i + 2], 16).unwrap();
    (v(1), v(3), v(5))
}

/// Labels along one line (same `y`) do not overlap: each ends before the next begins.
fn assert_no_overlap(svg: &str, class: &str) -> usize {
    let mut spans: Vec<(f64, f64)> = elements(svg, &format!("class=\"{class}\""))
        .into_iter()
        .map(|i| (num(svg, i, "x"), num(svg, i, "data-w")))
        .collect();
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    for w in spans.windows(2) {
        assert!(
            w[0].0 + w[0].1 <= w[1].0,
            "{class} labels overlap: {:?} and {:?}",
            w[0],
            w[1]
        );
    }
    spans.len()
}

#[test]
fn a_long_failing_run_gives_a_readable_timeline() {
    let trace = record(workers_then_deadlock());
    let steps = trace.events.last().unwrap().step;
    assert!(
        steps > 100 && trace.tasks.len() >= 12,
        "{steps} steps, {} tasks",
        trace.tasks.len()
    );
    let svg = trace.to_svg();
    if let Ok(path) = std::env::var("DETSIM_TIMELINE_SVG") {
        std::fs::write(path, &svg).unwrap();
    }
    let pixmap = render(&svg);
    let png = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("timeline.png");
    pixmap.save_png(&png).unwrap();
    let (w, h) = (pixmap.width(), pixmap.height());
    assert!(w <= 1700 && h <= 600, "{w}x{h}: too big to read");
    let px = |x: f64, y: f64| rgb(pixmap.pixel(x as u32, y as u32).unwrap());

    // Lanes: the runtime and one per task, each with something drawn on it.
    let rows = elements(&svg, "class=\"row\"");
    assert_eq!(rows.len(), trace.tasks.len() + 1);
    for &r in &rows {
        let (top, height) = (num(&svg, r, "data-top"), num(&svg, r, "data-height"));
        let background = px(w as f64 - 2.0, top + 2.0);
        let drawn = (top as u32 + 1..(top + height) as u32)
            .flat_map(|y| (205..w - 30).map(move |x| (x, y)))
            .filter(|&(x, y)| rgb(pixmap.pixel(x, y).unwrap()) != background)
            .count();
        assert!(drawn > 20, "lane {} is empty", attr(&svg, r, "data-task"));
    }

    // The legend: every entry's swatch is drawn in its colour, and its label is there.
    let legend = elements(&svg, "class=\"legend-item\"");
    assert_eq!(legend.len(), 11);
    for (i, label) in [
        "poll, then yield",
        "poll, then block",
        "poll, finished",
        "poll, panicked",
        "cancelled",
        "blocked (tooltip: on what)",
        "waiting for a timer",
        "holds a resource",
        "wakes",
        "other event",
        "failure",
    ]
    .iter()
    .enumerate()
    {
        let item = &svg[legend[i]..];
        assert!(item[..item.find("</g>").unwrap()].contains(label));
        let colour = attr(&svg, legend[i], "data-colour");
        let (x, y) = (
            num(&svg, legend[i], "data-x"),
            num(&svg, legend[i], "data-y"),
        );
        let found = (x as u32..x as u32 + 18)
            .flat_map(|x| (y as u32 - 10..y as u32 + 1).map(move |y| (x, y)))
            .any(|(x, y)| rgb(pixmap.pixel(x, y).unwrap()) == hex(&colour));
        assert!(found, "legend swatch {label:?} not drawn in {colour}");
    }

    // Labels never overlap; the simulated-time axis has a band per instant.
    let axis_labels = assert_no_overlap(&svg, "axis-label");
    let ruler_labels = assert_no_overlap(&svg, "ruler-label");
    assert!(
        axis_labels >= 3 && ruler_labels >= 5,
        "{axis_labels} {ruler_labels}"
    );
    let mut instants: Vec<_> = trace.events.iter().map(|e| e.time).collect();
    instants.dedup();
    assert_eq!(elements(&svg, "class=\"instant\"").len(), instants.len());

    // Wake arrows, drawn in orange.
    let wakes = elements(&svg, "class=\"wake\"").len();
    assert!(wakes > 20, "{wakes} wake arrows");
    let orange = (0..w)
        .flat_map(|x| (0..h).map(move |y| (x, y)))
        .filter(|&(x, y)| rgb(pixmap.pixel(x, y).unwrap()) == hex("#f59e0b"))
        .count();
    assert!(orange > 200, "{orange} orange pixels");

    // The deadlock is marked at the end: a red line down every lane, and the three tasks still
    // blocked (main, a->b, b->a) end in red bars.
    let f = elements(&svg, "class=\"failure\"");
    assert_eq!(f.len(), 1);
    assert!(svg[f[0]..].contains(">deadlock: 3 tasks blocked</text>"));
    let fx = num(&svg, f[0], "data-x");
    let red = hex("#b91c1c");
    for &r in &rows {
        let mid = num(&svg, r, "data-top") + 11.0;
        assert!(
            (fx as u32 - 1..=fx as u32 + 1)
                .any(|x| rgb(pixmap.pixel(x, mid as u32 - 6).unwrap()) == red),
            "no failure line on lane {}",
            attr(&svg, r, "data-task")
        );
    }
    let stuck = elements(&svg, "class=\"blocked\"")
        .into_iter()
        .filter(|&i| attr(&svg, i, "fill") == "#b91c1c")
        .count();
    assert_eq!(stuck, 3);
}

#[test]
fn a_panic_is_marked_where_it_happened() {
    let trace = record(async {
        let h = Task::new().name("checker").spawn(async {
            for _ in 0..3 {
                detsim::yield_now().await;
            }
            let broken = detsim::random_below(1) == 0;
            assert!(!broken, "invariant broken");
        });
        let other = Task::new().name("other").spawn(async {
            for _ in 0..10 {
                detsim::yield_now().await;
            }
        });
        h.await.unwrap();
        other.await.unwrap();
    });
    let svg = trace.to_svg();
    let f = elements(&svg, "class=\"failure\"");
    assert_eq!(f.len(), 1);
    assert!(svg[f[0]..].contains(">panic in task 1 &quot;checker&quot;</text>"));
    // At the panicking poll, not at the end of the trace.
    let fx = num(&svg, f[0], "data-x");
    let polls = elements(&svg, "class=\"poll\"");
    let panicked = polls
        .iter()
        .find(|&&i| attr(&svg, i, "fill") == "#dc2626")
        .expect("a red poll");
    let px = num(&svg, *panicked, "x");
    assert!(
        fx > px && fx < px + 30.0,
        "failure at {fx}, panicking poll at {px}"
    );
    render(&svg);
    // The HTML page embeds the same SVG and the text form.
    let html = trace.to_html();
    assert!(html.contains(&svg) && html.contains("task 1 &quot;checker&quot;: yield"));
}

#[test]
fn a_passing_run_has_no_failure_mark_and_short_labels_fit() {
    let report = detsim::Builder::new().record().run_report(async {
        let h = Task::new()
            .name("a task with a very long name that cannot fit in the label column")
            .spawn(sleep(Duration::from_secs(2)));
        h.await.unwrap();
    });
    report.output.unwrap();
    let svg = report.trace.to_svg();
    assert!(!svg.contains("class=\"failure\""));
    assert!(svg.contains("…</text>"), "a long lane label is cut");
    assert!(svg.contains(">2s</text>"), "the clock's jump is labelled");
    assert_no_overlap(&svg, "axis-label");
    assert_no_overlap(&svg, "ruler-label");
    render(&svg);
}

#[test]
fn a_few_hundred_steps_stay_within_a_screen_and_keep_labels_apart() {
    let report = detsim::Builder::new()
        .seed(3)
        .scheduler(detsim::scheduler::Random::new())
        .record()
        .run_report(async {
            let lock = Lock::named("shared");
            let hs: Vec<_> = (0..12u64)
                .map(|i| {
                    let lock = lock.clone();
                    Task::new().name(format!("t{i}")).spawn(async move {
                        for r in 0..20u64 {
                            if (i + r) % 5 == 0 {
                                sleep(Duration::from_millis(i + 1)).await;
                            }
                            let _g = lock.acquire().await;
                            detsim::yield_now().await;
                        }
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        });
    report.output.unwrap();
    let steps = report.trace.events.last().unwrap().step;
    assert!(steps > 300, "{steps} steps");
    let svg = report.trace.to_svg();
    let pixmap = render(&svg);
    pixmap
        .save_png(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("timeline_long.png"))
        .unwrap();
    assert!(pixmap.width() <= 1700, "{} px wide", pixmap.width());
    assert!(!svg.contains("class=\"failure\""));
    assert_no_overlap(&svg, "axis-label");
    assert_no_overlap(&svg, "ruler-label");
    // Every poll is at least 2 px wide.
    for i in elements(&svg, "class=\"poll\"") {
        assert!(num(&svg, i, "width") >= 2.0);
    }
}

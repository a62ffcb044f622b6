//! Timeline exports: the Chrome trace parses back with the expected structure (the SVG timeline
//! is checked in `tests/trace_timeline.rs`).

use std::collections::BTreeMap;

use detsim::event::{Event, EventKind};
use detsim::task::Builder as Task;
use detsim::time::{Duration, Instant, sleep};
use detsim::trace::{ResourceInfo, Trace};
use serde_json::Value;

/// Colour and read, plus a lock held across a yield (hand-added events: detsim's own Lock is
/// not there yet, and the exports only read events).
fn sample() -> Trace {
    let report = detsim::Builder::new().record().run_report(async {
        let colour = Task::new().name("colour").spawn(async {
            detsim::yield_now().await;
            detsim::yield_now().await;
        });
        let read = Task::new()
            .name("read")
            .spawn(sleep(Duration::from_millis(500)));
        colour.await.unwrap();
        read.await.unwrap();
    });
    let mut t = report.trace;
    t.resources.push(ResourceInfo {
        id: 0,
        kind: "Lock",
        name: Some("paint".into()),
    });
    let colour = t.tasks[1].id;
    let at = |i: usize| {
        t.events
            .iter()
            .position(|e| e.task == Some(colour))
            .unwrap()
            + i
    };
    let (first, time) = (at(1), Instant::ZERO);
    let step = t.events[first].step;
    t.events.insert(
        first,
        Event {
            step,
            time,
            task: Some(colour),
            kind: EventKind::Resource {
                resource: 0,
                op: "acquire",
            },
        },
    );
    let last = t
        .events
        .iter()
        .rposition(|e| e.task == Some(colour))
        .unwrap();
    let step = t.events[last].step;
    t.events.insert(
        last,
        Event {
            step,
            time,
            task: Some(colour),
            kind: EventKind::Resource {
                resource: 0,
                op: "release",
            },
        },
    );
    t
}

#[test]
fn chrome_trace_has_tracks_polls_blocks_holds_and_wake_flows() {
    let t = sample();
    let json: Value = serde_json::from_str(&t.to_chrome_json()).expect("valid JSON");
    let evs = json["traceEvents"].as_array().expect("traceEvents array");
    let of = |ph: &str| {
        evs.iter()
            .filter(move |e| e["ph"] == ph)
            .collect::<Vec<_>>()
    };

    // One named track per task, plus the runtime's.
    let names: BTreeMap<u64, &str> = of("M")
        .into_iter()
        .filter(|e| e["name"] == "thread_name")
        .map(|e| {
            (
                e["tid"].as_u64().unwrap(),
                e["args"]["name"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        [
            (0, "runtime"),
            (1, "task 0 \"main\""),
            (2, "task 1 \"colour\""),
            (3, "task 2 \"read\"")
        ]
    );

    // One poll slice per Poll event; polls and blocked intervals nest properly on each track.
    let slices = of("X");
    let polls = slices.iter().filter(|e| e["name"] == "poll").count();
    assert_eq!(
        polls,
        t.events
            .iter()
            .filter(|e| e.kind == EventKind::Poll)
            .count()
    );
    let mut by_tid: BTreeMap<u64, Vec<(u64, u64)>> = BTreeMap::new();
    for s in &slices {
        let (ts, dur) = (s["ts"].as_u64().unwrap(), s["dur"].as_u64().unwrap());
        assert!(dur > 0, "{s}");
        by_tid
            .entry(s["tid"].as_u64().unwrap())
            .or_default()
            .push((ts, ts + dur));
    }
    for (tid, mut v) in by_tid {
        v.sort();
        for w in v.windows(2) {
            assert!(w[0].1 <= w[1].0, "overlapping slices on track {tid}: {w:?}");
        }
    }
    let blocked: Vec<&str> = slices
        .iter()
        .filter(|e| e["cat"] == "blocked")
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(
        blocked.contains(&"blocked on a timer at 0.5s"),
        "{blocked:?}"
    );
    assert!(
        blocked.contains(&"blocked on task 1 \"colour\" to finish"),
        "{blocked:?}"
    );

    // The lock hold is one async slice on colour's track.
    let holds: Vec<_> = evs.iter().filter(|e| e["cat"] == "hold").collect();
    assert_eq!(holds.len(), 2);
    assert_eq!(
        (holds[0]["ph"].as_str(), holds[1]["ph"].as_str()),
        (Some("b"), Some("e"))
    );
    assert_eq!(holds[0]["name"], "holds Lock #0 \"paint\"");
    assert_eq!(holds[0]["tid"], 2);
    assert!(holds[0]["ts"].as_u64() < holds[1]["ts"].as_u64());

    // Every wake flow starts once and finishes once, later, on another track; the timer's wake
    // of "read" starts on the runtime track.
    let starts = of("s");
    let finishes = of("f");
    assert_eq!(starts.len(), finishes.len());
    assert!(!starts.is_empty());
    for s in &starts {
        let f = finishes
            .iter()
            .find(|f| f["id"] == s["id"])
            .expect("flow end");
        assert!(f["ts"].as_u64() > s["ts"].as_u64());
        assert_ne!(f["tid"], s["tid"]);
        assert_eq!(f["bp"], "e");
    }
    assert!(starts.iter().any(|s| s["tid"] == 0));

    // Instants carry the text of the other events.
    assert!(
        of("i")
            .iter()
            .any(|e| e["name"] == "clock advances to 0.5s" && e["tid"] == 0),
        "{evs:?}"
    );
}

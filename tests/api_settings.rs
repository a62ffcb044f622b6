//! Builder settings do what they say: a seed alone keeps asyncio's order, and a schedule to
//! replay is replayed by a single run as by an exploration, or refused loudly, never ignored.

use std::cell::RefCell;
use std::rc::Rc;

use detsim::explore::Schedule;
use detsim::scheduler::{Decision, Random};
use detsim::{Builder, spawn, yield_now};

/// Four tasks log their number after a yield: the log is the order they ran in.
async fn order() -> Vec<u32> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let hs: Vec<_> = (0..4)
        .map(|i| {
            let log = log.clone();
            spawn(async move {
                yield_now().await;
                log.borrow_mut().push(i);
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    log.take()
}

#[test]
fn a_seed_alone_keeps_asyncio_order_and_seeds_random_values() {
    for seed in [0, 7, 8, 12345] {
        let r = Builder::new().seed(seed).run_report(order());
        assert_eq!(r.output.unwrap(), [0, 1, 2, 3], "seed {seed}");
        assert!(
            r.decisions
                .iter()
                .all(|d| matches!(d, Decision::Task { index: 0, .. })),
            "seed {seed}: {:?}",
            r.decisions
        );
    }
    // The seed does seed the random values user code draws.
    let draw = |seed| {
        Builder::new()
            .seed(seed)
            .run(async { detsim::random_u64() })
            .unwrap()
    };
    assert_eq!(draw(7), draw(7));
    assert_ne!(draw(7), draw(8));
    // With a scheduler that has choices, the seed picks the order.
    let random = |seed| {
        Builder::new()
            .seed(seed)
            .scheduler(Random::new())
            .run(order())
            .unwrap()
    };
    assert_eq!(random(7), random(7));
    assert!((0..20).any(|seed| random(seed) != [0, 1, 2, 3]));
}

#[test]
fn run_and_run_report_replay_a_given_schedule() {
    // Find a seed whose random order is not asyncio's, then replay its schedule string.
    let (seed, wanted) = (0..50)
        .map(|seed| {
            let r = Builder::new()
                .seed(seed)
                .scheduler(Random::new())
                .run_report(order());
            (seed, r)
        })
        .find(|(_, r)| r.output.as_ref().unwrap() != &[0, 1, 2, 3])
        .unwrap();
    let schedule: Schedule = Schedule::from_decisions(&wanted.decisions)
        .to_string()
        .parse()
        .unwrap();
    let replayed = Builder::new()
        .replay_schedule(schedule.clone())
        .run_report(order());
    assert_eq!(replayed.decisions, wanted.decisions, "seed {seed}");
    assert_eq!(replayed.output.unwrap(), *wanted.output.as_ref().unwrap());
    let out = Builder::new()
        .replay_schedule(schedule)
        .run(order())
        .unwrap();
    assert_eq!(out, *wanted.output.as_ref().unwrap());
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).unwrap_err();
    payload
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn settings_a_single_run_cannot_honour_are_refused() {
    let msg = panic_message(|| {
        let _ = Builder::new()
            .scheduler(Random::new())
            .replay_schedule(Schedule::default())
            .run(order());
    });
    assert!(
        msg.contains("Builder::scheduler(Random) and Builder::replay_schedule together"),
        "{msg}"
    );
    let msg = panic_message(|| {
        let _ = Builder::new().replay_seed(3).run_report(order());
    });
    assert!(
        msg.contains("Builder::replay_seed(3) with run/run_report"),
        "{msg}"
    );
    assert!(msg.contains("Builder::replay_schedule"), "{msg}");
}

#[test]
fn the_full_trace_of_a_found_failure() {
    let program = || async {
        let v = order().await;
        assert_eq!(v, [0, 1, 2, 3], "out of order");
    };
    let found = Builder::new()
        .ignore_env()
        .strategy(detsim::explore::Strategy::Random)
        .trace_tail(3)
        .explore(program)
        .unwrap_err();
    assert_eq!(found.failure.trace.events.len(), 3);
    let report = Builder::new()
        .replay_schedule(found.shrunk.clone())
        .record()
        .run_report(program());
    let failure = report.output.unwrap_err();
    assert_eq!(failure.kind.name(), "panic");
    // Every event, from the first poll to the panic.
    let text = report.trace.to_string();
    assert!(
        text.starts_with("step 1 @0s task 0 \"main\": poll"),
        "{text}"
    );
    assert!(text.contains("panicked: \"assertion"), "{text}");
    assert!(report.trace.events.len() > 3);
}

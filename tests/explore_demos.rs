//! The demonstrations of issue 6: classic concurrency bugs that asyncio's own order does not
//! show, found by exploration with both Random and PCT within the default budget (1,000
//! schedules), reported with their cause, and replayed from the seed and from the shrunk schedule.
//! Two of them are historical CPython bugs put back into copies of detsim's primitives
//! (`common/broken.rs`); detsim's real primitives pass the same programs in every schedule tried.

mod common;

use common::demos::{self, Demo};
use detsim::explore::{Found, Strategy};
use detsim::{Builder, FailureKind};

const STRATEGIES: [Strategy; 2] = [Strategy::Random, Strategy::Pct { depth: 3 }];

fn demo(name: &str) -> Demo {
    demos::all()
        .into_iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no demo {name:?}"))
}

fn explore(d: &Demo, strategy: Strategy) -> Box<Found> {
    Builder::new()
        .ignore_env()
        .strategy(strategy.clone())
        .explore(d.program)
        .map(|summary| panic!("{} under {strategy}: not found ({summary})", d.name))
        .unwrap_err()
}

/// Found by both strategies, the report names the cause, and it replays from the seed (same
/// decisions) and from the shrunk schedule (same failure).
fn finds_and_replays(name: &str) {
    let d = demo(name);
    // asyncio's order passes: the bug needs a particular interleaving.
    Builder::new()
        .ignore_env()
        .strategy(Strategy::Fifo)
        .schedules(1)
        .explore(d.program)
        .unwrap_or_else(|f| panic!("{name}: FIFO order already fails:\n{f}"));
    for strategy in STRATEGIES {
        let found = explore(&d, strategy.clone());
        let report = found.to_string();
        for cause in d.cause {
            assert!(
                report.contains(cause),
                "{name} / {strategy}: {cause:?} not in\n{report}"
            );
        }
        assert!(found.schedules_run <= 1000, "{report}");
        assert!(found.seed_replays, "{report}");
        assert!(found.shrunk.len() <= found.schedule.len(), "{report}");

        let by_seed = Builder::new()
            .ignore_env()
            .strategy(strategy.clone())
            .replay_seed(found.seed)
            .explore(d.program)
            .unwrap_err();
        assert_eq!(
            by_seed.original.decisions, found.original.decisions,
            "{name} / {strategy}"
        );
        assert_eq!(
            by_seed.original.kind, found.original.kind,
            "{name} / {strategy}"
        );

        let by_schedule = Builder::new()
            .ignore_env()
            .replay_schedule(found.shrunk.clone())
            .explore(d.program)
            .unwrap_err();
        assert_eq!(
            by_schedule.original.kind, found.failure.kind,
            "{name} / {strategy}"
        );
        assert_eq!(
            by_schedule.original.decisions, found.failure.decisions,
            "{name} / {strategy}"
        );
    }
}

/// The correct version passes every schedule of the default budget, under both strategies.
fn fixed_passes(name: &str) {
    let d = demo(name);
    let fixed = d.fixed.expect("a fixed version");
    for strategy in STRATEGIES {
        let summary = Builder::new()
            .ignore_env()
            .strategy(strategy.clone())
            .explore(fixed)
            .unwrap_or_else(|f| panic!("{name} (fixed) failed under {strategy}:\n{f}"));
        assert_eq!(summary.schedules, 1000, "{name} / {strategy}");
    }
}

#[test]
fn lost_update() {
    finds_and_replays("lost update");
    fixed_passes("lost update");
}

#[test]
fn abba_deadlock_names_both_locks_and_holders() {
    finds_and_replays("ABBA deadlock");
    let found = explore(&demo("ABBA deadlock"), Strategy::Random);
    let FailureKind::Deadlock { blocked } = &found.failure.kind else {
        panic!("{found}")
    };
    assert_eq!(blocked.len(), 3, "{found}"); // both transfers, and main joining them
}

#[test]
fn event_cleared_too_early() {
    finds_and_replays("Event cleared too early");
}

#[test]
fn condition_if_instead_of_while() {
    finds_and_replays("Condition `if` not `while`");
    fixed_passes("Condition `if` not `while`");
}

#[test]
fn task_group_cancellation_leaks_a_semaphore_unit() {
    finds_and_replays("TaskGroup leaks a unit");
    fixed_passes("TaskGroup leaks a unit");
}

#[test]
fn broken_lock_bpo_27585_and_the_real_lock() {
    finds_and_replays("bpo-27585 Lock");
    fixed_passes("bpo-27585 Lock");
}

#[test]
fn broken_semaphore_gh_90155_and_the_real_semaphore() {
    finds_and_replays("gh-90155 Semaphore");
    fixed_passes("gh-90155 Semaphore");
}

//! Exploration end to end: find a failure, report it, shrink it, and replay it from the seed and
//! from the schedule string — in process and through the printed `DETSIM_*` line in a child
//! process.

use std::cell::Cell;
use std::rc::Rc;

use detsim::explore::{Determinism, Schedule, Strategy};
use detsim::{Builder, FailureKind, spawn, yield_now};

mod common;
#[path = "common/lost_update.rs"]
mod counters;

/// Three tasks increment a counter with read – yield – write: a lost update.
async fn lost_update() {
    let n = Rc::new(Cell::new(0));
    let hs: Vec<_> = (0..3)
        .map(|i| {
            let n = n.clone();
            detsim::task::Builder::new()
                .name(format!("incr {i}"))
                .spawn(async move {
                    for _ in 0..2 {
                        let v = n.get();
                        yield_now().await;
                        n.set(v + 1);
                    }
                })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    assert_eq!(n.get(), 6, "lost update");
}

fn explore() -> Box<detsim::explore::Found> {
    Builder::new()
        .ignore_env()
        .strategy(Strategy::Random)
        .explore(lost_update)
        .unwrap_err()
}

#[test]
fn finds_reports_and_shrinks_a_lost_update() {
    let found = explore();
    let report = found.to_string();
    let first = report.lines().next().unwrap();
    assert!(
        first.starts_with("detsim found a failure: panic in task 0 \"main\""),
        "{report}"
    );
    assert!(first.ends_with("lost update"), "{report}");
    assert!(report.contains("strategy: Random, schedule #"), "{report}");
    assert!(
        report.contains(&format!("schedule #{}, after", found.index.unwrap())),
        "{report}"
    );
    let line = format!(
        "DETSIM_SEED={} {} --test explore_replay -- --exact finds_reports_and_shrinks_a_lost_update",
        found.seed,
        common::cargo_test()
    );
    assert!(report.contains(&line), "{report}");
    assert!(
        report.contains(&format!("DETSIM_SCHEDULE={} cargo test", found.shrunk)),
        "{report}"
    );
    assert!(
        report.contains("replayed twice with identical events"),
        "{report}"
    );
    assert_eq!(found.determinism, Determinism::Confirmed);
    // Shrinking made it no larger, and the minimal lost update needs a single switch away from
    // FIFO in this program: FIFO order itself interleaves the read–yield–write of all three.
    assert!(found.shrunk.len() <= found.schedule.len());
    assert!(found.failure.decisions.len() <= found.original.decisions.len());
    // The trace tail of the shrunk run is in the report.
    assert!(!found.failure.trace.events.is_empty());
}

#[test]
fn fifo_alone_finds_this_lost_update_with_an_empty_schedule() {
    // asyncio's own order already loses updates here: the shrunk schedule is empty.
    let found = explore();
    assert!(found.shrunk.is_empty(), "{}", found.shrunk);
}

#[test]
fn replays_from_seed_and_from_schedule() {
    let found = explore();
    let by_seed = Builder::new()
        .ignore_env()
        .strategy(Strategy::Random)
        .replay_seed(found.seed)
        .explore(lost_update)
        .unwrap_err();
    assert_eq!(by_seed.original.decisions, found.original.decisions);
    let by_schedule = Builder::new()
        .ignore_env()
        .replay_schedule(found.shrunk.clone())
        .explore(lost_update)
        .unwrap_err();
    assert!(matches!(
        by_schedule.original.kind,
        FailureKind::Panic { .. }
    ));
    // A schedule string survives a round trip through text.
    let text = found.schedule.to_string();
    assert_eq!(text.parse::<Schedule>().unwrap(), found.schedule);
}

#[test]
fn a_passing_program_reports_a_summary() {
    let summary = Builder::new()
        .ignore_env()
        .schedules(300)
        .explore(counters::correct)
        .unwrap();
    assert_eq!(summary.schedules, 300);
    assert_eq!(
        summary.to_string(),
        "300 schedules of portfolio explored, no failure"
    );
}

/// The child side of `printed_replay_line_works_in_a_child_process`: explores only when the
/// parent asks (it fails by design).
#[test]
fn child_lost_update() {
    if std::env::var("DETSIM_TEST_CHILD").is_err() {
        return;
    }
    detsim::check(lost_update);
}

#[test]
fn printed_replay_line_works_in_a_child_process() {
    let found = explore();
    for (var, value) in [
        ("DETSIM_SCHEDULE", found.shrunk.to_string()),
        ("DETSIM_SEED", found.seed.to_string()),
    ] {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "child_lost_update", "--nocapture"])
            .env("DETSIM_TEST_CHILD", "1")
            .env("DETSIM_STRATEGY", "random")
            .env(var, &value)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var} replay passed:\n{stderr}");
        assert!(stderr.contains("lost update"), "{var}:\n{stderr}");
        assert!(
            stderr.contains("--exact child_lost_update"),
            "{var}:\n{stderr}"
        );
    }
    // A malformed variable is a clear error naming it.
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_lost_update", "--nocapture"])
        .env("DETSIM_TEST_CHILD", "1")
        .env("DETSIM_SCHEDULE", "ds1.corrupted")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("DETSIM_SCHEDULE=\"ds1.corrupted\" is not valid"),
        "{stderr}"
    );
}

#[test]
fn jobs_find_the_same_failure_as_one_thread() {
    let program = || async {
        let n = Rc::new(Cell::new(0));
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let n = n.clone();
                spawn(async move {
                    let v = n.get();
                    if detsim::random_below(4) == 0 {
                        yield_now().await;
                    }
                    n.set(v + 1);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        assert_eq!(n.get(), 4);
    };
    let one = Builder::new()
        .ignore_env()
        .strategy(Strategy::Random)
        .explore(program)
        .unwrap_err();
    for jobs in [2, 3] {
        let many = Builder::new()
            .ignore_env()
            .strategy(Strategy::Random)
            .jobs(jobs)
            .explore(program)
            .unwrap_err();
        assert_eq!(many.index, one.index, "jobs={jobs}");
        assert_eq!(many.seed, one.seed);
        assert_eq!(many.schedules_run, one.schedules_run);
        assert_eq!(many.shrunk, one.shrunk);
    }
}

#[test]
fn shards_partition_the_schedules() {
    let ran = |shard: Option<(u64, u64)>| {
        let count = std::sync::atomic::AtomicU64::new(0);
        let mut b = Builder::new()
            .ignore_env()
            .strategy(Strategy::Random)
            .schedules(100);
        if let Some((k, n)) = shard {
            b = b.shard(k, n);
        }
        let s = b
            .explore(|| {
                count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                async {}
            })
            .unwrap();
        assert_eq!(s.schedules, count.into_inner());
        s.schedules
    };
    assert_eq!(ran(None), 100);
    assert_eq!(
        ran(Some((1, 3))) + ran(Some((2, 3))) + ran(Some((3, 3))),
        100
    );
}

#[test]
fn nondeterminism_is_detected_with_the_first_difference() {
    // The program reads a process-global counter: each run differs.
    static RUNS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let found = Builder::new()
        .ignore_env()
        .check_determinism(true)
        .explore(|| async {
            let k = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            for _ in 0..(k % 2) {
                yield_now().await;
            }
        })
        .unwrap_err();
    assert!(matches!(
        found.failure.kind,
        FailureKind::Nondeterminism { .. }
    ));
    let report = found.to_string();
    assert!(report.contains("event"), "{report}");
    assert!(report.contains("NOT deterministic"), "{report}");
    assert!(
        report.contains("RandomState") && report.contains("tokio::select!"),
        "{report}"
    );
}

#[test]
fn nondeterminism_in_task_names_alone_is_detected() {
    // Tasks named in HashMap iteration order: the same events by task id, different names in every
    // report and trace. The check used to compare the events only.
    let found = Builder::new()
        .ignore_env()
        .schedules(20)
        .check_determinism(true)
        .explore(|| async {
            let names: std::collections::HashMap<String, ()> =
                (0..8).map(|i| (format!("worker {i}"), ())).collect();
            let hs: Vec<_> = names
                .into_keys()
                .map(|n| detsim::task::Builder::new().name(n).spawn(yield_now()))
                .collect();
            for h in hs {
                h.await.unwrap();
            }
        })
        .unwrap_err();
    let report = found.to_string();
    assert!(
        matches!(found.failure.kind, FailureKind::Nondeterminism { .. }),
        "{report}"
    );
    assert!(report.contains("\"worker "), "{report}");
    assert!(report.contains("NOT deterministic"), "{report}");
}

/// Two tasks, one yield each, correct program: Dfs covers every schedule within its bound and
/// says so.
#[test]
fn dfs_reports_complete_coverage() {
    let summary = Builder::new()
        .ignore_env()
        .strategy(Strategy::Dfs {
            delays: false,
            max_bound: 2,
        })
        .explore(|| async {
            let hs: Vec<_> = (0..2).map(|_| spawn(yield_now())).collect();
            for h in hs {
                h.await.unwrap();
            }
        })
        .unwrap();
    assert!(summary.exhausted);
    let text = summary.to_string();
    // 2 tasks × 1 yield: 10 schedules in all (counted by hand in tests/explore_strategies.rs).
    assert!(text.contains("all 10 schedules"), "{text}");
    assert!(text.ends_with("no failure"), "{text}");
}

/// Pct learns its step estimate in warm-up runs, then forks each schedule from the same state:
/// the seed alone replays it, and the thread count does not change what is found.
#[test]
fn learning_strategies_replay_from_seed_and_ignore_job_count() {
    // Needs worker 0 to run entirely after the others: a depth-1 bug, PCT's speciality.
    let program = || async {
        let done = Rc::new(Cell::new(0u32));
        let hs: Vec<_> = (0..4u32)
            .map(|w| {
                let done = done.clone();
                spawn(async move {
                    for _ in 0..3 {
                        yield_now().await;
                    }
                    if w == 0 {
                        assert!(done.get() < 3, "worker 0 ran last");
                    }
                    done.set(done.get() + 1);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    };
    let pct = || {
        Builder::new()
            .ignore_env()
            .strategy(Strategy::Pct { depth: 1 })
    };
    let one = pct().explore(program).unwrap_err();
    assert!(one.to_string().contains("worker 0 ran last"));
    assert!(one.seed_replays);
    let again = pct().replay_seed(one.seed).explore(program).unwrap_err();
    assert_eq!(again.original.decisions, one.original.decisions);
    let three = pct().jobs(3).explore(program).unwrap_err();
    assert_eq!((three.index, three.seed), (one.index, one.seed));
}

#[test]
fn every_strategy_form_parses_and_runs() {
    for form in [
        "portfolio",
        "random",
        "fifo",
        "pct",
        "pct:2",
        "urw",
        "dfs:1",
        "delays:1",
    ] {
        let strategy: Strategy = form.parse().unwrap();
        let summary = Builder::new()
            .ignore_env()
            .schedules(20)
            .strategy(strategy)
            .explore(|| async {
                let h = spawn(yield_now());
                yield_now().await;
                h.await.unwrap();
            })
            .unwrap();
        assert!(summary.schedules >= 1, "{form}");
    }
}

#[test]
fn sharding_an_exhaustive_search_is_a_clear_error() {
    let err = std::panic::catch_unwind(|| {
        Builder::new()
            .ignore_env()
            .strategy(Strategy::Dfs {
                delays: false,
                max_bound: 1,
            })
            .shard(1, 2)
            .explore(|| async {})
    })
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("does not apply to Dfs"), "{msg}");
    assert!(msg.contains("Run it unsharded"), "{msg}");
}

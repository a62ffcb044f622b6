//! The exploration strategies of issue 6 against seeded bug shapes, with a tiny local driver.
//!
//! Budgets are run counts, never wall-clock time. Every assertion is deterministic: seeds are fixed
//! and each strategy's decisions depend only on the seed and its history.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use detsim::scheduler::{
    BoundKind, Decision, Dfs, Pct, Portfolio, Random, ScheduleError, Scheduler, TaskChoice, Urw,
};
use detsim::{Builder, spawn, yield_now};

#[path = "common/lost_update.rs"]
mod lost_update;
use lost_update::lost_update_among;

/// Forwards the trait to a shared scheduler, so that one instance sees every run (strategies learn
/// across runs, and `Builder::scheduler` takes ownership).
struct Shared<S>(Rc<RefCell<S>>);

impl<S: Scheduler> Scheduler for Shared<S> {
    fn name(&self) -> String {
        self.0.borrow().name()
    }
    fn begin_run(&mut self, seed: u64) {
        self.0.borrow_mut().begin_run(seed)
    }
    fn choose_task(&mut self, c: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        self.0.borrow_mut().choose_task(c)
    }
    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        self.0.borrow_mut().next_u64()
    }
    fn end_run(&mut self, d: &[Decision], failed: bool) {
        self.0.borrow_mut().end_run(d, failed)
    }
    fn exhausted(&self) -> bool {
        self.0.borrow().exhausted()
    }
}

/// What a local exploration found.
#[derive(Debug)]
struct Found {
    /// Runs made, including the failing one.
    runs: u64,
    /// The first failing run: its seed, the scheduler's name, its decision log.
    failure: Option<(u64, String, Vec<Decision>)>,
}

/// Runs `body` under seeds `0..budget` with one shared scheduler until a run fails or the
/// scheduler is exhausted.
fn explore<S, F, Fut>(s: &Rc<RefCell<S>>, budget: u64, body: F) -> Found
where
    S: Scheduler + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut runs = 0;
    for seed in 0..budget {
        if s.borrow().exhausted() {
            break;
        }
        runs += 1;
        let r = Builder::new()
            .seed(seed)
            .max_steps(10_000)
            .scheduler(Shared(s.clone()))
            .run_report(body());
        if let Err(f) = r.output {
            return Found {
                runs,
                failure: Some((seed, f.scheduler.clone(), r.decisions)),
            };
        }
    }
    Found {
        runs,
        failure: None,
    }
}

fn shared<S>(s: S) -> Rc<RefCell<S>> {
    Rc::new(RefCell::new(s))
}

// ----- bug shapes ---------------------------------------------------------------------------

/// An ordering bug: five workers of `steps` steps each; it fails only when worker 0 takes its
/// first step after the four others have all finished (worker 0 "runs last").
async fn runs_last(steps: usize) {
    let finished = Rc::new(Cell::new(0));
    let hs: Vec<_> = (0..5)
        .map(|w| {
            let finished = finished.clone();
            spawn(async move {
                if w == 0 {
                    assert!(
                        finished.get() < 4,
                        "worker 0 started after all others finished"
                    );
                }
                for _ in 1..steps {
                    yield_now().await;
                }
                finished.set(finished.get() + 1);
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
}

/// A protocol bug that needs two preemptions: it fails only under the strict alternation
/// a1 b1 a2 b2 (A preempted after a1, then B preempted after b1).
async fn alternation() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let task = |name: &'static str| {
        let log = log.clone();
        spawn(async move {
            log.borrow_mut().push(format!("{name}1"));
            yield_now().await;
            log.borrow_mut().push(format!("{name}2"));
        })
    };
    let a = task("a");
    let b = task("b");
    a.await.unwrap();
    b.await.unwrap();
    assert_ne!(
        *log.borrow(),
        ["a1", "b1", "a2", "b2"],
        "strict alternation"
    );
}

/// A short task must not run after a long one finished: one step against `long` steps.
async fn short_runs_last(long: usize) {
    let short_done = Rc::new(Cell::new(false));
    let flag = short_done.clone();
    let l = spawn(async move {
        for _ in 0..long {
            yield_now().await;
        }
        assert!(flag.get(), "the short task ran after the long one finished");
    });
    let s = spawn(async move { short_done.set(true) });
    l.await.unwrap();
    s.await.unwrap();
}

/// Two tasks, one yield each (the program of the hand count below).
async fn two_by_one_yield() {
    let a = spawn(async { yield_now().await });
    let b = spawn(async { yield_now().await });
    a.await.unwrap();
    b.await.unwrap();
}

/// Runs `s` on `body` for seeds `0..n` and returns every run's decision log.
fn logs<S, F, Fut>(s: &Rc<RefCell<S>>, n: u64, body: F) -> Vec<Vec<Decision>>
where
    S: Scheduler + 'static,
    F: Fn() -> Fut,
    Fut: Future<Output = ()>,
{
    (0..n)
        .map(|seed| {
            Builder::new()
                .seed(seed)
                .scheduler(Shared(s.clone()))
                .run_report(body())
                .decisions
        })
        .collect()
}

/// A body that draws random values and spawns tasks over time, to exercise determinism.
async fn busy() {
    let mut hs = Vec::new();
    for i in 0..4u64 {
        hs.push(spawn(async move {
            for _ in 0..(detsim::random_below(3) + i % 2) {
                yield_now().await;
            }
            if detsim::random_bool() {
                spawn(async { yield_now().await }).await.unwrap();
            }
        }));
        yield_now().await;
    }
    for h in hs {
        h.await.unwrap();
    }
}

// ----- PCT ----------------------------------------------------------------------------------

#[test]
fn pct_finds_the_lost_update() {
    let found = explore(&shared(Pct::new(2)), 100, || lost_update_among(3));
    let (_, name, _) = found.failure.expect("Pct { depth: 2 } finds a lost update");
    assert_eq!(name, "Pct { depth: 2 }");
    assert!(found.runs <= 20, "took {} runs", found.runs);
}

#[test]
fn pct_depth_one_finds_a_task_that_runs_last() {
    // Depth 1 is a random priority order: worker 0 is last with probability 1/5 per run.
    let found = explore(&shared(Pct::new(1)), 60, || runs_last(6));
    assert!(found.failure.is_some(), "not found in {} runs", found.runs);
    let found = explore(&shared(Pct::new(2)), 100, || runs_last(6));
    assert!(
        found.failure.is_some(),
        "depth 2: not found in {} runs",
        found.runs
    );
}

#[test]
fn pct_depth_three_finds_the_alternation_depth_two_cannot() {
    // a1 < b1 < a2 < b2 are three ordering constraints: a depth-3 bug.
    let found = explore(&shared(Pct::new(2)), 100, alternation);
    assert!(
        found.failure.is_none(),
        "depth 2 found it at run {}",
        found.runs
    );
    let found = explore(&shared(Pct::new(3)), 200, alternation);
    assert!(
        found.failure.is_some(),
        "depth 3: not found in {} runs",
        found.runs
    );
}

#[test]
fn random_walk_rarely_runs_a_multi_step_task_last() {
    // The shape PCT is for: under a naive walk, worker 0 must lose every one of ~20 choices.
    let found = explore(&shared(Random::new()), 100, || runs_last(6));
    assert!(
        found.failure.is_none(),
        "Random found it at run {}",
        found.runs
    );
}

#[test]
fn pct_same_seed_same_history_same_schedule() {
    let a = logs(&shared(Pct::new(3)), 20, busy);
    let b = logs(&shared(Pct::new(3)), 20, busy);
    assert_eq!(a, b);
    // Different seeds give different schedules.
    assert!(a.iter().skip(1).any(|l| *l != a[0]));
}

#[test]
fn pct_with_pinned_steps_replays_a_seed_alone() {
    // After a history of other runs, seed 7 still gives the same schedule as in a fresh instance.
    let pinned = || Pct::new(3).with_steps(12);
    let warm = shared(pinned());
    let _ = logs(&warm, 30, busy);
    let again = Builder::new()
        .seed(7)
        .scheduler(Shared(warm))
        .run_report(busy())
        .decisions;
    let fresh = Builder::new()
        .seed(7)
        .scheduler(pinned())
        .run_report(busy())
        .decisions;
    assert_eq!(again, fresh);
}

#[test]
fn pct_learns_the_step_estimate() {
    let p = shared(Pct::new(2));
    let longest = logs(&p, 10, busy)
        .iter()
        .map(|l| {
            l.iter()
                .filter(|d| matches!(d, Decision::Task { .. }))
                .count()
        })
        .max()
        .unwrap();
    assert_eq!(p.borrow().steps_estimate(), longest as u64);
}

// ----- URW ----------------------------------------------------------------------------------

#[test]
fn urw_finds_the_lost_update() {
    let found = explore(&shared(Urw::new()), 100, || lost_update_among(3));
    assert!(found.failure.is_some(), "not found in {} runs", found.runs);
    assert!(found.runs <= 10, "took {} runs", found.runs);
}

#[test]
fn urw_finds_a_short_task_running_last_where_a_random_walk_does_not() {
    // A naive walk runs the 1-step task after all 16 steps of the long one with probability 2^-16.
    let found = explore(&shared(Random::new()), 300, || short_runs_last(16));
    assert!(
        found.failure.is_none(),
        "Random found it at run {}",
        found.runs
    );
    let found = explore(&shared(Urw::new()), 300, || short_runs_last(16));
    assert!(
        found.failure.is_some(),
        "Urw: not found in {} runs",
        found.runs
    );
}

#[test]
fn urw_same_seed_same_history_same_schedule() {
    let a = logs(&shared(Urw::new()), 20, busy);
    let b = logs(&shared(Urw::new()), 20, busy);
    assert_eq!(a, b);
    assert!(a.iter().skip(1).any(|l| *l != a[0]));
}

// ----- Dfs ----------------------------------------------------------------------------------

/// The full schedule tree of [`two_by_one_yield`], by hand. Main spawns A and B and blocks on A;
/// a task that yields is still runnable, so switching away from it is a preemption.
///
/// ```text
/// A first (free):  a1 ─┬─ a2 (A continues) ─┬─ b1 ─┬─ b2 → main ends          cost 0
///                      │                    │      └─ main (preempts B) → …  cost 1
///                      │                    └─ main (free, B not started) → … cost 0
///                      └─ b1 (preempts A) ──┬─ b2 (B continues) → a2 → main   cost 1
///                                           └─ a2 (preempts B) ─┬─ b2 → main  cost 2
///                                                               └─ main → b2  cost 2
/// B first (free):  b1 ─┬─ b2 (B continues) → a1 → a2 → main                  cost 0
///                      └─ a1 (preempts B) ──┬─ a2 (A continues) ─┬─ b2 → main cost 1
///                                           │                    └─ main → …  cost 1
///                                           └─ b2 (preempts A) → a2 → main    cost 2
/// ```
///
/// 10 schedules: 3 of cost 0, 4 of cost 1, 3 of cost 2. With delays (choosing ready-queue index
/// `i` costs `i`) the same 10 cost 0: 1, 1: 4, 2: 4, 3: 1.
#[test]
fn dfs_counts_schedules_exactly() {
    for (max, total, covered) in [(0, 3, false), (1, 7, false), (2, 10, true), (5, 10, true)] {
        let d = shared(Dfs::new().max_preemptions(max));
        let found = explore(&d, 1000, two_by_one_yield);
        assert!(found.failure.is_none());
        let d = d.borrow();
        assert!(d.exhausted());
        assert_eq!(d.schedules_explored(), total, "max_preemptions({max})");
        assert_eq!(d.space_covered(), covered, "max_preemptions({max})");
        assert_eq!(d.completed_bound(), Some(max));
    }
    let d = shared(Dfs::new().max_preemptions(2));
    explore(&d, 1000, two_by_one_yield);
    let counts: Vec<u64> = (0..4).map(|b| d.borrow().schedules_at_bound(b)).collect();
    assert_eq!(counts, [3, 4, 3, 0]);
    assert_eq!(
        d.borrow().summary(),
        "Dfs (preemption bound): all 10 schedules of the program explored (the whole schedule \
         space) (bound 0: 3, bound 1: 4, bound 2: 3), no failure"
    );

    let d = shared(Dfs::new().max_delays(3));
    explore(&d, 1000, two_by_one_yield);
    let d = d.borrow();
    assert_eq!(d.bound_kind(), BoundKind::Delays);
    let counts: Vec<u64> = (0..4).map(|b| d.schedules_at_bound(b)).collect();
    assert_eq!(counts, [1, 4, 4, 1]);
    assert!(d.space_covered());
}

#[test]
fn dfs_runs_each_schedule_once() {
    let d = shared(Dfs::new().max_preemptions(3));
    let mut seen = Vec::new();
    let mut seed = 0;
    while !d.borrow().exhausted() {
        let r = Builder::new()
            .seed(seed)
            .scheduler(Shared(d.clone()))
            .run_report(busy());
        assert!(r.output.is_ok());
        seen.push(r.decisions);
        seed += 1;
    }
    let n = seen.len();
    seen.sort_by_key(|l| format!("{l:?}"));
    seen.dedup();
    assert_eq!(seen.len(), n, "a schedule ran twice");
    assert_eq!(d.borrow().schedules_explored(), n as u64);
}

#[test]
fn dfs_reports_bound_one_clean_and_finds_the_bug_at_bound_two() {
    let d = shared(Dfs::new().max_preemptions(1));
    let found = explore(&d, 1000, alternation);
    assert!(found.failure.is_none());
    assert!(d.borrow().exhausted());
    assert_eq!(d.borrow().completed_bound(), Some(1));
    assert_eq!(
        d.borrow().summary(),
        "Dfs (preemption bound): all 7 schedules within 1 preemption explored \
         (bound 0: 3, bound 1: 4), no failure"
    );

    let d = shared(Dfs::new().max_preemptions(2));
    let found = explore(&d, 1000, alternation);
    let (_, name, log) = found.failure.expect("found at bound 2");
    assert_eq!(name, "Dfs { max_preemptions: 2 }");
    assert_eq!(d.borrow().first_failure_bound(), Some(2));
    assert_eq!(d.borrow().completed_bound(), Some(1));
    // The failing log replays alone.
    let again = Builder::new()
        .scheduler(detsim::scheduler::Replay::new(log))
        .run(alternation());
    assert!(again.is_err());
}

#[test]
fn dfs_finds_the_lost_update_at_one_preemption_or_zero_delays() {
    // Read, yield, write: the other task must run at the yield, which costs a preemption; but
    // asyncio's own FIFO order already switches there, so it costs no delay.
    let d = shared(Dfs::new());
    let found = explore(&d, 1000, || lost_update_among(2));
    assert!(found.failure.is_some());
    assert_eq!(d.borrow().first_failure_bound(), Some(1));
    let d = shared(Dfs::new().max_delays(2));
    let found = explore(&d, 1000, || lost_update_among(2));
    assert_eq!(found.runs, 1);
    assert_eq!(d.borrow().first_failure_bound(), Some(0));
}

#[test]
fn dfs_max_schedules_ends_the_search() {
    let d = shared(Dfs::new().max_preemptions(3).max_schedules(5));
    let found = explore(&d, 1000, busy);
    assert_eq!(found.runs, 5);
    assert!(d.borrow().exhausted());
    assert!(!d.borrow().space_covered());
    assert!(
        d.borrow().summary().contains("stopped at the limit of 5"),
        "{}",
        d.borrow().summary()
    );
}

#[test]
fn dfs_delay_bound_terminates_on_yield_spinning() {
    // `while !flag { yield_now() }`: under delay bounding every schedule is fair and ends.
    let spin = || async {
        let flag = Rc::new(Cell::new(false));
        let f = flag.clone();
        let waiter = spawn(async move {
            while !f.get() {
                yield_now().await;
            }
        });
        let setter = spawn(async move { flag.set(true) });
        waiter.await.unwrap();
        setter.await.unwrap();
    };
    let d = shared(Dfs::new().max_delays(2));
    let found = explore(&d, 1000, spin);
    assert!(found.failure.is_none());
    assert!(d.borrow().exhausted());
}

// ----- Portfolio ----------------------------------------------------------------------------

#[test]
fn portfolio_cycles_members_and_names_the_one_that_ran() {
    let p = shared(Portfolio::new());
    let mut names = Vec::new();
    for seed in 0..5 {
        Builder::new()
            .seed(seed)
            .scheduler(Shared(p.clone()))
            .run(two_by_one_yield())
            .unwrap();
        names.push(p.borrow().name());
    }
    assert_eq!(
        names,
        [
            "Portfolio/Random",
            "Portfolio/Pct { depth: 2 }",
            "Portfolio/Pct { depth: 3 }",
            "Portfolio/Urw",
            "Portfolio/Random"
        ]
    );
}

#[test]
fn portfolio_finds_each_bug_shape() {
    for (what, budget) in [
        ("lost update", 40),
        ("runs last", 100),
        ("alternation", 100),
    ] {
        let p = shared(Portfolio::new());
        let found = match what {
            "lost update" => explore(&p, budget, || lost_update_among(3)),
            "runs last" => explore(&p, budget, || runs_last(6)),
            _ => explore(&p, budget, alternation),
        };
        let (seed, name, _) = found
            .failure
            .unwrap_or_else(|| panic!("{what}: not found in {budget} runs"));
        assert!(name.starts_with("Portfolio/"), "{name}");
        assert_eq!(
            Portfolio::new().member_for(seed),
            ["Random", "Pct { depth: 2 }", "Pct { depth: 3 }", "Urw"]
                .iter()
                .position(|m| name.ends_with(m))
                .unwrap()
        );
    }
}

#[test]
fn portfolio_same_seed_same_history_same_schedule() {
    let a = logs(&shared(Portfolio::new()), 24, busy);
    let b = logs(&shared(Portfolio::new()), 24, busy);
    assert_eq!(a, b);
}

//! Exploration benchmarks, detsim against the `shuttle` crate in the same process.
//!
//! 1. **Throughput**: schedules per second on shuttle's own kind of workload — 3 tasks, each doing
//!    10 × (lock a mutex, add 1, unlock, yield); the main task joins them and checks the count —
//!    with each tool's own mutex (`detsim::sync::Mutex`, `shuttle::sync::Mutex`), for uniform
//!    Random and for PCT of depth 3. Interleaved rounds, median of the per-round ratios. A third
//!    contender, the *floor* (`common/floor.rs`: a minimal seeded executor with a fair lock and
//!    nothing else), runs the same workload under Random, to show what the least possible work
//!    costs on the same machine in the same rounds.
//! 2. **Schedules to the first bug**: for each demonstration program of `tests/common/demos.rs`
//!    and a shuttle version of it written the way a shuttle user would (threads and
//!    `shuttle::sync`, or shuttle's async tasks where the program needs cancellation), the number
//!    of schedules each tool runs before the first failing one, with the same algorithm (Random,
//!    PCT depth 3), over 100 base seeds: median and 90th percentile. Shuttle's part runs in a child
//!    process with stderr discarded, because shuttle prints every failure it finds.
//!
//! 3. **Throughput on the demonstrations** (`-- --demos`): schedules per second of each
//!    demonstration program and its fixed variant, both tools, the same algorithm, one fresh
//!    single-schedule run per seed (failing schedules count and do not stop the loop).
//!
//! `cargo bench --bench explore` (`-- --quick` for fewer rounds and seeds, `-- --throughput`,
//! `-- --bugs` or `-- --demos` for one part; `-- --only detsim|shuttle random|pct N` or
//! `-- --only floor random N` runs one tool on the lock workload alone, for callgrind;
//! `-- --only-tasks K detsim|floor random|pct N` runs N schedules of a main that spawns and joins
//! K empty tasks, the fixed cost of a schedule and of a task).

#[path = "../tests/common/mod.rs"]
mod common;

#[path = "common/mod.rs"]
mod bench_common;

#[path = "common/floor.rs"]
mod floor;

/// Counts allocations for `--allocs`; every other part runs with counting switched off.
#[global_allocator]
static ALLOC: bench_common::CountingAlloc = bench_common::CountingAlloc;

use std::collections::VecDeque;
use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use detsim::explore::Strategy;
use shuttle::scheduler::{PctScheduler, RandomScheduler, Schedule, Scheduler, Task, TaskId};

const TASKS: usize = 3;
const ROUNDS: usize = 10;

async fn detsim_workload() {
    let m = Rc::new(detsim::sync::Mutex::new(0u32));
    let hs: Vec<_> = (0..TASKS)
        .map(|_| {
            let m = m.clone();
            detsim::spawn(async move {
                for _ in 0..ROUNDS {
                    *m.lock().await += 1;
                    detsim::yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    assert_eq!(*m.lock().await, (TASKS * ROUNDS) as u32);
}

fn shuttle_workload() {
    let m = Arc::new(shuttle::sync::Mutex::new(0u32));
    let hs: Vec<_> = (0..TASKS)
        .map(|_| {
            let m = m.clone();
            shuttle::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    *m.lock().unwrap() += 1;
                    shuttle::thread::yield_now();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(*m.lock().unwrap(), (TASKS * ROUNDS) as u32);
}

/// The lock workload on the floor executor (`common/floor.rs`).
async fn floor_workload() {
    let m = Rc::new(floor::Mutex::default());
    let count = Rc::new(std::cell::Cell::new(0u32));
    let done = Rc::new(floor::Latch::new(TASKS));
    for _ in 0..TASKS {
        let (m, count, done) = (m.clone(), count.clone(), done.clone());
        floor::spawn(async move {
            for _ in 0..ROUNDS {
                let _g = m.lock().await;
                count.set(count.get() + 1);
                drop(_g);
                floor::yield_now().await;
            }
            done.count_down();
        });
    }
    done.wait().await;
    assert_eq!(count.get(), (TASKS * ROUNDS) as u32);
}

/// `n` schedules of the lock workload on the floor executor, seeds `0..n`.
fn floor_explore(n: u64) {
    for seed in 0..n {
        floor::run(seed, floor_workload());
    }
}

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn throughput(quick: bool) {
    let (n_detsim, n_shuttle, reps) = if quick {
        (2_000u64, 400usize, 9)
    } else {
        (5_000u64, 1_000usize, 25)
    };
    type Runner = Box<dyn Fn(u64) -> Duration>;
    let detsim_with = |strategy: Strategy| -> Runner {
        Box::new(move |n| {
            let strategy = strategy.clone();
            time(move || {
                let s = detsim::Builder::new()
                    .ignore_env()
                    .schedules(n)
                    .strategy(strategy)
                    .explore(detsim_workload)
                    .unwrap();
                black_box(s);
            })
        })
    };
    let rows: Vec<(&str, Runner, Runner)> = vec![
        (
            "Random vs check_random",
            detsim_with(Strategy::Random),
            Box::new(|n| time(|| shuttle::check_random(shuttle_workload, n as usize))),
        ),
        (
            "Pct{3} vs check_pct(·, 3)",
            detsim_with(Strategy::Pct { depth: 3 }),
            Box::new(|n| time(|| shuttle::check_pct(shuttle_workload, n as usize, 3))),
        ),
    ];
    println!(
        "\nexploration throughput, {TASKS} tasks × {ROUNDS} × (lock, add, unlock, yield), each \
         tool's own Mutex; {reps} interleaved rounds of {n_detsim} detsim / {n_shuttle} shuttle \
         schedules; the floor (a minimal seeded executor, Random) runs {n_detsim} in each round"
    );
    println!(
        "{:<26} {:>15} {:>15} {:>14} {:>13} {:>13}",
        "algorithm",
        "detsim sched/s",
        "shuttle sched/s",
        "floor sched/s",
        "detsim ratio",
        "floor ratio"
    );
    for (name, d, s) in rows {
        let (mut dr, mut sr, mut fr, mut ratios, mut floor_ratios) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..reps {
            let a = n_detsim as f64 / d(n_detsim).as_secs_f64();
            let b = n_shuttle as f64 / s(n_shuttle as u64).as_secs_f64();
            let f = n_detsim as f64 / time(|| floor_explore(n_detsim)).as_secs_f64();
            dr.push(a);
            sr.push(b);
            fr.push(f);
            ratios.push(a / b);
            floor_ratios.push(f / b);
        }
        println!(
            "{name:<26} {:>15.0} {:>15.0} {:>14.0} {:>12.1}× {:>12.1}×",
            median(dr),
            median(sr),
            median(fr),
            median(ratios),
            median(floor_ratios)
        );
    }
}

// ----- schedules to the first bug: shuttle versions of the demonstrations ---------------------
//
// Plain data that detsim's programs keep in a `Cell` is a std atomic here (no scheduling point,
// as a `Cell` has none under detsim); detsim's primitives become shuttle's; every
// `yield_now().await` becomes `shuttle::thread::yield_now()` (or shuttle's async `yield_now`).

fn yields(n: usize) {
    for _ in 0..n {
        shuttle::thread::yield_now();
    }
}

/// `FIXED`: the deposit holds a lock across its read, await and write.
fn shuttle_lost_update<const FIXED: bool>() {
    let balance = Arc::new(AtomicU32::new(100));
    let lock = Arc::new(shuttle::sync::Mutex::new(()));
    let deposit = |setup: usize, amount: u32| {
        let (balance, lock) = (balance.clone(), lock.clone());
        shuttle::thread::spawn(move || {
            yields(setup);
            let _g = FIXED.then(|| lock.lock().unwrap());
            let v = balance.load(Ordering::Relaxed);
            shuttle::thread::yield_now();
            balance.store(v + amount, Ordering::Relaxed);
        })
    };
    let a = deposit(0, 10);
    let b = deposit(2, 20);
    a.join().unwrap();
    b.join().unwrap();
    assert_eq!(balance.load(Ordering::Relaxed), 130, "lost update");
}

fn shuttle_abba() {
    let a = Arc::new(shuttle::sync::Mutex::new(()));
    let b = Arc::new(shuttle::sync::Mutex::new(()));
    let (a2, b2) = (a.clone(), b.clone());
    let t1 = shuttle::thread::spawn(move || {
        let _ga = a.lock().unwrap();
        shuttle::thread::yield_now();
        let _gb = b.lock().unwrap();
        shuttle::thread::yield_now();
    });
    let t2 = shuttle::thread::spawn(move || {
        yields(2);
        let _gb = b2.lock().unwrap();
        shuttle::thread::yield_now();
        let _ga = a2.lock().unwrap();
    });
    t1.join().unwrap();
    t2.join().unwrap();
}

/// asyncio's Event on a shuttle Mutex and Condvar: waiters woken by `set` return even if the
/// event was cleared before they ran (the `generation` check), as detsim's Event does.
#[derive(Default)]
struct ShuttleEvent {
    state: shuttle::sync::Mutex<(bool, u64)>,
    cv: shuttle::sync::Condvar,
}

impl ShuttleEvent {
    fn set(&self) {
        let mut s = self.state.lock().unwrap();
        if !s.0 {
            *s = (true, s.1 + 1);
            self.cv.notify_all();
        }
    }
    fn clear(&self) {
        self.state.lock().unwrap().0 = false;
    }
    fn wait(&self) {
        let mut s = self.state.lock().unwrap();
        let generation = s.1;
        while !s.0 && s.1 == generation {
            s = self.cv.wait(s).unwrap();
        }
    }
}

fn shuttle_event_cleared_too_early() {
    let ready = Arc::new(ShuttleEvent::default());
    let (r1, r2) = (ready.clone(), ready.clone());
    let consumer = shuttle::thread::spawn(move || {
        yields(2);
        r1.wait();
    });
    let producer = shuttle::thread::spawn(move || {
        shuttle::thread::yield_now();
        r2.set();
    });
    let logger = shuttle::thread::spawn(move || {
        ready.wait();
        ready.clear();
    });
    producer.join().unwrap();
    logger.join().unwrap();
    consumer.join().unwrap();
}

/// `FIXED`: the consumer re-checks the queue in a `while` loop.
fn shuttle_condition_if_not_while<const FIXED: bool>() {
    let state = Arc::new((
        shuttle::sync::Mutex::new(VecDeque::<u32>::new()),
        shuttle::sync::Condvar::new(),
    ));
    let consumer = |setup: usize| {
        let state = state.clone();
        shuttle::thread::spawn(move || {
            yields(setup);
            let (m, cv) = &*state;
            let mut q = m.lock().unwrap();
            if FIXED {
                while q.is_empty() {
                    q = cv.wait(q).unwrap();
                }
            } else if q.is_empty() {
                q = cv.wait(q).unwrap();
            }
            assert!(q.pop_front().is_some(), "woke to an empty queue");
        })
    };
    let c1 = consumer(0);
    let c2 = consumer(3);
    let producer = shuttle::thread::spawn(move || {
        for i in 0..2 {
            shuttle::thread::yield_now();
            let (m, cv) = &*state;
            m.lock().unwrap().push_back(i);
            cv.notify_all();
        }
    });
    producer.join().unwrap();
    c1.join().unwrap();
    c2.join().unwrap();
}

/// shuttle has no task group: the failing sibling's end makes the "group" (main) abort the
/// worker, which is what detsim's TaskGroup does. The pool's unit count is plain data, as the
/// fast path of detsim's Semaphore has no scheduling point.
///
/// `FIXED`: the unit comes back in a guard's `Drop`, which also runs when the worker is aborted.
fn shuttle_task_group_leaks_a_unit<const FIXED: bool>() {
    struct Permit(Arc<AtomicUsize>);
    impl Drop for Permit {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    shuttle::future::block_on(async {
        let units = Arc::new(AtomicUsize::new(1));
        let u = units.clone();
        let worker = shuttle::future::spawn(async move {
            u.fetch_sub(1, Ordering::Relaxed); // acquire
            if FIXED {
                let _permit = Permit(u);
                shuttle::future::yield_now().await; // use the connection
            } else {
                // forget the permit
                shuttle::future::yield_now().await; // use the connection
                u.fetch_add(1, Ordering::Relaxed); // release by hand
            }
        });
        let failer = shuttle::future::spawn(async {
            shuttle::future::yield_now().await;
            shuttle::future::yield_now().await;
        });
        failer.await.unwrap(); // it failed validation: the group cancels the others
        worker.abort();
        let _ = worker.await;
        assert_eq!(units.load(Ordering::Relaxed), 1, "leaked a unit");
    });
}

/// A correct lock for the shuttle side of the fixed bpo-27585 scenario.
#[derive(Clone)]
struct FuturesLock(Arc<futures::lock::Mutex<()>>);

impl common::demos::TestLock for FuturesLock {
    type Guard = futures::lock::OwnedMutexGuard<()>;
    fn lock(&self) -> impl std::future::Future<Output = Self::Guard> + 'static {
        self.0.clone().lock_owned()
    }
}

/// A correct semaphore for the shuttle side of the fixed gh-90155 scenario.
#[derive(Clone)]
struct AsyncLockSemaphore(Arc<async_lock::Semaphore>);

impl common::demos::TestSemaphore for AsyncLockSemaphore {
    type Permit = async_lock::SemaphoreGuardArc;
    fn take(&self) -> impl std::future::Future<Output = Self::Permit> + 'static {
        self.0.acquire_arc()
    }
}

/// The broken primitives are runtime-agnostic, so the same scenarios run as shuttle async tasks
/// (`spawn_local`: they are `!Send`), with `abort` for the deadline. `FIXED`: a correct lock
/// (`futures::lock::Mutex`) instead of the broken copy.
fn shuttle_lock_cancelled_grant<const FIXED: bool>() {
    if FIXED {
        let lock = FuturesLock(Arc::new(futures::lock::Mutex::new(())));
        shuttle::future::block_on(shuttle_lock_scenario(lock));
    } else {
        shuttle::future::block_on(shuttle_lock_scenario(common::broken::BrokenLock::new()));
    }
}

/// bpo-27585's scenario as shuttle async tasks (`common::demos::lock_cancelled_grant`).
async fn shuttle_lock_scenario<L: common::demos::TestLock>(lock: L) {
    let l = lock.clone();
    let holder = shuttle::future::spawn_local(async move {
        let g = l.lock().await;
        shuttle::future::yield_now().await;
        drop(g);
    });
    let l = lock.clone();
    let w1 = shuttle::future::spawn_local(async move {
        let _g = l.lock().await;
    });
    let w2 = shuttle::future::spawn_local(async move {
        let _g = lock.lock().await;
    });
    for _ in 0..3 {
        shuttle::future::yield_now().await;
    }
    w1.abort();
    holder.await.unwrap();
    w2.await.unwrap();
    let _ = w1.await;
}

/// `FIXED`: a correct semaphore (`async_lock::Semaphore`) instead of the broken copy.
fn shuttle_semaphore_cancelled_wakeup<const FIXED: bool>() {
    if FIXED {
        let sem = AsyncLockSemaphore(Arc::new(async_lock::Semaphore::new(1)));
        shuttle::future::block_on(shuttle_semaphore_scenario(sem));
    } else {
        let sem = common::broken::BrokenSemaphore::new(1);
        shuttle::future::block_on(shuttle_semaphore_scenario(sem));
    }
}

/// gh-90155's scenario as shuttle async tasks (`common::demos::semaphore_cancelled_wakeup`).
async fn shuttle_semaphore_scenario<S: common::demos::TestSemaphore>(sem: S) {
    let s = sem.clone();
    let holder = shuttle::future::spawn_local(async move {
        let p = s.take().await;
        shuttle::future::yield_now().await;
        drop(p);
    });
    let s = sem.clone();
    let waiter = shuttle::future::spawn_local(async move {
        let _p = s.take().await;
    });
    for _ in 0..3 {
        shuttle::future::yield_now().await;
    }
    waiter.abort();
    holder.await.unwrap();
    let _ = waiter.await;
    let _p = sem.take().await;
}

/// The shuttle version of each demonstration, by the demonstration's name.
fn shuttle_program(name: &str) -> fn() {
    match name {
        "lost update" => shuttle_lost_update::<false>,
        "ABBA deadlock" => shuttle_abba,
        "Event cleared too early" => shuttle_event_cleared_too_early,
        "Condition `if` not `while`" => shuttle_condition_if_not_while::<false>,
        "TaskGroup leaks a unit" => shuttle_task_group_leaks_a_unit::<false>,
        "bpo-27585 Lock" => shuttle_lock_cancelled_grant::<false>,
        "gh-90155 Semaphore" => shuttle_semaphore_cancelled_wakeup::<false>,
        other => panic!("no shuttle version of {other:?}"),
    }
}

/// The shuttle version of each demonstration's fixed variant (`Demo::fixed`).
fn shuttle_fixed_program(name: &str) -> fn() {
    match name {
        "lost update" => shuttle_lost_update::<true>,
        "Condition `if` not `while`" => shuttle_condition_if_not_while::<true>,
        "TaskGroup leaks a unit" => shuttle_task_group_leaks_a_unit::<true>,
        "bpo-27585 Lock" => shuttle_lock_cancelled_grant::<true>,
        "gh-90155 Semaphore" => shuttle_semaphore_cancelled_wakeup::<true>,
        other => panic!("no shuttle version of the fixed {other:?}"),
    }
}

// ----- throughput on the demonstration programs ------------------------------------------------

/// Runs `n` single schedules of `program` under detsim, seeds `0..n`, one fresh scheduler per
/// schedule; a failing schedule counts like any other. Returns the failures.
fn detsim_schedules(program: common::demos::Program, pct: bool, n: u64) -> u64 {
    let mut failed = 0;
    for seed in 0..n {
        let b = detsim::Builder::new().seed(seed);
        let b = if pct {
            b.scheduler(detsim::scheduler::Pct::new(3))
        } else {
            b.scheduler(detsim::scheduler::Random::new())
        };
        failed += u64::from(b.run_report(program()).output.is_err());
    }
    failed
}

/// The same for shuttle: one single-execution `Runner` per seed, its failure caught.
fn shuttle_schedules(program: fn(), pct: bool, n: u64) -> u64 {
    let mut failed = 0;
    for seed in 0..n {
        let mut config = shuttle::Config::new();
        config.failure_persistence = shuttle::FailurePersistence::None;
        let ok = if pct {
            let runner = shuttle::Runner::new(PctScheduler::new_from_seed(seed, 3, 1), config);
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run(program))).is_ok()
        } else {
            let runner = shuttle::Runner::new(RandomScheduler::new_from_seed(seed, 1), config);
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run(program))).is_ok()
        };
        failed += u64::from(!ok);
    }
    failed
}

/// `n` schedules of a program that passes every schedule, as each tool explores: detsim's
/// `explore` (schedule seeds from base seed 0) and shuttle's `check_random` / `check_pct`.
fn detsim_explore<Fut: std::future::Future<Output = ()>>(
    program: impl Fn() -> Fut + Sync,
    pct: bool,
    n: u64,
) {
    let strategy = if pct {
        Strategy::Pct { depth: 3 }
    } else {
        Strategy::Random
    };
    let s = detsim::Builder::new()
        .ignore_env()
        .schedules(n)
        .strategy(strategy)
        .explore(program)
        .expect("the program passes every schedule");
    black_box(s);
}

/// The ALGO argument of the `--only*` modes: `random`, or `pct` (PCT of depth 3).
fn pct_arg(usage: &str, algo: &str) -> bool {
    match algo {
        "random" => false,
        "pct" => true,
        other => panic!("{usage}: ALGO is random or pct, not {other:?}"),
    }
}

fn shuttle_check(program: fn(), pct: bool, n: u64) {
    if pct {
        shuttle::check_pct(program, n as usize, 3);
    } else {
        shuttle::check_random(program, n as usize);
    }
}

/// Schedules per second on each demonstration and fixed variant, both tools, same algorithm:
/// interleaved rounds, median of the per-round ratios. Run in a child process with stderr
/// discarded (shuttle's panic hook prints every failure).
///
/// A buggy program fails some schedules, and both tools stop an exploration at the first failure,
/// so its rows time one fresh single-schedule run per seed on both sides (`single`). A fixed
/// program passes every schedule: its rows time both that and each tool's own exploration loop
/// (`explore`: detsim's `explore`, shuttle's `check_random`/`check_pct`), which is what a user
/// runs and which spares shuttle the set-up of a `Runner` per schedule.
fn demos_child(quick: bool) {
    std::panic::set_hook(Box::new(|_| {}));
    let (n_detsim, n_shuttle, reps) = if quick {
        (1_000u64, 200u64, 5)
    } else {
        (4_000, 400, 11)
    };
    println!(
        "schedules/s on the demonstration programs: {reps} interleaved rounds of {n_detsim} detsim \
         / {n_shuttle} shuttle single-schedule runs (seeds 0..n, failures counted, not stopping)"
    );
    println!(
        "{:<38} {:<7} {:<8} {:>10} {:>10} {:>8} {:>14}",
        "program", "algo", "mode", "detsim/s", "shuttle/s", "ratio", "failing d / s"
    );
    for demo in common::demos::all() {
        let mut rows: Vec<(String, common::demos::Program, fn())> = vec![(
            demo.name.to_string(),
            demo.program,
            shuttle_program(demo.name),
        )];
        if let Some(fixed) = demo.fixed {
            rows.push((
                format!("{} (fixed)", demo.name),
                fixed,
                shuttle_fixed_program(demo.name),
            ));
        }
        for (k, (name, d, s)) in rows.into_iter().enumerate() {
            let fixed = k == 1;
            for (algo, pct) in [("random", false), ("pct:3", true)] {
                let modes: &[&str] = if fixed {
                    &["single", "explore"]
                } else {
                    &["single"]
                };
                for &mode in modes {
                    let (mut dr, mut sr, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
                    let (mut df, mut sf) = (0, 0);
                    for _ in 0..reps {
                        let t = Instant::now();
                        if mode == "single" {
                            df = detsim_schedules(d, pct, n_detsim);
                        } else {
                            detsim_explore(d, pct, n_detsim);
                        }
                        let a = n_detsim as f64 / t.elapsed().as_secs_f64();
                        let t = Instant::now();
                        if mode == "single" {
                            sf = shuttle_schedules(s, pct, n_shuttle);
                        } else {
                            shuttle_check(s, pct, n_shuttle);
                        }
                        let b = n_shuttle as f64 / t.elapsed().as_secs_f64();
                        dr.push(a);
                        sr.push(b);
                        ratios.push(a / b);
                    }
                    println!(
                        "{name:<38} {algo:<7} {mode:<8} {:>10.0} {:>10.0} {:>7.1}× {:>14}",
                        median(dr),
                        median(sr),
                        median(ratios),
                        format!("{df}/{n_detsim} {sf}/{n_shuttle}")
                    );
                }
            }
        }
    }
}

/// Allocations per schedule of an exploration after the first schedules: the difference between
/// explorations of 2,000 and 1,000 schedules, divided by 1,000, for programs from empty to the
/// lock workload.
fn allocs() {
    fn per_schedule<Fut: std::future::Future<Output = ()>>(
        strategy: Strategy,
        program: impl Fn() -> Fut + Sync,
    ) -> f64 {
        let count = |n: u64| {
            bench_common::count_allocs(|| {
                detsim::Builder::new()
                    .ignore_env()
                    .schedules(n)
                    .strategy(strategy.clone())
                    .explore(&program)
                    .unwrap()
            })
            .1
        };
        (count(2_000) as f64 - count(1_000) as f64) / 1_000.0
    }
    println!("allocations per schedule of an exploration (2,000 minus 1,000 schedules, / 1,000)");
    println!("{:<58} {:>8} {:>8}", "program", "Random", "Pct{3}");
    let row = |name: &str, r: f64, p: f64| println!("{name:<58} {r:>8.2} {p:>8.2}");
    let both = |f: &dyn Fn(Strategy) -> f64| (f(Strategy::Random), f(Strategy::Pct { depth: 3 }));
    let (r, p) = both(&|s| per_schedule(s, || async {}));
    row("empty main", r, p);
    let (r, p) = both(&|s| {
        per_schedule(s, || async {
            for _ in 0..10 {
                detsim::yield_now().await;
            }
        })
    });
    row("main yields 10 times", r, p);
    let (r, p) = both(&|s| {
        per_schedule(s, || async {
            let a = detsim::spawn(async {
                for _ in 0..10 {
                    detsim::yield_now().await;
                }
            });
            let b = detsim::spawn(detsim::yield_now());
            let c = detsim::spawn(async {});
            a.await.unwrap();
            b.await.unwrap();
            c.await.unwrap();
        })
    });
    row("3 spawned tasks (yielding), joined", r, p);
    let (r, p) = both(&|s| per_schedule(s, detsim_workload));
    row(
        "the lock workload (3 tasks x 10 x lock, add, unlock, yield)",
        r,
        p,
    );
}

fn demos(quick: bool) {
    let mut args = vec!["--demos-child"];
    if quick {
        args.push("--quick");
    }
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(args)
        .stderr(std::process::Stdio::null())
        .output()
        .expect("running the demonstrations child");
    print!("{}", String::from_utf8_lossy(&child.stdout));
}

/// Counts the executions a shuttle scheduler starts.
struct Counting<S> {
    inner: S,
    count: Rc<std::cell::Cell<usize>>,
}

impl<S: Scheduler> Scheduler for Counting<S> {
    fn new_execution(&mut self) -> Option<Schedule> {
        let s = self.inner.new_execution();
        if s.is_some() {
            self.count.set(self.count.get() + 1);
        }
        s
    }
    fn next_task(
        &mut self,
        runnable: &[&Task],
        current: Option<TaskId>,
        is_yielding: bool,
    ) -> Option<TaskId> {
        self.inner.next_task(runnable, current, is_yielding)
    }
    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }
}

/// Schedules shuttle runs up to and including the first failure (`None`: none within `budget`).
fn shuttle_first_bug(program: fn(), pct: bool, seed: u64, budget: usize) -> Option<usize> {
    let count = Rc::new(std::cell::Cell::new(0));
    let mut config = shuttle::Config::new();
    config.failure_persistence = shuttle::FailurePersistence::None;
    let failed = if pct {
        let sched = Counting {
            inner: PctScheduler::new_from_seed(seed, 3, budget),
            count: count.clone(),
        };
        let runner = shuttle::Runner::new(sched, config);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run(program))).is_err()
    } else {
        let sched = Counting {
            inner: RandomScheduler::new_from_seed(seed, budget),
            count: count.clone(),
        };
        let runner = shuttle::Runner::new(sched, config);
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| runner.run(program))).is_err()
    };
    failed.then(|| count.get())
}

/// Runs detsim makes up to and including the first failure, a learning strategy's calibration runs
/// included (`Found::schedules_run`; `None`: none within `budget`).
fn detsim_first_bug(
    program: common::demos::Program,
    strategy: Strategy,
    seed: u64,
    budget: u64,
) -> Option<u64> {
    let found = detsim::Builder::new()
        .ignore_env()
        .seed(seed)
        .strategy(strategy)
        .schedules(budget)
        .shrink_runs(0)
        .explore(program)
        .err()?;
    Some(found.schedules_run)
}

/// `(median, p90, misses)` of schedules to the first bug; a search that found nothing counts as
/// more than the budget.
fn stats(mut v: Vec<Option<u64>>) -> (String, String, usize) {
    let misses = v.iter().filter(|x| x.is_none()).count();
    v.sort_by_key(|x| x.unwrap_or(u64::MAX));
    let show = |x: Option<u64>| x.map_or("—".to_string(), |n| n.to_string());
    let p90 = v[(v.len() * 9).div_ceil(10) - 1];
    (show(v[v.len() / 2]), show(p90), misses)
}

/// The child process: one line per (program, algorithm) with shuttle's counts, comma-separated
/// (`-` for a miss).
fn shuttle_bugs_child(seeds: u64, budget: usize) {
    std::panic::set_hook(Box::new(|_| {}));
    for demo in common::demos::all() {
        let program = shuttle_program(demo.name);
        for (algo, pct) in [("random", false), ("pct:3", true)] {
            let counts: Vec<String> = (0..seeds)
                .map(|seed| {
                    shuttle_first_bug(program, pct, seed, budget)
                        .map_or("-".to_string(), |n| n.to_string())
                })
                .collect();
            println!("{}\t{algo}\t{}", demo.name, counts.join(","));
        }
    }
}

fn bugs(quick: bool) {
    let (seeds, budget) = if quick {
        (30u64, 10_000u64)
    } else {
        (100, 10_000)
    };
    let t = Instant::now();
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--shuttle-bugs-child",
            &seeds.to_string(),
            &budget.to_string(),
        ])
        .stderr(std::process::Stdio::null())
        .output()
        .expect("running the shuttle child");
    let shuttle_time = t.elapsed();
    let out = String::from_utf8(child.stdout).unwrap();
    let shuttle_counts = |name: &str, algo: &str| -> Vec<Option<u64>> {
        let line = out
            .lines()
            .find(|l| l.starts_with(&format!("{name}\t{algo}\t")))
            .unwrap_or_else(|| panic!("shuttle child gave no line for {name} {algo}:\n{out}"));
        line.rsplit('\t')
            .next()
            .unwrap()
            .split(',')
            .map(|c| c.parse().ok())
            .collect()
    };
    println!(
        "schedules to the first bug, base seeds 0..{seeds}, budget {budget} schedules per search \
         (median / 90th percentile; misses: searches that found nothing)"
    );
    println!(
        "{:<28} {:<7} {:>16} {:>16}",
        "program", "algo", "detsim med/p90", "shuttle med/p90"
    );
    let t = Instant::now();
    for demo in common::demos::all() {
        for (algo, strategy) in [
            ("random", Strategy::Random),
            ("pct:3", Strategy::Pct { depth: 3 }),
        ] {
            let d: Vec<Option<u64>> = (0..seeds)
                .map(|seed| detsim_first_bug(demo.program, strategy.clone(), seed, budget))
                .collect();
            let s = shuttle_counts(demo.name, algo);
            let (dm, dp, dmiss) = stats(d);
            let (sm, sp, smiss) = stats(s);
            let miss = |n: usize| {
                if n == 0 {
                    String::new()
                } else {
                    format!(" ({n} misses)")
                }
            };
            println!(
                "{:<28} {:<7} {:>16} {:>16}{}",
                demo.name,
                algo,
                format!("{dm} / {dp}{}", miss(dmiss)),
                format!("{sm} / {sp}"),
                miss(smiss)
            );
        }
    }
    println!(
        "(wall time: detsim {:.1}s, shuttle {:.1}s including its process start)",
        t.elapsed().as_secs_f64(),
        shuttle_time.as_secs_f64()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--shuttle-bugs-child") {
        let seeds = args[i + 1].parse().unwrap();
        let budget = args[i + 2].parse().unwrap();
        shuttle_bugs_child(seeds, budget);
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    if let Some(i) = args.iter().position(|a| a == "--only-demo") {
        // For callgrind: `--only-demo INDEX detsim|shuttle random|pct N` explores the fixed
        // variant of demonstration INDEX (0-based, `common::demos::all()` order).
        let demo = &common::demos::all()[args[i + 1].parse::<usize>().expect("INDEX")];
        let pct = pct_arg("--only-demo INDEX TOOL ALGO N", &args[i + 3]);
        let n: u64 = args[i + 4].parse().expect("N");
        let fixed = demo.fixed.expect("a demonstration with a fixed variant");
        if args[i + 2] == "detsim" {
            detsim_explore(fixed, pct, n);
        } else {
            shuttle_check(shuttle_fixed_program(demo.name), pct, n);
        }
        return;
    }
    if args.iter().any(|a| a == "--demos-child") {
        demos_child(quick);
        return;
    }
    if args.iter().any(|a| a == "--allocs") {
        allocs();
        return;
    }
    if args.iter().any(|a| a == "--demos") {
        demos(quick);
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--only-tasks") {
        // For callgrind: `--only-tasks K detsim|floor random|pct N` runs N schedules of a main
        // that spawns K empty tasks and joins them (K = 0: an empty main), which is what a
        // schedule and a task cost before the program does anything.
        let k: usize = args[i + 1]
            .parse()
            .expect("--only-tasks K TOOL ALGO N: K is a number");
        let n: u64 = args[i + 4]
            .parse()
            .expect("--only-tasks K TOOL ALGO N: N is a number");
        let pct = pct_arg("--only-tasks K TOOL ALGO N", &args[i + 3]);
        match args[i + 2].as_str() {
            "detsim" => detsim_explore(
                || async move {
                    let hs: Vec<_> = (0..k).map(|_| detsim::spawn(async {})).collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                },
                pct,
                n,
            ),
            "floor" if !pct => (0..n).for_each(|seed| {
                floor::run(seed, async move {
                    let done = Rc::new(floor::Latch::new(k));
                    for _ in 0..k {
                        let done = done.clone();
                        floor::spawn(async move { done.count_down() });
                    }
                    done.wait().await;
                })
            }),
            other => panic!(
                "--only-tasks K TOOL ALGO N: TOOL is detsim or floor (random only), not {other:?}"
            ),
        }
        return;
    }
    if let Some(i) = args.iter().position(|a| a == "--only") {
        // For callgrind: `--only detsim|shuttle random|pct N` runs N schedules of the lock
        // workload with one tool and one algorithm, nothing else.
        let n: u64 = args[i + 3]
            .parse()
            .expect("--only TOOL ALGO N: N is a number");
        let pct = pct_arg("--only TOOL ALGO N", &args[i + 2]);
        match args[i + 1].as_str() {
            "detsim" => detsim_explore(detsim_workload, pct, n),
            "floor" if !pct => floor_explore(n),
            "shuttle" if pct => shuttle::check_pct(shuttle_workload, n as usize, 3),
            "shuttle" => shuttle::check_random(shuttle_workload, n as usize),
            other => panic!(
                "--only TOOL ALGO N: TOOL is detsim, shuttle or floor (random only), not {other:?}"
            ),
        }
        return;
    }
    if args.iter().any(|a| a == "--profile-detsim") {
        // For profilers: detsim's side alone.
        for _ in 0..10 {
            detsim::Builder::new()
                .ignore_env()
                .schedules(20_000)
                .strategy(Strategy::Random)
                .explore(detsim_workload)
                .unwrap();
        }
        return;
    }
    let only_throughput = args.iter().any(|a| a == "--throughput");
    let only_bugs = args.iter().any(|a| a == "--bugs");
    // The bug searches first: shuttle installs a process-wide panic hook that prints on every
    // panic, detsim's caught ones included, once it has run in this process.
    if !only_throughput {
        bugs(quick);
    }
    if !only_bugs {
        throughput(quick);
    }
    if !only_bugs && !only_throughput {
        demos(quick);
    }
}

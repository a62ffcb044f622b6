//! Exploration: run a test body under many schedules, stop at the first failure, and hand back a
//! seed and a shrunk schedule that replay it.
//!
//! [`check`] explores with the default settings; [`Builder`] sets the budget
//! ([`schedules`](crate::Builder::schedules), [`time_budget`](crate::Builder::time_budget)), the
//! [`strategy`](crate::Builder::strategy), the base [`seed`](crate::Builder::seed) and the
//! [`max_steps`](crate::Builder::max_steps) of each run. Each schedule runs a fresh future from the
//! closure. The `DETSIM_*` environment variables ([`Overrides`]) override the code's settings, so a
//! CI failure can be replayed without editing the test.
//!
//! # What happens on a failure
//!
//! 1. The exploration stops at the failing schedule (with several jobs, at the lowest failing
//!    schedule index, so the result never depends on the thread count).
//! 2. Its decision log is **shrunk** ([`shrink`](self) module docs) to a smaller schedule that fails
//!    in the same way.
//! 3. The failing schedule is replayed twice with recording on and the event sequences compared:
//!    the **determinism self-check**.
//! 4. The report ([`Found`]) gives the cause, the strategy and count, the seed, the schedule
//!    string, the shrunk schedule with its size before and after, copy-paste replay lines naming
//!    the test, and the tail of the shrunk run's trace.
//!
//! # Invariants
//!
//! * A schedule's seed depends only on the base seed and its index; which schedules run depends
//!   only on the settings (and, with a wall-clock budget, on how many fit in it).
//! * Shrinking and the determinism check only replay: they never change what was found.
//! * Wall-clock time is read for the time budget only, never for a decision.

mod env;
mod indices;
mod report;
mod shrink;
mod strategy;

pub use crate::base::{Schedule, ScheduleParseError};
pub use env::{EnvError, Overrides};
use indices::Indices;
pub use report::{Determinism, Found, Summary};
use report::{first_difference, test_command};
pub use strategy::{MAX_PCT_DEPTH, Strategy};

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::failure::{Failure, FailureKind};
use crate::runtime::{Builder, Config, run_once};
use crate::scheduler::{Choices, Decision, Replay, Scheduler};

/// Exploration settings held by a [`Builder`].
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    pub(crate) schedules: u64,
    pub(crate) time_budget: Option<std::time::Duration>,
    pub(crate) strategy: Option<Strategy>,
    pub(crate) jobs: usize,
    pub(crate) shard: Option<(u64, u64)>,
    pub(crate) check_determinism: bool,
    pub(crate) shrink_runs: usize,
    pub(crate) trace_tail: usize,
    pub(crate) use_env: bool,
    pub(crate) replay_seed: Option<u64>,
    pub(crate) replay_schedule: Option<Schedule>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            schedules: 1000,
            time_budget: None,
            strategy: None,
            jobs: 1,
            shard: None,
            check_determinism: false,
            shrink_runs: 2000,
            trace_tail: 40,
            use_env: true,
            replay_seed: None,
            replay_schedule: None,
        }
    }
}

/// Explores `make`'s program under the default settings (1,000 schedules of the default strategy,
/// base seed 0), honouring the `DETSIM_*` environment variables.
///
/// The closure is called once per schedule and must build a fresh program each time; it may be
/// called from several threads (`DETSIM_JOBS`), hence `Sync`. The futures it returns need not be
/// `Send`.
///
/// # Panics
///
/// With the full report ([`Found`]) when a schedule fails, and with a clear message when a
/// `DETSIM_*` variable is malformed.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// // A correct counter: every schedule passes.
/// detsim::check(|| async {
///     let n = Rc::new(Cell::new(0));
///     let hs: Vec<_> = (0..3).map(|_| {
///         let n = n.clone();
///         detsim::spawn(async move {
///             n.set(n.get() + 1); // no await between read and write: atomic here
///             detsim::yield_now().await;
///         })
///     }).collect();
///     for h in hs { h.await.unwrap(); }
///     assert_eq!(n.get(), 3);
/// });
/// ```
pub fn check<F, Fut>(make: F)
where
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = ()>,
{
    Builder::new().check(make);
}

impl Builder {
    /// How many schedules an exploration runs (default 1,000; `DETSIM_ITERATIONS` overrides).
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    pub fn schedules(mut self, n: u64) -> Builder {
        assert!(
            n > 0,
            "Builder::schedules(0): an exploration needs at least one schedule"
        );
        self.explore.schedules = n;
        self
    }

    /// Stops starting new schedules after this much wall-clock time. The number of schedules run
    /// then depends on the machine's speed; the schedules themselves do not.
    pub fn time_budget(mut self, budget: std::time::Duration) -> Builder {
        self.explore.time_budget = Some(budget);
        self
    }

    /// The exploration strategy (`DETSIM_STRATEGY` overrides).
    pub fn strategy(mut self, strategy: Strategy) -> Builder {
        self.explore.strategy = Some(strategy);
        self
    }

    /// Runs schedules on `n` OS threads, each with its own runtime (`DETSIM_JOBS` overrides). The
    /// failure reported is the lowest failing schedule index, as a sequential run would find, for
    /// strategies whose schedules depend only on their seed.
    ///
    /// # Panics
    ///
    /// If `n` is 0.
    pub fn jobs(mut self, n: usize) -> Builder {
        assert!(n > 0, "Builder::jobs(0): pass at least one thread");
        self.explore.jobs = n;
        self
    }

    /// Runs only shard `k` of `n` (1-based): the schedules whose index is `k − 1` modulo `n`
    /// (`DETSIM_SHARD=k/n` overrides). Shards of one campaign partition its schedules exactly.
    ///
    /// # Panics
    ///
    /// Unless `1 <= k <= n`.
    pub fn shard(mut self, k: u64, n: u64) -> Builder {
        assert!(
            1 <= k && k <= n,
            "Builder::shard({k}, {n}): k must be between 1 and n"
        );
        self.explore.shard = Some((k, n));
        self
    }

    /// Replays every schedule a second time and compares the event sequences
    /// (`DETSIM_CHECK_DETERMINISM=1` turns it on). A failing schedule is always checked.
    pub fn check_determinism(mut self, on: bool) -> Builder {
        self.explore.check_determinism = on;
        self
    }

    /// The most replays shrinking may spend (default 2,000; 0 turns shrinking off).
    pub fn shrink_runs(mut self, n: usize) -> Builder {
        self.explore.shrink_runs = n;
        self
    }

    /// How many events of the failing run the report shows (default 40).
    pub fn trace_tail(mut self, n: usize) -> Builder {
        self.explore.trace_tail = n;
        self
    }

    /// Runs only the schedule with this seed, as `DETSIM_SEED` does.
    pub fn replay_seed(mut self, seed: u64) -> Builder {
        self.explore.replay_seed = Some(seed);
        self
    }

    /// Replays exactly this schedule, as `DETSIM_SCHEDULE` does.
    ///
    /// ```
    /// use detsim::explore::Schedule;
    /// let s: Schedule = "ds1.xZ0cgQ".parse().unwrap(); // the empty schedule: FIFO order
    /// let summary = detsim::Builder::new().ignore_env().replay_schedule(s).explore(|| async {}).unwrap();
    /// assert_eq!(summary.schedules, 1);
    /// ```
    pub fn replay_schedule(mut self, schedule: Schedule) -> Builder {
        self.explore.replay_schedule = Some(schedule);
        self
    }

    /// Ignore the `DETSIM_*` environment variables (for tests of detsim itself, and for harnesses
    /// that read their own configuration).
    pub fn ignore_env(mut self) -> Builder {
        self.explore.use_env = false;
        self
    }

    /// Explores like [`check`], with this builder's settings.
    ///
    /// # Panics
    ///
    /// With the full report when a schedule fails; see [`check`].
    pub fn check<F, Fut>(self, make: F)
    where
        F: Fn() -> Fut + Sync,
        Fut: Future<Output = ()>,
    {
        if let Err(found) = self.explore(make) {
            panic!("{found}");
        }
    }

    /// Explores and returns what happened instead of panicking: a [`Summary`] when every
    /// schedule passed, or the [`Found`] failure.
    ///
    /// # Panics
    ///
    /// When a `DETSIM_*` variable is malformed.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// // A lost update: read, yield, write back.
    /// let found = detsim::Builder::new().ignore_env().explore(|| async {
    ///     let n = Rc::new(Cell::new(0));
    ///     let hs: Vec<_> = (0..2).map(|_| {
    ///         let n = n.clone();
    ///         detsim::spawn(async move {
    ///             let v = n.get();
    ///             detsim::yield_now().await;
    ///             n.set(v + 1);
    ///         })
    ///     }).collect();
    ///     for h in hs { h.await.unwrap(); }
    ///     assert_eq!(n.get(), 2, "lost update");
    /// }).unwrap_err();
    /// assert!(found.to_string().contains("lost update"));
    /// // The shrunk schedule replays the failure.
    /// assert!(found.shrunk.len() <= found.schedule.len());
    /// ```
    pub fn explore<F, Fut>(self, make: F) -> Result<Summary, Box<Found>>
    where
        F: Fn() -> Fut + Sync,
        Fut: Future<Output = ()>,
    {
        let mut settings = self.explore.clone();
        let mut config = self.config.clone();
        let overrides = if settings.use_env {
            Overrides::from_env().unwrap_or_else(|e| panic!("detsim: {e}"))
        } else {
            Overrides::default()
        };
        if let Some(n) = overrides.iterations {
            settings.schedules = n;
        }
        if let Some(s) = overrides.strategy.clone() {
            settings.strategy = Some(s);
        }
        if let Some(j) = overrides.jobs {
            settings.jobs = j;
        }
        if let Some(s) = overrides.shard {
            settings.shard = Some(s);
        }
        if let Some(d) = overrides.check_determinism {
            settings.check_determinism = d;
        }
        if let Some(limit) = overrides.poll_timeout {
            config.poll_timeout = limit;
        }
        config.record = None;
        config.explored = true;
        let explorer = Explorer {
            make: &make,
            config,
            settings,
            custom: std::cell::RefCell::new(self.scheduler),
        };
        let schedule = overrides
            .schedule
            .or_else(|| explorer.settings.replay_schedule.clone());
        if let Some(schedule) = schedule {
            return explorer.replay_schedule(schedule);
        }
        let seed = overrides.seed.or(explorer.settings.replay_seed);
        explorer.run_seeds(seed)
    }
}

/// Two failures are "the same" for shrinking: the same kind, and for a panic the same location
/// (or, without one, the same message).
pub(crate) fn same_failure(a: &FailureKind, b: &FailureKind) -> bool {
    match (a, b) {
        (
            FailureKind::Panic {
                message: m1,
                location: l1,
                ..
            },
            FailureKind::Panic {
                message: m2,
                location: l2,
                ..
            },
        ) => match (l1, l2) {
            (Some(x), Some(y)) => x == y,
            _ => m1 == m2,
        },
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Shrinking spends at most about this many steps in all (but at least [`MIN_SHRINK_RUNS`] runs).
const SHRINK_STEP_BUDGET: u64 = 20_000_000;
/// The fewest replays shrinking gets, however long the failing run.
const MIN_SHRINK_RUNS: u64 = 8;
/// A run with more decisions than this is "long": its determinism check keeps only the last
/// [`RING_FOR_LONG_RUNS`] events (and compares the full decision logs).
const LONG_RUN_DECISIONS: usize = 200_000;
const RING_FOR_LONG_RUNS: usize = 10_000;

/// Calibration runs (seeds `0..WARM_UP`) that a learning strategy makes before its schedules are
/// forked from it; 4 gives each member of the default portfolio one run. They are counted in
/// [`Found::schedules_run`] but are not schedules of the campaign.
pub const WARM_UP: u64 = 4;

/// The seed of schedule `index` under `base`: SplitMix64 of both, so that neighbouring base seeds
/// give unrelated campaigns.
pub fn schedule_seed(base: u64, index: u64) -> u64 {
    let mut z = base
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(index)
        .wrapping_add(0x6A09_E667_F3BC_C909);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

struct Explorer<'a, F> {
    make: &'a F,
    config: Config,
    settings: Settings,
    /// A scheduler instance set with `Builder::scheduler`, used when no strategy is named.
    custom: std::cell::RefCell<Option<Box<dyn Scheduler>>>,
}

/// One finished run, as the explorer needs it.
struct Ran {
    decisions: Vec<Decision>,
    trace: crate::trace::Trace,
    failure: Option<Failure>,
}

impl<'a, F, Fut> Explorer<'a, F>
where
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = ()>,
{
    fn strategy(&self) -> Option<&Strategy> {
        self.settings.strategy.as_ref()
    }

    /// The strategy's name for a summary: the named strategy, else the scheduler's own name.
    fn strategy_name(&self, sched: &dyn Scheduler) -> String {
        match self.strategy() {
            Some(s) => s.to_string(),
            None if self.custom.borrow().is_none() => Strategy::default().to_string(),
            None => sched.name(),
        }
    }

    /// The scheduler the exploration starts from: the named strategy, else the builder's
    /// scheduler instance, else the default strategy.
    fn base_scheduler(&self) -> Box<dyn Scheduler> {
        if let Some(s) = self.strategy() {
            return s.build();
        }
        if let Some(s) = self.custom.borrow_mut().take() {
            return s;
        }
        Strategy::default().build()
    }

    /// Warms a learning, forkable scheduler up with [`WARM_UP`] calibration runs (seeds
    /// `0..WARM_UP`, the same for every campaign, so that a schedule forked from the result still
    /// replays from its seed alone). Calibration runs only teach the strategy: a failure there is
    /// not reported, since the campaign's own schedules, seeded from the base seed, explore the
    /// same program. Returns the scheduler and how many runs it made.
    fn warm_up(&self, mut template: Box<dyn Scheduler>) -> (Box<dyn Scheduler>, u64) {
        if !template.learns() {
            return (template, 0);
        }
        for seed in 0..WARM_UP {
            template = self.run_with(template, seed, None).1;
        }
        (template, WARM_UP)
    }

    fn run_with(
        &self,
        scheduler: Box<dyn Scheduler>,
        seed: u64,
        record: Option<usize>,
    ) -> (Ran, Box<dyn Scheduler>) {
        let mut config = self.config.clone();
        config.seed = seed;
        config.record = record;
        let (out, sched) = run_once(config, scheduler, (self.make)());
        let failure = out.output.err();
        (
            Ran {
                decisions: out.decisions,
                trace: out.trace,
                failure,
            },
            sched,
        )
    }

    fn indices(&self) -> Indices {
        Indices::new(self.settings.schedules, self.settings.shard)
    }

    fn run_seeds(&self, only_seed: Option<u64>) -> Result<Summary, Box<Found>> {
        let base = self.config.seed;
        let start = std::time::Instant::now();
        let budget = self.settings.time_budget;
        let over_budget = move || budget.is_some_and(|b| start.elapsed() >= b);
        let first = self.base_scheduler();
        if first.fork().is_none() {
            // An exhaustive search (or a custom scheduler that cannot be copied): one instance,
            // one thread, schedules in order.
            return self.run_stateful(first, only_seed, &over_budget);
        }
        let (template, warm_runs) = self.warm_up(first);
        if let Some(seed) = only_seed {
            let sched = template.fork().expect("forkable");
            let (ran, sched) = self.run_with(sched, seed, None);
            let name = sched.name();
            return match ran.failure {
                Some(f) => {
                    let runs = warm_runs + 1;
                    let mut found = self.found(f, ran.decisions, name, None, runs, seed, true);
                    found.found_in = "the schedule of DETSIM_SEED".into();
                    Err(found)
                }
                None => Ok(Summary {
                    schedules: 1,
                    strategy: name,
                    exhausted: false,
                    coverage: None,
                }),
            };
        }
        let indices = self.indices();
        if self.settings.jobs > 1 && indices.len() > 1 {
            drop(template);
            return self.run_parallel(indices, self.settings.jobs, &over_budget);
        }
        let mut ran_count = warm_runs;
        // A scheduler that learns nothing is the same after every run (begin_run reseeds it), so
        // one instance serves every schedule; a learning one runs each schedule on a fresh fork.
        let learns = template.learns();
        let mut spare: Option<Box<dyn Scheduler>> = None;
        for i in indices.iter() {
            if over_budget() {
                break;
            }
            let seed = schedule_seed(base, i);
            let sched = match spare.take() {
                Some(s) => s,
                None => template.fork().expect("forkable"),
            };
            let (ran, sched) = self.run_with(sched, seed, None);
            ran_count += 1;
            if let Some(f) = ran.failure {
                let name = sched.name();
                return Err(self.found(f, ran.decisions, name, Some(i), ran_count, seed, true));
            }
            if self.settings.check_determinism {
                let name = sched.name();
                if let Some(found) = self.determinism_each(&ran, seed, &name, i, ran_count) {
                    return Err(found);
                }
            }
            if !learns {
                spare = Some(sched);
            }
            // The log of a passing schedule is not needed any more: the next run records into it.
            crate::runtime::recycle_decisions(ran.decisions);
        }
        Ok(Summary {
            schedules: ran_count - warm_runs,
            strategy: self.strategy_name(&*template),
            exhausted: false,
            coverage: None,
        })
    }

    /// Runs a scheduler that learns across runs in a way a copy cannot capture (an exhaustive
    /// search): one instance, in order, until the budget is spent or it is exhausted.
    fn run_stateful(
        &self,
        mut sched: Box<dyn Scheduler>,
        only_seed: Option<u64>,
        over_budget: &dyn Fn() -> bool,
    ) -> Result<Summary, Box<Found>> {
        let base = self.config.seed;
        if let (Some((k, n)), None) = (self.settings.shard, only_seed) {
            panic!(
                "detsim: shard {k}/{n} (DETSIM_SHARD or Builder::shard) does not apply to {}: an \
                 exhaustive search walks one tree in order, so every shard would repeat the same \
                 schedules. Run it unsharded, or shard a seeded strategy (random, pct, urw, \
                 portfolio).",
                sched.name()
            );
        }
        let indices = match only_seed {
            Some(_) => Indices::new(1, None),
            None => Indices::new(self.settings.schedules, None),
        };
        let mut ran_count = 0u64;
        for i in indices.iter() {
            if over_budget() || sched.exhausted() {
                break;
            }
            let seed = only_seed.unwrap_or_else(|| schedule_seed(base, i));
            let (ran, s) = self.run_with(sched, seed, None);
            sched = s;
            ran_count += 1;
            let name = sched.name();
            if let Some(f) = ran.failure {
                let index = only_seed.is_none().then_some(i);
                return Err(self.found(f, ran.decisions, name, index, ran_count, seed, false));
            }
            if self.settings.check_determinism {
                if let Some(found) = self.determinism_each(&ran, seed, &name, i, ran_count) {
                    return Err(found);
                }
            }
        }
        Ok(Summary {
            schedules: ran_count,
            strategy: sched.name(),
            exhausted: sched.exhausted(),
            coverage: sched.coverage(),
        })
    }

    fn run_parallel(
        &self,
        indices: Indices,
        jobs: usize,
        over_budget: &(dyn Fn() -> bool + Sync),
    ) -> Result<Summary, Box<Found>> {
        let strategy = self.strategy().cloned().unwrap_or_default();
        let base = self.config.seed;
        let next = AtomicU64::new(0);
        let lowest_fail = AtomicU64::new(u64::MAX);
        let stop = AtomicBool::new(false);
        let ran_below: Mutex<u64> = Mutex::new(0);
        // The lowest failing schedule so far: (index, decisions, failure, scheduler name).
        type Lowest = Option<(u64, Vec<Decision>, Failure, String)>;
        let failure: Mutex<Lowest> = Mutex::new(None);
        let config = self.config.clone();
        let make = self.make;
        std::thread::scope(|scope| {
            for j in 0..(jobs as u64).min(indices.len()) {
                let (next, lowest_fail, stop, failure, ran_below, config, strategy) = (
                    &next,
                    &lowest_fail,
                    &stop,
                    &failure,
                    &ran_below,
                    config.clone(),
                    strategy.clone(),
                );
                std::thread::Builder::new()
                    .name(format!("detsim-job-{j}"))
                    .spawn_scoped(scope, move || {
                        // Each thread warms its own copy: the same runs, so the same state.
                        let mut template = strategy.build();
                        let warm = if template.learns() { WARM_UP } else { 0 };
                        for seed in 0..warm {
                            let mut c = config.clone();
                            c.seed = seed;
                            template = run_once(c, template, make()).1;
                        }
                        loop {
                            let k = next.fetch_add(1, Ordering::Relaxed);
                            let Some(i) = indices.nth(k) else { return };
                            if stop.load(Ordering::Relaxed) {
                                return;
                            }
                            if i > lowest_fail.load(Ordering::Relaxed) {
                                return;
                            }
                            if over_budget() {
                                stop.store(true, Ordering::Relaxed);
                                return;
                            }
                            let mut c = config.clone();
                            c.seed = schedule_seed(base, i);
                            let sched = template.fork().expect("forkable");
                            let (out, sched) = run_once(c, sched, make());
                            *ran_below.lock().unwrap() += 1;
                            if let Err(f) = out.output {
                                lowest_fail.fetch_min(i, Ordering::Relaxed);
                                let mut slot = failure.lock().unwrap();
                                if slot.as_ref().is_none_or(|(j, ..)| i < *j) {
                                    *slot = Some((i, out.decisions, f, sched.name()));
                                }
                            }
                        }
                    })
                    .expect("spawning a detsim job thread");
            }
        });
        match failure.into_inner().unwrap() {
            Some((i, decisions, f, name)) => {
                // Count the schedules a sequential run would have run: those up to the failure.
                let warm = if strategy.build().learns() {
                    WARM_UP
                } else {
                    0
                };
                let position = indices.position(i) + 1 + warm;
                let seed = schedule_seed(base, i);
                Err(self.found(f, decisions, name, Some(i), position, seed, true))
            }
            None => Ok(Summary {
                schedules: *ran_below.lock().unwrap(),
                strategy: strategy.to_string(),
                exhausted: false,
                coverage: None,
            }),
        }
    }

    fn replay_schedule(&self, schedule: Schedule) -> Result<Summary, Box<Found>> {
        let replay = Box::new(Replay::new(schedule.decisions().to_vec()));
        let (ran, _) = self.run_with(replay, self.config.seed, None);
        match ran.failure {
            Some(f) => Err(self.found(
                f,
                ran.decisions,
                "replay of DETSIM_SCHEDULE".into(),
                None,
                1,
                self.config.seed,
                false,
            )),
            None => Ok(Summary {
                schedules: 1,
                strategy: "replay of DETSIM_SCHEDULE".into(),
                exhausted: false,
                coverage: None,
            }),
        }
    }

    /// Runs `choices` under the lenient choice scheduler.
    fn run_choices(&self, choices: &[u64], record: Option<usize>) -> Ran {
        let (ran, _) = self.run_with(
            Box::new(Choices::new(choices.to_vec())),
            self.config.seed,
            record,
        );
        ran
    }

    /// Replays `decisions` twice with recording and compares; `Some(difference)` if they differ.
    fn replay_differs(
        &self,
        decisions: &[Decision],
        expect: Option<&FailureKind>,
    ) -> Option<String> {
        // Keep every event of an ordinary run; of a very long one (a livelock at the step
        // limit), the last RING_FOR_LONG_RUNS, with the decision logs compared in full.
        let record = if decisions.len() > LONG_RUN_DECISIONS {
            RING_FOR_LONG_RUNS
        } else {
            usize::MAX
        };
        let run = || {
            self.run_with(
                Box::new(Replay::new(decisions.to_vec())),
                self.config.seed,
                Some(record),
            )
            .0
        };
        let (a, b) = (run(), run());
        if a.decisions != b.decisions {
            let i = a
                .decisions
                .iter()
                .zip(&b.decisions)
                .take_while(|(x, y)| x == y)
                .count();
            return Some(format!(
                "the decision logs differ at decision {i}: {:?} then {:?}",
                a.decisions.get(i),
                b.decisions.get(i)
            ));
        }
        if let Some(diff) = first_difference(&a.trace, &b.trace) {
            return Some(diff);
        }
        // What the failure report prints (messages, names, step, time) must agree as well.
        let report = |r: &Ran| r.failure.as_ref().map(|f| f.to_string());
        if let (Some(x), Some(y)) = (report(&a), report(&b)) {
            if x != y {
                return Some(format!(
                    "the failure reports differ:\n  first run:  {}\n  second run: {}",
                    x.replace('\n', "\n    "),
                    y.replace('\n', "\n    ")
                ));
            }
        }
        if let Some(kind) = expect {
            let again = a.failure.as_ref().map(|f| &f.kind);
            if !again.is_some_and(|k| same_failure(k, kind)) {
                return Some(format!(
                    "the failing schedule did not fail the same way when replayed: first {}, then {}",
                    kind.name(),
                    again.map_or("no failure", |k| k.name())
                ));
            }
        }
        None
    }

    fn determinism_each(
        &self,
        ran: &Ran,
        seed: u64,
        name: &str,
        index: u64,
        count: u64,
    ) -> Option<Box<Found>> {
        let diff = self.replay_differs(&ran.decisions, None)?;
        let failure = Failure {
            kind: FailureKind::Nondeterminism {
                message: diff.clone(),
            },
            seed,
            scheduler: name.to_string(),
            decisions: ran.decisions.clone(),
            steps: 0,
            time: crate::base::Instant::ZERO,
            trace: crate::trace::Trace::default(),
        };
        let schedule = Schedule::from_decisions(&ran.decisions);
        Some(Box::new(Found {
            failure: failure.clone(),
            original: failure,
            strategy: name.to_string(),
            index: Some(index),
            schedules_run: count,
            seed,
            seed_replays: self.strategy().is_none_or(|s| s.build().fork().is_some()),
            schedule: schedule.clone(),
            shrunk: schedule,
            shrink_runs: 0,
            determinism: Determinism::Differs(diff),
            test_command: test_command(),
            found_in: format!("schedule #{index}"),
        }))
    }

    #[allow(clippy::too_many_arguments)]
    fn found(
        &self,
        original: Failure,
        decisions: Vec<Decision>,
        strategy: String,
        index: Option<u64>,
        schedules_run: u64,
        seed: u64,
        seed_replays: bool,
    ) -> Box<Found> {
        let kind = original.kind.clone();
        let initial = Choices::from_decisions(&decisions);
        // Shrinking replays the program up to `shrink_runs` times; for a very long failing run (a
        // livelock at the step limit) that would take minutes, so spend at most about
        // SHRINK_STEP_BUDGET steps in all.
        let steps = original.steps.max(1);
        let budget = self
            .settings
            .shrink_runs
            .min((SHRINK_STEP_BUDGET / steps).max(MIN_SHRINK_RUNS) as usize);
        let shrunk = shrink::shrink(initial.clone(), budget, |cand| {
            let ran = self.run_choices(cand, None);
            match &ran.failure {
                Some(f) if same_failure(&f.kind, &kind) => {
                    Some(shrink::normalise(Choices::from_decisions(&ran.decisions)))
                }
                _ => None,
            }
        });
        // Replay the shrunk choices with recording to get its exact log and trace tail.
        let tail = Some(self.settings.trace_tail);
        let mut final_run = self.run_choices(&shrunk.choices, tail);
        let mut shrunk_schedule = Schedule::from_decisions(&final_run.decisions);
        // The shrunk schedule string must replay the failure; if it somehow does not, fall back.
        let (check, _) = self.run_with(
            Box::new(Replay::new(shrunk_schedule.decisions().to_vec())),
            self.config.seed,
            None,
        );
        let replays = check
            .failure
            .as_ref()
            .is_some_and(|f| same_failure(&f.kind, &kind));
        if !replays || final_run.failure.is_none() {
            final_run = self.run_choices(&initial, tail);
            shrunk_schedule = Schedule::from_decisions(&decisions);
        }
        let mut failure = final_run.failure.unwrap_or_else(|| original.clone());
        // The shrunk run is a replay: say so rather than name the internal choice scheduler.
        failure.seed = seed;
        failure.scheduler = format!("{strategy}, replaying the shrunk schedule");
        let determinism = match self.replay_differs(&decisions, Some(&kind)) {
            None => Determinism::Confirmed,
            Some(d) => Determinism::Differs(d),
        };
        Box::new(Found {
            failure,
            original: Failure {
                scheduler: strategy.clone(),
                ..original
            },
            strategy,
            index,
            schedules_run,
            seed,
            seed_replays,
            schedule: Schedule::from_decisions(&decisions),
            shrunk: shrunk_schedule,
            shrink_runs: shrunk.runs,
            determinism,
            test_command: test_command(),
            found_in: match index {
                Some(i) => format!("schedule #{i}"),
                None => "the replayed schedule".to_string(),
            },
        })
    }
}

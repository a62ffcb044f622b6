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
//! The default strategy ([`Strategy::Portfolio`]) runs asyncio's own order (the [`Fifo`]
//! schedule) first, so a bug that the plain asyncio run shows is found on run 1; the seeded
//! schedules follow, and the FIFO run counts against the budget.
//!
//! Every exploration prints one summary line to stderr when it ends, passing or failing:
//!
//! ```text
//! detsim: portfolio: 1,000 schedules run (812 distinct), 41,230 steps, no failure [0.41s]
//! detsim: dfs:2: 162 schedules run (162 distinct), 1,418 steps, Dfs (preemption bound): all 162 schedules within 2 preemptions explored (bound 0: 13, bound 1: 50, bound 2: 99), no failure [0.01s]
//! ```
//!
//! libtest shows it for a failing test and with `--nocapture`, nextest with `--success-output`.
//! The wall time in brackets appears only in that line, never in a [`Summary`] or [`Found`]
//! (whose text tests and snapshots compare), and never steers a run.
//!
//! # What happens on a failure
//!
//! 1. The exploration stops at the failing schedule (with several jobs, at the lowest failing
//!    schedule index, so the result never depends on the thread count).
//! 2. Its decision log is **shrunk** ([`shrink`](self) module docs) to a smaller schedule that fails
//!    in the same way.
//! 3. The failing schedule is replayed twice with recording on and the event sequences compared:
//!    the **determinism self-check**.
//! 4. The report ([`Found`]) gives the cause, the line of the test that started the exploration,
//!    the strategy and count, the seed (when a seed replays it), the schedule string, the shrunk
//!    schedule with its size before and after, copy-paste replay lines naming the test, and the
//!    tail of the shrunk run's trace. [`check`] panics with it, at the test's own line.
//!
//! A **replay** (`DETSIM_SEED`, `DETSIM_SCHEDULE`, [`Builder::replay_seed`],
//! [`Builder::replay_schedule`]) runs that one schedule. Its report says it is a replay, shows a
//! seed only when a seed was given, and skips shrinking unless asked (`DETSIM_SHRINK=1`,
//! [`Builder::shrink`]).
//!
//! # Invariants
//!
//! * A schedule's seed depends only on the base seed and its index; which schedules run depends
//!   only on the settings (and, with a wall-clock budget, on how many fit in it).
//! * Shrinking and the determinism check only replay: they never change what was found.
//! * Wall-clock time is read for the time budget only, never for a decision.

mod env;
mod found;
mod indices;
mod progress;
mod report;
mod shrink;
mod strategy;
mod tally;

pub use crate::base::{Schedule, ScheduleParseError};
pub use env::{EnvError, Overrides};
use indices::Indices;
pub use progress::ProgressSetting;
pub use report::{Determinism, Found, Summary};
pub use strategy::{MAX_PCT_DEPTH, Strategy};

use std::future::Future;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::failure::Failure;
use crate::runtime::{Builder, Config, run_once};
use crate::scheduler::{Decision, Fifo, Replay, Scheduler};
use found::Origin;
use tally::Tally;

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
    /// `None`: shrink a find, not a replay.
    pub(crate) shrink: Option<bool>,
    pub(crate) progress: ProgressSetting,
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
            shrink: None,
            progress: ProgressSetting::On,
            trace_tail: 40,
            use_env: true,
            replay_seed: None,
            replay_schedule: None,
        }
    }
}

/// Explores `make`'s program under the default settings (1,000 schedules of the default strategy:
/// asyncio's own order first, then seeded schedules from base seed 0), honouring the `DETSIM_*`
/// environment variables, and prints a one-line summary to stderr.
///
/// The closure is called once per schedule and must build a fresh program each time; it may be
/// called from several threads (`DETSIM_JOBS`), hence `Sync`. The futures it returns need not be
/// `Send`.
///
/// # Panics
///
/// With the full report ([`Found`]) when a schedule fails, and with a clear message when a
/// `DETSIM_*` variable is malformed; the panic's location is the line that called `check`.
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
#[track_caller]
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
    #[track_caller]
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
    #[track_caller]
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
    #[track_caller]
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

    /// Whether to shrink the failing schedule (`DETSIM_SHRINK` overrides). By default a find is
    /// shrunk and a replay ([`replay_seed`](Builder::replay_seed),
    /// [`replay_schedule`](Builder::replay_schedule), `DETSIM_SEED`, `DETSIM_SCHEDULE`) is not:
    /// its schedule usually is the shrunk one already.
    pub fn shrink(mut self, on: bool) -> Builder {
        self.explore.shrink = Some(on);
        self
    }

    /// How many events of the failing run the report shows (default 40).
    pub fn trace_tail(mut self, n: usize) -> Builder {
        self.explore.trace_tail = n;
        self
    }

    /// Runs only the schedule with this seed, as `DETSIM_SEED` does. Only an exploration
    /// ([`explore`](Builder::explore), [`check`](Builder::check)) can: a single run
    /// ([`run`](Builder::run)) panics rather than ignore it.
    pub fn replay_seed(mut self, seed: u64) -> Builder {
        self.explore.replay_seed = Some(seed);
        self
    }

    /// Replays exactly this schedule, as `DETSIM_SCHEDULE` does, in an exploration
    /// ([`explore`](Builder::explore), [`check`](Builder::check)) and in a single run
    /// ([`run`](Builder::run), [`run_report`](Builder::run_report)) alike.
    ///
    /// ```
    /// use detsim::explore::Schedule;
    /// let s: Schedule = "ds1.xZ0cgQ".parse().unwrap(); // the empty schedule: FIFO order
    /// let summary = detsim::Builder::new().ignore_env().replay_schedule(s).explore(|| async {}).unwrap();
    /// assert_eq!(summary.schedules, 1);
    /// ```
    ///
    /// **The full trace of a failure an exploration found**: the report shows only the last
    /// events; replay its shrunk schedule with recording on to get every event, for a snapshot
    /// or a picture.
    ///
    /// ```
    /// use std::{cell::Cell, rc::Rc};
    /// async fn program() {
    ///     let n = Rc::new(Cell::new(0));
    ///     let hs: Vec<_> = (0..2).map(|_| {
    ///         let n = n.clone();
    ///         detsim::spawn(async move { let v = n.get(); detsim::yield_now().await; n.set(v + 1) })
    ///     }).collect();
    ///     for h in hs { h.await.unwrap(); }
    ///     assert_eq!(n.get(), 2, "lost update");
    /// }
    /// let found = detsim::Builder::new().ignore_env().explore(program).unwrap_err();
    /// let report = detsim::Builder::new()
    ///     .replay_schedule(found.shrunk.clone())
    ///     .record()
    ///     .run_report(program());
    /// assert!(report.output.is_err()); // the same failure, every event recorded
    /// let text = report.trace.to_string();        // or detsim::assert_trace_snapshot!(…, report.trace)
    /// assert!(text.contains("lost update"));
    /// let svg = report.trace.to_svg();            // std::fs::write("failure.svg", svg)
    /// assert!(svg.starts_with("<svg"));
    /// ```
    pub fn replay_schedule(mut self, schedule: Schedule) -> Builder {
        self.explore.replay_schedule = Some(schedule);
        self
    }

    /// Whether a long exploration prints progress lines to stderr (default on: the first after
    /// 2 s; `DETSIM_PROGRESS` overrides, e.g. `DETSIM_PROGRESS=0`). They show schedules done,
    /// the rate, the elapsed time and the strategy, and never affect what runs.
    pub fn progress(mut self, on: bool) -> Builder {
        self.explore.progress = if on {
            ProgressSetting::On
        } else {
            ProgressSetting::Off
        };
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
    #[track_caller]
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
    #[track_caller]
    pub fn explore<F, Fut>(self, make: F) -> Result<Summary, Box<Found>>
    where
        F: Fn() -> Fut + Sync,
        Fut: Future<Output = ()>,
    {
        let called_at = std::panic::Location::caller();
        // Wall-clock time for the summary line only: it never steers a run.
        let started = std::time::Instant::now();
        let mut settings = self.explore.clone();
        let mut config = self.config.clone();
        let overrides = if settings.use_env {
            match Overrides::from_env() {
                Ok(o) => o,
                Err(e) => panic!("detsim: {e}"),
            }
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
        if let Some(on) = overrides.shrink {
            settings.shrink = Some(on);
        }
        if let Some(p) = overrides.progress {
            settings.progress = p;
        }
        if let Some(limit) = overrides.poll_timeout {
            config.poll_timeout = limit;
        }
        config.record = None;
        config.explored = true;
        let campaign = match (&settings.strategy, &self.scheduler) {
            (Some(s), _) => s.to_string(),
            (None, Some(custom)) => custom.name(),
            (None, None) => Strategy::default().to_string(),
        };
        let progress = progress::Progress::new(settings.progress, &campaign, settings.schedules);
        let explorer = Explorer {
            make: &make,
            config,
            settings,
            custom: std::cell::RefCell::new(self.scheduler),
            tally: Mutex::new(Tally::new(progress)),
        };
        let given = match overrides.schedule {
            Some(s) => Some((s, "DETSIM_SCHEDULE")),
            None => {
                (explorer.settings.replay_schedule.clone()).map(|s| (s, "Builder::replay_schedule"))
            }
        };
        let label = match &given {
            Some((_, from)) => format!("replay of the schedule given by {from}"),
            None => campaign,
        };
        let result = match given {
            Some((schedule, from)) => explorer.replay_schedule(schedule, from),
            None => {
                let seed = match overrides.seed {
                    Some(s) => Some((s, "DETSIM_SEED")),
                    None => (explorer.settings.replay_seed).map(|s| (s, "Builder::replay_seed")),
                };
                explorer.run_seeds(seed)
            }
        };
        let result = result.map_err(|mut found| {
            found.called_at = Some(called_at.to_string());
            found
        });
        explorer.tally.lock().unwrap().finish();
        eprintln!(
            "{}",
            explorer.summary_line(&label, &result, started.elapsed())
        );
        result
    }
}

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
    /// The campaign's schedules so far, for the summary line.
    tally: Mutex<Tally>,
}

/// One finished run, as the explorer needs it.
struct Ran {
    decisions: Vec<Decision>,
    trace: crate::trace::Trace,
    failure: Option<Failure>,
    steps: u64,
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
                steps: out.steps,
            },
            sched,
        )
    }

    /// Whether the default strategy's campaign starts with asyncio's own order: a bug that the
    /// plain FIFO run shows is then found on run 1. Only the first shard runs it.
    fn fifo_first(&self) -> bool {
        let default = match self.strategy() {
            Some(s) => matches!(s, Strategy::Portfolio),
            None => self.custom.borrow().is_none(),
        };
        default && self.settings.shard.is_none_or(|(k, _)| k == 1)
    }

    /// Whether a failure is shrunk: a find by default, a replay only when asked.
    fn shrinks(&self, replayed: bool) -> bool {
        self.settings.shrink.unwrap_or(!replayed) && self.settings.shrink_runs > 0
    }

    /// The seeded schedules to run. Unsharded, the `prior` runs (asyncio's order, run first)
    /// count against the budget; sharded, shard 1 runs them on top of its share.
    fn indices(&self, prior: u64) -> Indices {
        let n = self.settings.schedules;
        match self.settings.shard {
            None => Indices::new(n.saturating_sub(prior), None),
            shard => Indices::new(n, shard),
        }
    }

    #[track_caller]
    fn run_seeds(&self, only_seed: Option<(u64, &str)>) -> Result<Summary, Box<Found>> {
        let base = self.config.seed;
        let start = std::time::Instant::now();
        let budget = self.settings.time_budget;
        let over_budget = move || budget.is_some_and(|b| start.elapsed() >= b);
        let fifo_first = only_seed.is_none() && self.fifo_first();
        let first = self.base_scheduler();
        if first.fork().is_none() {
            // An exhaustive search (or a custom scheduler that cannot be copied): one instance,
            // one thread, schedules in order.
            return self.run_stateful(first, only_seed, &over_budget);
        }
        let mut prior = 0;
        if fifo_first {
            let (ran, _) = self.run_with(Box::new(Fifo::new()), base, None);
            self.count(&ran);
            prior = 1;
            if let Some(f) = ran.failure {
                let origin = Origin {
                    strategy: "Fifo".into(),
                    index: None,
                    schedules_run: 1,
                    seed: base,
                    seed_replays: false,
                    found_in: "asyncio's own order (run first)".into(),
                    replayed: false,
                    given_schedule: false,
                };
                return Err(self.found(f, ran.decisions, origin));
            }
            if self.settings.check_determinism {
                if let Some(found) = self.determinism_each(&ran, base, "Fifo", None, 1) {
                    return Err(found);
                }
            }
        }
        let (template, warm_runs) = self.warm_up(first);
        if let Some((seed, from)) = only_seed {
            let sched = template.fork().expect("forkable");
            let (ran, sched) = self.run_with(sched, seed, None);
            self.count(&ran);
            let name = sched.name();
            return match ran.failure {
                Some(f) => {
                    let origin = Origin {
                        strategy: name,
                        index: None,
                        schedules_run: warm_runs + 1,
                        seed,
                        seed_replays: true,
                        found_in: format!("the schedule of the seed given by {from}"),
                        replayed: true,
                        given_schedule: false,
                    };
                    Err(self.found(f, ran.decisions, origin))
                }
                None => Ok(self.summary(1, name, false, None)),
            };
        }
        let indices = self.indices(prior);
        if self.settings.jobs > 1 && indices.len() > 1 {
            drop(template);
            return self.run_parallel(indices, self.settings.jobs, prior, &over_budget);
        }
        let mut ran_count = warm_runs + prior;
        let mut forks = Forks::default();
        for i in indices.iter() {
            if over_budget() {
                break;
            }
            let seed = schedule_seed(base, i);
            let (ran, sched) = self.run_with(forks.take(&*template), seed, None);
            self.count(&ran);
            ran_count += 1;
            if let Some(f) = ran.failure {
                let origin = Origin::schedule(sched.name(), i, ran_count, seed);
                return Err(self.found(f, ran.decisions, origin));
            }
            if self.settings.check_determinism {
                let name = sched.name();
                if let Some(found) = self.determinism_each(&ran, seed, &name, Some(i), ran_count) {
                    return Err(found);
                }
            }
            forks.give_back(sched);
            // The log of a passing schedule is not needed any more: the next run records into it.
            crate::runtime::recycle_decisions(ran.decisions);
        }
        Ok(self.summary(
            ran_count - warm_runs,
            self.strategy_name(&*template),
            false,
            None,
        ))
    }

    /// Runs a scheduler that learns across runs in a way a copy cannot capture (an exhaustive
    /// search): one instance, in order, until the budget is spent or it is exhausted.
    #[track_caller]
    fn run_stateful(
        &self,
        mut sched: Box<dyn Scheduler>,
        only_seed: Option<(u64, &str)>,
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
            let seed = only_seed.map_or_else(|| schedule_seed(base, i), |(s, _)| s);
            let (ran, s) = self.run_with(sched, seed, None);
            self.count(&ran);
            sched = s;
            ran_count += 1;
            let name = sched.name();
            if let Some(f) = ran.failure {
                let mut origin = Origin::schedule(name, i, ran_count, seed);
                origin.seed_replays = false;
                if let Some((_, from)) = only_seed {
                    origin.index = None;
                    origin.replayed = true;
                    origin.found_in = format!("the schedule of the seed given by {from}");
                }
                return Err(self.found(f, ran.decisions, origin));
            }
            if self.settings.check_determinism {
                if let Some(found) = self.determinism_each(&ran, seed, &name, Some(i), ran_count) {
                    return Err(found);
                }
            }
        }
        Ok(self.summary(ran_count, sched.name(), sched.exhausted(), sched.coverage()))
    }

    fn run_parallel(
        &self,
        indices: Indices,
        jobs: usize,
        prior: u64,
        over_budget: &(dyn Fn() -> bool + Sync),
    ) -> Result<Summary, Box<Found>> {
        let strategy = self.strategy().cloned().unwrap_or_default();
        let base = self.config.seed;
        let next = AtomicU64::new(0);
        let lowest_fail = AtomicU64::new(u64::MAX);
        let stop = AtomicBool::new(false);
        let ran_below: Mutex<u64> = Mutex::new(prior);
        // The lowest failing schedule so far: (index, decisions, failure, scheduler name).
        type Lowest = Option<(u64, Vec<Decision>, Failure, String)>;
        let failure: Mutex<Lowest> = Mutex::new(None);
        let config = self.config.clone();
        let make = self.make;
        std::thread::scope(|scope| {
            for j in 0..(jobs as u64).min(indices.len()) {
                let (next, lowest_fail, stop, failure, ran_below, config, strategy, tally) = (
                    &next,
                    &lowest_fail,
                    &stop,
                    &failure,
                    &ran_below,
                    config.clone(),
                    strategy.clone(),
                    &self.tally,
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
                        let mut forks = Forks::default();
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
                            let (out, sched) = run_once(c, forks.take(&*template), make());
                            *ran_below.lock().unwrap() += 1;
                            tally.lock().unwrap().count(&out.decisions, out.steps);
                            if let Err(f) = out.output {
                                lowest_fail.fetch_min(i, Ordering::Relaxed);
                                let mut slot = failure.lock().unwrap();
                                if slot.as_ref().is_none_or(|(j, ..)| i < *j) {
                                    *slot = Some((i, out.decisions, f, sched.name()));
                                }
                            } else {
                                forks.give_back(sched);
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
                let position = indices.position(i) + 1 + warm + prior;
                let seed = schedule_seed(base, i);
                Err(self.found(f, decisions, Origin::schedule(name, i, position, seed)))
            }
            None => Ok(self.summary(
                *ran_below.lock().unwrap(),
                strategy.to_string(),
                false,
                None,
            )),
        }
    }

    /// Replays a given schedule string (`from` names where it was given).
    fn replay_schedule(&self, schedule: Schedule, from: &str) -> Result<Summary, Box<Found>> {
        let replay = Box::new(Replay::new(schedule.decisions().to_vec()));
        let (ran, _) = self.run_with(replay, self.config.seed, None);
        self.count(&ran);
        let name = format!("replay of the schedule given by {from}");
        match ran.failure {
            Some(f) => {
                let origin = Origin {
                    strategy: name,
                    index: None,
                    schedules_run: 1,
                    seed: self.config.seed,
                    seed_replays: false,
                    found_in: from.to_string(),
                    replayed: true,
                    given_schedule: true,
                };
                Err(self.found(f, ran.decisions, origin))
            }
            None => Ok(self.summary(1, name, false, None)),
        }
    }
}

/// The forks of a warmed-up scheduler that an exploration loop runs its schedules on. A fork
/// that learns nothing is the same after every run (`begin_run` reseeds it), so one fork serves
/// every schedule; a fork that learns runs one schedule only. Whether it learns is asked once
/// (a portfolio asks each member).
#[derive(Default)]
struct Forks {
    spare: Option<Box<dyn Scheduler>>,
    reuse: Option<bool>,
}

impl Forks {
    /// The scheduler for the next schedule: the fork handed back, or a new one.
    fn take(&mut self, template: &dyn Scheduler) -> Box<dyn Scheduler> {
        self.spare
            .take()
            .unwrap_or_else(|| template.fork().expect("forkable"))
    }

    /// A fork after a passing schedule: kept for the next one if it learns nothing.
    fn give_back(&mut self, sched: Box<dyn Scheduler>) {
        if *self.reuse.get_or_insert_with(|| !sched.learns()) {
            self.spare = Some(sched);
        }
    }
}

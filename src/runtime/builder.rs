//! `Builder`: configure and start a run.

use std::fmt;
use std::future::Future;

use super::{Config, OnUnseen, PanicPolicy, run_once};
use crate::base::Instant;
use crate::failure::Failure;
use crate::failure::UnobservedTask;
use crate::scheduler::{Decision, Fifo, Replay, Scheduler};
use crate::trace::Trace;

/// Configures one run: seed, scheduler, step limit, panic policy and event recording.
///
/// ```
/// use detsim::{Builder, scheduler::Random, time::{sleep, now, Duration}};
/// let t = Builder::new()
///     .seed(42)
///     .scheduler(Random::new())
///     .max_steps(10_000)
///     .run(async {
///         let a = detsim::spawn(sleep(Duration::from_secs(1)));
///         let b = detsim::spawn(sleep(Duration::from_secs(2)));
///         a.await.unwrap();
///         b.await.unwrap();
///         now()
///     })
///     .unwrap();
/// assert_eq!(t.to_string(), "2s");
/// ```
pub struct Builder {
    pub(crate) config: Config,
    /// `None`: the default (Fifo for a single run, the default strategy for an exploration).
    pub(crate) scheduler: Option<Box<dyn Scheduler>>,
    pub(crate) explore: crate::explore::Settings,
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("seed", &self.config.seed)
            .field(
                "scheduler",
                &self.scheduler.as_ref().map_or("Fifo".into(), |s| s.name()),
            )
            .field("max_steps", &self.config.max_steps)
            .finish()
    }
}

impl Default for Builder {
    fn default() -> Self {
        Builder::new()
    }
}

impl Builder {
    /// Seed 0, the [`Fifo`] scheduler (asyncio's order), a limit of 1,000,000 steps, task panics
    /// failing the run, no event recording.
    pub fn new() -> Builder {
        Builder {
            config: Config::default(),
            scheduler: None,
            explore: crate::explore::Settings::default(),
        }
    }

    /// The run's seed: it seeds the scheduler's choices and every random value user code draws
    /// ([`random_u64`](crate::random_u64)).
    ///
    /// **A seed alone does not change the order of tasks.** The default scheduler is
    /// [`Fifo`], asyncio's order, which has no choice to make: every seed gives the same order,
    /// and only the random values differ. To run a seeded *random* order, name a scheduler; to
    /// try many orders, explore with [`check`](crate::check).
    ///
    /// ```
    /// use detsim::{Builder, scheduler::Random};
    /// let order = |b: Builder| b.run(async {
    ///     let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    ///     let hs: Vec<_> = (0..4).map(|i| {
    ///         let log = log.clone();
    ///         detsim::spawn(async move { detsim::yield_now().await; log.borrow_mut().push(i) })
    ///     }).collect();
    ///     for h in hs { h.await.unwrap(); }
    ///     log.take()
    /// }).unwrap();
    /// // A seed alone: asyncio's order, whatever the seed.
    /// assert_eq!(order(Builder::new().seed(7)), [0, 1, 2, 3]);
    /// assert_eq!(order(Builder::new().seed(8)), [0, 1, 2, 3]);
    /// // A seed and a scheduler with choices: a seeded random order, the same for the same seed.
    /// let random = |seed| order(Builder::new().seed(seed).scheduler(Random::new()));
    /// assert_eq!(random(7), random(7));
    /// assert!((0..20).any(|seed| random(seed) != [0, 1, 2, 3]));
    /// ```
    pub fn seed(mut self, seed: u64) -> Builder {
        self.config.seed = seed;
        self
    }

    /// The scheduler that makes every decision.
    pub fn scheduler(mut self, scheduler: impl Scheduler + 'static) -> Builder {
        self.scheduler = Some(Box::new(scheduler));
        self
    }

    /// Fails the run with [`FailureKind::StepLimit`](crate::FailureKind::StepLimit) after `n`
    /// steps (task polls). Catches livelocks and tasks that never finish.
    ///
    /// # Panics
    ///
    /// If `n` is 0: no run can take a step.
    #[track_caller]
    pub fn max_steps(mut self, n: u64) -> Builder {
        assert!(
            n > 0,
            "Builder::max_steps(0): a run needs at least one step to poll its main future; \
             pass a positive limit (the default is 1,000,000)"
        );
        self.config.max_steps = n;
        self
    }

    /// Whether a panic in a spawned task fails the whole run (the default, `true`), or only
    /// becomes the [`JoinError`](crate::JoinError) its handle returns. A panic in the main future
    /// always fails the run.
    ///
    /// ```
    /// let r = detsim::Builder::new().fail_on_task_panic(false).run(async {
    ///     let h = detsim::spawn(async { panic!("boom") });
    ///     h.await.unwrap_err().to_string()
    /// });
    /// assert_eq!(r.unwrap(), "task panicked: boom");
    /// ```
    pub fn fail_on_task_panic(mut self, fail: bool) -> Builder {
        self.config.panic_policy = if fail {
            PanicPolicy::FailRun
        } else {
            PanicPolicy::JoinErrorOnly
        };
        self
    }

    /// What the end of a successful run does with a task that panicked when nobody read its
    /// error (asyncio's "Task exception was never retrieved"): [`OnUnseen::Fail`] by default, in
    /// single runs and explorations alike. Only reachable with
    /// [`fail_on_task_panic(false)`](Builder::fail_on_task_panic); otherwise any panic fails the
    /// run at once.
    ///
    /// ```
    /// use detsim::{FailureKind, OnUnseen};
    /// let program = || async {
    ///     drop(detsim::spawn(async { panic!("lost") })); // detached: nobody reads its error
    ///     detsim::yield_now().await;
    /// };
    /// let b = || detsim::Builder::new().fail_on_task_panic(false);
    /// let f = b().run(program()).unwrap_err();
    /// assert!(matches!(f.kind, FailureKind::Unobserved { .. }));
    /// assert!(f.to_string().contains("panicked and nobody read its error"), "{f}");
    /// assert!(b().on_unobserved_panic(OnUnseen::Warn).run(program()).is_ok());
    /// ```
    pub fn on_unobserved_panic(mut self, action: OnUnseen) -> Builder {
        self.config.unseen.panicked = action;
        self
    }

    /// What the end of a successful run does with a task still pending when the main future
    /// returned (asyncio's "Task was destroyed but it is pending!"); its future is dropped then.
    /// [`OnUnseen::Warn`] by default: listed in [`RunReport::unseen`]. A task whose cancellation
    /// was requested is never listed.
    ///
    /// ```
    /// use detsim::{FailureKind, OnUnseen, time::{sleep, Duration}};
    /// let f = detsim::Builder::new()
    ///     .on_pending_at_end(OnUnseen::Fail)
    ///     .run(async {
    ///         drop(detsim::spawn(sleep(Duration::from_secs(1))));
    ///     })
    ///     .unwrap_err();
    /// let FailureKind::Unobserved { tasks } = &f.kind else { panic!("{f}") };
    /// assert!(tasks[0].spawned_at.as_deref().unwrap().contains(".rs:"));
    /// ```
    pub fn on_pending_at_end(mut self, action: OnUnseen) -> Builder {
        self.config.unseen.pending = action;
        self
    }

    /// Records every event of the run (see [`crate::event`]).
    pub fn record(mut self) -> Builder {
        self.config.record = Some(usize::MAX);
        self
    }

    /// The watchdog's limit on the wall-clock time of one poll (default 5 s; `None` turns the
    /// watchdog off; `DETSIM_POLL_TIMEOUT` overrides, e.g. `30s`, `500ms` or `off`).
    ///
    /// detsim runs one task at a time and cannot preempt a poll: a task that loops without an
    /// `.await` or blocks its thread would hang the test silently. When one poll runs longer
    /// than this, detsim prints which task, at which step and simulated time, with the seed and
    /// the schedule that replay the run up to that poll, and exits the process with status 101
    /// (a poll that never returns cannot be unwound). Under nextest that fails the one test;
    /// under libtest it stops the test binary there. The wall clock only ever ends a run: it
    /// never changes a decision.
    ///
    /// ```
    /// use detsim::time::Duration;
    /// let n = detsim::Builder::new()
    ///     .poll_timeout(Some(Duration::from_secs(30)))
    ///     .run(async { 1 + 1 })
    ///     .unwrap();
    /// assert_eq!(n, 2);
    /// ```
    pub fn poll_timeout(mut self, limit: Option<std::time::Duration>) -> Builder {
        self.config.poll_timeout = limit;
        self
    }

    /// Records only the last `n` events (a ring buffer), bounding memory.
    pub fn record_last(mut self, n: usize) -> Builder {
        self.config.record = Some(n);
        self
    }

    /// Runs `main` to completion: its output, or the [`Failure`] that stopped the run.
    ///
    /// A schedule set with [`replay_schedule`](Builder::replay_schedule) is replayed.
    ///
    /// # Panics
    ///
    /// If called inside another detsim run (runs do not nest), and for settings that a single
    /// run cannot honour; see [`run_report`](Builder::run_report).
    #[track_caller]
    pub fn run<F: Future>(self, main: F) -> Result<F::Output, Failure> {
        self.run_report(main).output
    }

    /// Runs `main` and returns everything the run produced: output or failure, the decision log,
    /// the recorded events, the number of steps and the final simulated time.
    ///
    /// ```
    /// use detsim::scheduler::{Random, Replay};
    /// let body = || async {
    ///     let hs: Vec<_> = (0..3u64).map(|i| detsim::spawn(async move { i })).collect();
    ///     let mut order = Vec::new();
    ///     for h in hs { order.push(h.await.unwrap()); }
    ///     order
    /// };
    /// let report = detsim::Builder::new().seed(5).scheduler(Random::new()).run_report(body());
    /// // The decision log replays the run exactly.
    /// let again = detsim::Builder::new()
    ///     .scheduler(Replay::new(report.decisions.clone()))
    ///     .run_report(body());
    /// assert_eq!(again.decisions, report.decisions);
    /// ```
    ///
    /// A schedule set with [`replay_schedule`](Builder::replay_schedule) is replayed (see there
    /// for getting the full trace of a failure an exploration found).
    ///
    /// # Panics
    ///
    /// If called inside another detsim run; if both [`scheduler`](Builder::scheduler) and
    /// [`replay_schedule`](Builder::replay_schedule) are set (the schedule already fixes every
    /// decision); and if [`replay_seed`](Builder::replay_seed) is set: a seed names a schedule of
    /// an exploration's strategy, which a single run does not have, so replay it with
    /// [`explore`](Builder::explore) or [`check`](Builder::check), or replay the failure's
    /// schedule string with `replay_schedule`.
    #[track_caller]
    pub fn run_report<F: Future>(self, main: F) -> RunReport<F::Output> {
        if let Some(seed) = self.explore.replay_seed {
            panic!(
                "detsim: Builder::replay_seed({seed}) with run/run_report: a seed names a schedule \
                 of an exploration's strategy, and a single run has none. Replay it with \
                 Builder::explore or Builder::check, or replay the failure's schedule string \
                 (Found::shrunk) with Builder::replay_schedule"
            );
        }
        let scheduler: Box<dyn Scheduler> = match (self.scheduler, self.explore.replay_schedule) {
            (Some(s), Some(_)) => panic!(
                "detsim: Builder::scheduler({}) and Builder::replay_schedule together: the \
                 schedule already fixes every decision, so drop one of them",
                s.name()
            ),
            (None, Some(schedule)) => Box::new(Replay::new(schedule.decisions().to_vec())),
            (Some(s), None) => s,
            (None, None) => Box::new(Fifo::new()),
        };
        let (out, _) = run_once(self.config, scheduler, main);
        RunReport {
            output: out.output,
            decisions: out.decisions,
            trace: out.trace,
            steps: out.steps,
            end_time: out.end_time,
            unseen: out.unseen,
        }
    }
}

/// Everything one run produced; see [`Builder::run_report`].
#[derive(Debug)]
pub struct RunReport<T> {
    /// The main future's output, or the failure.
    pub output: Result<T, Failure>,
    /// The decision log: every task choice that had alternatives and every random value.
    pub decisions: Vec<Decision>,
    /// The events with the task and resource tables needed to render them (empty unless
    /// recording was on); see [`crate::trace`].
    pub trace: Trace,
    /// Steps taken.
    pub steps: u64,
    /// Simulated time when the run ended.
    pub end_time: Instant,
    /// Tasks that ended unseen and that the settings list without failing the run (see
    /// [`Builder::on_pending_at_end`] and [`Builder::on_unobserved_panic`]).
    pub unseen: Vec<UnobservedTask>,
}

/// Runs `main` once under the [`Fifo`] scheduler (asyncio's order) with seed 0, and returns its
/// output.
///
/// # Panics
///
/// With the full failure report if the run fails (deadlock, step limit, a panic in any task, a
/// wake from another thread).
///
/// ```
/// let n = detsim::run(async {
///     let h = detsim::spawn(async { 20 });
///     h.await.unwrap() + 1
/// });
/// assert_eq!(n, 21);
/// ```
#[track_caller]
pub fn run<F: Future>(main: F) -> F::Output {
    match Builder::new().run(main) {
        Ok(v) => v,
        Err(failure) => panic!("{failure}"),
    }
}

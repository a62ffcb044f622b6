//! The executor: one thread, one ready queue, one clock, one scheduler.
//!
//! # Structures
//!
//! * `tasks`: every task of the run, indexed by [`TaskId`] (spawn order, never reused). A slot
//!   holds the task's future and waker while it is alive; the main future lives on the run loop's
//!   stack as task 0.
//! * `ready`: the runnable tasks in FIFO order ([`ReadyQueue`]). A task is in it at most once
//!   (`queued` flag).
//! * `clock`: simulated time and the timers, ordered by (deadline, insertion).
//! * `decisions`: the decision log; `recorder`: the optional event log.
//!
//! # One step
//!
//! As asyncio's `_run_once`: at the start of an *iteration*, timers that are due are fired (their
//! wakers push tasks to the tail of the ready queue) and the iteration's length is fixed at the
//! queue's length. If nothing is runnable, the clock jumps to the earliest deadline first. Each
//! step then takes one task off the ready queue — the head when only one is runnable, otherwise the
//! one the [`Scheduler`] chooses, recorded as a [`Decision`] — and polls it once (or drops its
//! future, if it was cancelled).
//!
//! # Who may wake whom
//!
//! Any code running inside the run (a task's poll, a `Drop`, the timer phase) may wake any task of
//! the run through its waker; waking a queued or finished task does nothing. A waker invoked from
//! another OS thread never touches the run: it sets a flag, and the run stops with
//! [`FailureKind::ForeignWake`]. A waker of a finished run does nothing.
//!
//! # What must never happen
//!
//! No wall clock, no hash-order iteration, no addresses and no thread ids reach a decision, an
//! event or a report. No `RefCell` borrow of the core is held while user code runs (polls, drops,
//! wakers), so user code may call back into the runtime at any point.

mod builder;
mod callbacks;
mod cancel;
mod panic;

mod recorder;
mod report;
mod run;
mod spare;
mod unseen;
mod waker;
pub(crate) mod watchdog;

pub(crate) mod clock;

pub use builder::{Builder, RunReport, run};
use cancel::TaskCold;
pub(crate) use cancel::{AwaitLink, AwaitTarget, Awaited, CancelKind, TaskKind};
pub(crate) use clock::TimerKey;
use recorder::Recorder;
pub(crate) use run::run_once;
pub(crate) use spare::recycle_decisions;
pub use unseen::OnUnseen;
pub(crate) use unseen::UnseenPolicy;

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Waker};

use crate::base::Instant;
use crate::base::ready::ReadyQueue;
use crate::base::{Decision, Holders};
use crate::base::{JoinError, TaskId};
use crate::event::{BlockOn, Event, EventKind, Outcome, WakeSource};
use crate::failure::{BlockedTask, Failure, FailureKind, TaskRef};
use crate::scheduler::{ScheduleError, Scheduler, TaskChoice};
use crate::trace::{ResourceInfo as TraceResource, TaskInfo, Trace};
use clock::Clock;
use waker::{RtShared, TaskWaker};

scoped_tls::scoped_thread_local!(static CURRENT: Core);

/// The few facts the primitives' uncontended paths need, mirrored in a plain thread-local so that
/// they cost a load instead of a scoped-TLS look-up and a `RefCell` borrow of the core: the run's
/// id (0 outside a run), the running task, and whether events are recorded. Written only by the
/// run loop; reading it never changes a decision.
pub(crate) struct Fast {
    pub(crate) run: Cell<u64>,
    pub(crate) task: Cell<Option<TaskId>>,
    pub(crate) recording: Cell<bool>,
}

thread_local! {
    pub(crate) static FAST: Fast = const {
        Fast {
            run: Cell::new(0),
            task: Cell::new(None),
            recording: Cell::new(false),
        }
    };
}

/// Runs `f` with the current run's core.
///
/// # Panics
///
/// Outside a detsim run, with a message naming `api`.
pub(crate) fn with_core<R>(api: &str, f: impl FnOnce(&Core) -> R) -> R {
    if !CURRENT.is_set() {
        panic!(
            "{api} was called outside a detsim run. Call it from inside the future passed to \
             detsim::run, detsim::Builder::run or a detsim exploration."
        );
    }
    CURRENT.with(f)
}

/// Runs `f` with the current run's core, if there is one.
pub(crate) fn try_with_core<R>(f: impl FnOnce(&Core) -> R) -> Option<R> {
    if CURRENT.is_set() {
        Some(CURRENT.with(f))
    } else {
        None
    }
}

/// A type-erased task future.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

/// Where a task's outcome goes. The task's own future stores its value before returning; the
/// runtime settles the outcome when it marks the task finished, so a task that cancelled itself
/// and then returned ends cancelled (asyncio's `test_cancel_at_end`).
pub(crate) trait JoinSink {
    /// The task ended: `Ok` if it returned (its value is stored), else why it produced none.
    fn settle(&self, r: Result<(), JoinError>);
    /// Whether the task has ended.
    fn is_done(&self) -> bool;
    /// Why the task produced no value, once it has ended that way.
    fn peek_error(&self) -> Option<JoinError>;
    /// Someone read the outcome (asyncio clears `__log_traceback` in `result()`/`exception()`).
    fn mark_observed(&self);
    /// Whether anyone read the outcome.
    fn observed(&self) -> bool;
}

/// The main future's outcome, for handles to the main task (`detsim::task::current()`). Reused
/// by the next run on the thread when no handle outlived the run (see `spare`).
#[derive(Default)]
pub(crate) struct MainSink {
    pub(crate) done: Cell<bool>,
    error: RefCell<Option<JoinError>>,
}

impl MainSink {
    /// As new, for the next run (only when nothing outside the last run holds it).
    fn reset(&self) {
        self.done.set(false);
        *self.error.borrow_mut() = None;
    }
}

impl JoinSink for MainSink {
    fn settle(&self, r: Result<(), JoinError>) {
        self.done.set(true);
        *self.error.borrow_mut() = r.err();
    }

    fn is_done(&self) -> bool {
        self.done.get()
    }

    fn peek_error(&self) -> Option<JoinError> {
        self.error.borrow().clone()
    }

    fn mark_observed(&self) {}

    fn observed(&self) -> bool {
        true
    }
}

/// What a blocked task waits for, as the deadlock report shows it.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) enum WaitOn {
    /// Nothing recorded: a future from outside detsim.
    #[default]
    Unknown,
    Sleep(Instant),
    /// A sleep whose deadline saturated at [`Instant::MAX`]: the duration the program asked for
    /// (`None` for `sleep_until(Instant::MAX)`), so the report can say what was written.
    SleepForever(Option<std::time::Duration>),
    Join(TaskId),
    /// Watches a task's end without owning it (`shield`, `wait`): a cancellation of the waiting
    /// task does not follow this wait to the watched task.
    Watch(TaskId),
    /// An asyncio Future with no resource of its own (a `Promise`), whose await link a
    /// cancellation follows.
    Linked,
    /// A resource registered with [`Core::register_resource`].
    Resource(u32),
}

impl WaitOn {
    fn block_on(&self) -> BlockOn {
        match self {
            WaitOn::Unknown => BlockOn::Unknown,
            WaitOn::Sleep(t) => BlockOn::Timer(*t),
            WaitOn::SleepForever(_) => BlockOn::Forever,
            WaitOn::Join(t) | WaitOn::Watch(t) => BlockOn::Task(*t),
            WaitOn::Linked => BlockOn::Unknown,
            WaitOn::Resource(r) => BlockOn::Resource(*r),
        }
    }
}

/// A waitable resource, for reports: its kind, its name and the tasks holding it.
#[derive(Debug)]
pub(crate) struct ResourceInfo {
    pub(crate) kind: &'static str,
    pub(crate) name: Option<Rc<str>>,
    /// Shared with the primitive, which updates it on acquire and release without the core.
    pub(crate) holders: Rc<Holders>,
}

/// When a task panic fails the whole run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PanicPolicy {
    FailRun,
    JoinErrorOnly,
}

#[derive(Clone, Debug)]
pub(crate) struct Config {
    pub(crate) seed: u64,
    pub(crate) max_steps: u64,
    pub(crate) panic_policy: PanicPolicy,
    /// `None`: no recording; `Some(n)`: keep the last `n` events.
    pub(crate) record: Option<usize>,
    /// What the end of the run does with tasks that ended unseen.
    pub(crate) unseen: UnseenPolicy,
    /// The watchdog's limit on one poll (`None`: off); `DETSIM_POLL_TIMEOUT` overrides it.
    pub(crate) poll_timeout: Option<std::time::Duration>,
    /// The run is a schedule of an exploration, which `DETSIM_SEED`/`DETSIM_SCHEDULE` replay
    /// (the watchdog's report says how to replay either kind of run).
    pub(crate) explored: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            seed: 0,
            max_steps: 1_000_000,
            panic_policy: PanicPolicy::FailRun,
            record: None,
            unseen: UnseenPolicy::default(),
            poll_timeout: Some(watchdog::DEFAULT_POLL_TIMEOUT),
            explored: false,
        }
    }
}

struct TaskSlot {
    name: Option<Rc<str>>,
    parent: Option<TaskId>,
    run: Option<(BoxFuture, Waker)>,
    join: Option<Rc<dyn JoinSink>>,
    done: bool,
    queued: bool,
    cancel: bool,
    waiting: WaitOn,
    /// Cancellation details, allocated on the first cancellation request or await link.
    cold: Option<Box<TaskCold>>,
    /// Where it was spawned (`None` for the main future), for the report of unseen tasks.
    spawned_at: Option<&'static Location<'static>>,
    /// A user's task, detsim's own machinery, or a task standing for an asyncio Future.
    kind: TaskKind,
}

pub(crate) const MAIN: TaskId = TaskId::from_u32(0);

/// The state of one run. Lives on the run loop's stack; reached through `CURRENT`.
pub(crate) struct Core {
    shared: Arc<RtShared>,
    /// `wakers[i]` wakes task `i`; reused across runs with the shared state (see `spare`).
    wakers: RefCell<Vec<Arc<TaskWaker>>>,
    config: Config,
    scheduler: RefCell<Box<dyn Scheduler>>,
    tasks: RefCell<Vec<TaskSlot>>,
    ready: RefCell<ReadyQueue>,
    clock: RefCell<Clock>,
    decisions: RefCell<Vec<Decision>>,
    recorder: Option<RefCell<Recorder>>,
    resources: RefCell<Vec<ResourceInfo>>,
    current: Cell<Option<TaskId>>,
    previous: Cell<Option<TaskId>>,
    waking_from_timer: Cell<bool>,
    step: Cell<u64>,
    iteration_left: Cell<usize>,
    shutting_down: Cell<bool>,
    failure: RefCell<Option<FailureKind>>,
    /// Panicked tasks' outcomes, checked at the end for a reader (see `unseen`).
    panicked: RefCell<Vec<(TaskId, Rc<dyn JoinSink>)>>,
    /// `failure.is_some()`, read once per step without a borrow.
    has_failed: Cell<bool>,
    /// What the watchdog thread sees of this run (written only, never read, by the run).
    watch: Rc<watchdog::Watch>,
    /// The main task's outcome sink (also in its slot's `join`).
    main_sink: Rc<MainSink>,
}

/// A panic payload used to unwind a task when the scheduler refuses to produce a random value.
struct SchedulerAbort;

impl Core {
    fn new(config: Config, scheduler: Box<dyn Scheduler>) -> Core {
        let recorder = config.record.map(|n| RefCell::new(Recorder::new(n)));
        let limit = watchdog::env_limit().unwrap_or(config.poll_timeout);
        let watch = watchdog::Watch::begin_run(config.seed, limit, config.explored);
        let mut spare = spare::take();
        let shared = match spare.shared.take() {
            Some(s) => {
                s.renew();
                s
            }
            None => {
                spare.wakers.clear();
                RtShared::new()
            }
        };
        if spare.tasks.capacity() == 0 {
            spare.tasks.reserve(8);
            spare.ready = ReadyQueue::with_capacity(16);
        }
        if spare.decisions.capacity() == 0 {
            spare.decisions.reserve(64);
        }
        let main_sink = match spare.main_sink.take() {
            Some(m) => {
                m.reset();
                m
            }
            None => Rc::default(),
        };
        Core {
            shared,
            wakers: RefCell::new(spare.wakers),
            config,
            scheduler: RefCell::new(scheduler),
            tasks: RefCell::new(spare.tasks),
            ready: RefCell::new(spare.ready),
            clock: RefCell::new(Clock::default()),
            decisions: RefCell::new(spare.decisions),
            recorder,
            resources: RefCell::new(spare.resources),
            current: Cell::new(None),
            previous: Cell::new(None),
            waking_from_timer: Cell::new(false),
            step: Cell::new(0),
            iteration_left: Cell::new(0),
            shutting_down: Cell::new(false),
            failure: RefCell::new(None),
            panicked: RefCell::new(Vec::new()),
            has_failed: Cell::new(false),
            watch,
            main_sink,
        }
    }

    // ----- events -------------------------------------------------------------------------

    #[inline]
    pub(crate) fn recording(&self) -> bool {
        self.recorder.is_some()
    }

    #[inline]
    pub(crate) fn emit(&self, kind: EventKind) {
        if let Some(rec) = &self.recorder {
            self.emit_slow(rec, kind);
        }
    }

    /// Records one event. Inlined into every `emit` site on purpose: built in place, the event is
    /// written straight into the buffer, where an out-of-line (`#[cold]`) call copied it through
    /// the stack twice and made recording a yield-heavy run ~25% slower. With recording off the
    /// site is still one predictable branch.
    #[inline(always)]
    fn emit_slow(&self, rec: &RefCell<Recorder>, kind: EventKind) {
        let ev = Event {
            step: self.step.get(),
            time: self.now(),
            task: self.current.get(),
            kind,
        };
        rec.borrow_mut().push(ev);
    }

    // ----- time ---------------------------------------------------------------------------

    /// The time and step for log lines, without panicking if the clock is borrowed (used by
    /// `trace::log`, which exists only with the `logging` feature).
    #[cfg(feature = "logging")]
    pub(crate) fn log_stamp(&self) -> Option<(Instant, u64)> {
        let now = self.clock.try_borrow().ok()?.now();
        Some((now, self.step.get()))
    }

    pub(crate) fn now(&self) -> Instant {
        self.clock.borrow().now()
    }

    /// Moves the clock forward by `d` at once (tokio's test-util `advance`); timers now due fire
    /// at the start of the next iteration, in (deadline, insertion) order.
    pub(crate) fn advance_clock(&self, d: std::time::Duration) -> Instant {
        let to = self.now().saturating_add(d);
        self.clock.borrow_mut().advance_to(to);
        self.emit(EventKind::ClockAdvance { to });
        to
    }

    pub(crate) fn insert_timer(&self, deadline: Instant, waker: Waker) -> TimerKey {
        let key = self.clock.borrow_mut().insert(deadline, waker);
        self.emit(EventKind::TimerSet { deadline });
        key
    }

    pub(crate) fn timer_pending(&self, key: TimerKey) -> bool {
        self.clock.borrow().is_pending(key)
    }

    pub(crate) fn update_timer_waker(&self, key: TimerKey, waker: &Waker) {
        self.clock.borrow_mut().update_waker(key, waker);
    }

    pub(crate) fn cancel_timer(&self, key: TimerKey) {
        // The removed waker is dropped after the borrow ends.
        let _ = self.clock.borrow_mut().cancel(key);
    }

    // ----- tasks --------------------------------------------------------------------------

    pub(crate) fn current_task(&self) -> Option<TaskId> {
        self.current.get()
    }

    /// Sets the running task, here and in [`FAST`].
    #[inline]
    fn set_current(&self, t: Option<TaskId>) {
        self.current.set(t);
        FAST.with(|f| f.task.set(t));
    }

    pub(crate) fn task_name(&self, id: TaskId) -> Option<Rc<str>> {
        if id == MAIN {
            return Some(Rc::from("main"));
        }
        self.tasks
            .borrow()
            .get(id.index())
            .and_then(|s| s.name.clone())
    }

    pub(crate) fn task_ref(&self, id: TaskId) -> TaskRef {
        TaskRef {
            id,
            name: self.task_name(id).map(|n| n.to_string()),
        }
    }

    #[allow(dead_code)] // used by the task API (issue 5)
    pub(crate) fn is_done(&self, id: TaskId) -> bool {
        self.tasks.borrow()[id.index()].done
    }

    /// Adds a task; it is queued at the tail and first runs when the scheduler picks it.
    pub(crate) fn spawn(
        &self,
        name: Option<Rc<str>>,
        fut: BoxFuture,
        join: Rc<dyn JoinSink>,
        at: &'static Location<'static>,
        kind: TaskKind,
    ) -> TaskId {
        let mut tasks = self.tasks.borrow_mut();
        let id = TaskId::from_u32(u32::try_from(tasks.len()).expect("more than 2^32 tasks"));
        if self.shutting_down.get() {
            // Spawned from a Drop while the run is being torn down: it never runs.
            tasks.push(TaskSlot {
                name,
                parent: self.current.get(),
                run: None,
                join: None,
                done: true,
                queued: false,
                cancel: true,
                waiting: WaitOn::Unknown,
                cold: None,
                spawned_at: Some(at),
                kind,
            });
            drop(tasks);
            drop(fut);
            join.settle(Err(JoinError::cancelled()));
            return id;
        }
        let waker = self.task_waker(id);
        tasks.push(TaskSlot {
            name,
            parent: self.current.get(),
            run: Some((fut, waker)),
            join: Some(join),
            done: false,
            queued: true,
            cancel: false,
            waiting: WaitOn::Unknown,
            cold: None,
            spawned_at: Some(at),
            kind,
        });
        drop(tasks);
        self.ready.borrow_mut().push_back(id);
        self.emit(EventKind::Spawn { child: id });
        id
    }

    /// Task `id`'s waker: the one kept from an earlier run on this thread, or a new one (kept for
    /// the next run if `id` is among the first [`spare::KEEP_TASKS`]).
    fn task_waker(&self, id: TaskId) -> Waker {
        if id.index() >= spare::KEEP_TASKS {
            return Waker::from(Arc::new(TaskWaker::new(id, self.shared.clone())));
        }
        let mut ws = self.wakers.borrow_mut();
        while ws.len() <= id.index() {
            let t = TaskId::from_u32(ws.len() as u32);
            ws.push(Arc::new(TaskWaker::new(t, self.shared.clone())));
        }
        Waker::from(ws[id.index()].clone())
    }

    /// Hands this finished run's memory back for the next run on this thread, and returns what
    /// the caller still needs.
    fn into_spare(self) -> (Box<dyn Scheduler>, Config) {
        let Core {
            shared,
            wakers,
            config,
            scheduler,
            tasks,
            ready,
            decisions,
            resources,
            main_sink,
            ..
        } = self;
        spare::put(spare::Spare {
            shared: Some(shared),
            wakers: wakers.into_inner(),
            tasks: tasks.into_inner(),
            ready: ready.into_inner(),
            decisions: decisions.into_inner(),
            resources: resources.into_inner(),
            main_sink: Some(main_sink),
        });
        (scheduler.into_inner(), config)
    }

    /// Emits `Yield` if the task woke itself, otherwise `Block` with what it waits for.
    #[inline]
    fn emit_pending(&self, id: TaskId, yielded: bool) {
        if self.recording() {
            self.emit_pending_slow(id, yielded);
        }
    }

    #[inline(never)]
    fn emit_pending_slow(&self, id: TaskId, yielded: bool) {
        if yielded {
            self.emit(EventKind::Yield);
        } else {
            let on = self.tasks.borrow()[id.index()].waiting.block_on();
            self.emit(EventKind::Block { on });
        }
    }

    /// Makes `id` runnable, unless it is queued already or finished.
    pub(crate) fn wake(&self, id: TaskId) {
        let mut tasks = self.tasks.borrow_mut();
        let Some(slot) = tasks.get_mut(id.index()) else {
            return;
        };
        if slot.done || slot.queued {
            return;
        }
        slot.queued = true;
        drop(tasks);
        self.ready.borrow_mut().push_back(id);
        if self.recording() {
            let by = if self.waking_from_timer.get() {
                WakeSource::Timer
            } else {
                match self.current.get() {
                    Some(t) => WakeSource::Task(t),
                    None => WakeSource::Runtime,
                }
            };
            self.emit(EventKind::Wake { target: id, by });
        }
    }

    /// Requests cancellation of `id` (asyncio's `Task.cancel()`, travelling down the await
    /// chain): returns `false` if it has finished. See [`cancel`].
    pub(crate) fn cancel(&self, id: TaskId) -> bool {
        self.request_cancel(id, None, CancelKind::Cancel)
    }

    /// The outcome sink of `id` (the main task's included), for `detsim::task::current()`.
    pub(crate) fn join_sink(&self, id: TaskId) -> Option<Rc<dyn JoinSink>> {
        self.tasks
            .borrow()
            .get(id.index())
            .and_then(|s| s.join.clone())
    }

    /// Records what the current task is about to wait for (cleared when it is next polled).
    pub(crate) fn set_waiting(&self, on: WaitOn) {
        if let Some(id) = self.current.get() {
            self.tasks.borrow_mut()[id.index()].waiting = on;
        }
    }

    /// Distinguishes this run from every other run in the process (never reported).
    pub(crate) fn run_id(&self) -> u64 {
        self.shared.id()
    }

    /// Whether cancellation of `id` was requested and its future is not yet dropped: asyncio's
    /// state where `Task.cancel()` has already cancelled the future the task waits on, though the
    /// task has not run since, which primitives must treat as a cancelled waiter.
    pub(crate) fn cancel_requested(&self, id: TaskId) -> bool {
        self.tasks.borrow().get(id.index()).is_some_and(|s| {
            !s.done && (s.cancel || s.cold.as_ref().is_some_and(|c| c.must_cancel))
        })
    }

    // ----- resources ----------------------------------------------------------------------

    /// Registers a waitable resource for reports; returns its id. `holders` is the primitive's
    /// own list of the tasks holding it, which the deadlock report reads.
    pub(crate) fn register_resource(
        &self,
        kind: &'static str,
        name: Option<Rc<str>>,
        holders: Rc<Holders>,
    ) -> u32 {
        let mut rs = self.resources.borrow_mut();
        rs.push(ResourceInfo {
            kind,
            name,
            holders,
        });
        (rs.len() - 1) as u32
    }

    /// Records a resource operation as an event (the primitive keeps its holders itself).
    pub(crate) fn resource_event(&self, resource: u32, op: &'static str) {
        self.emit(EventKind::Resource { resource, op });
    }

    // ----- randomness ---------------------------------------------------------------------

    /// Draws a random value for user code from the scheduler and records it.
    pub(crate) fn draw_random(&self) -> u64 {
        let r = self.scheduler.borrow_mut().next_u64();
        match r {
            Ok(v) => {
                let d = Decision::Random(v);
                self.decisions.borrow_mut().push(d);
                self.watch.random(self.step.get(), v);
                self.emit(EventKind::Decision(d));
                v
            }
            Err(e) => {
                self.fail(FailureKind::Scheduler {
                    message: e.to_string(),
                });
                std::panic::resume_unwind(Box::new(SchedulerAbort));
            }
        }
    }

    // ----- the run loop -------------------------------------------------------------------

    fn fail(&self, kind: FailureKind) {
        let mut f = self.failure.borrow_mut();
        if f.is_none() {
            *f = Some(kind);
            self.has_failed.set(true);
        }
    }

    #[inline]
    fn failed(&self) -> bool {
        self.has_failed.get()
    }

    /// Fires every due timer, in (deadline, insertion) order.
    #[inline]
    fn fire_due_timers(&self) {
        if self.clock.borrow().has_timers() {
            self.fire_due_timers_slow();
        }
    }

    #[inline(never)]
    fn fire_due_timers_slow(&self) {
        loop {
            let due = self.clock.borrow_mut().pop_due();
            let Some((deadline, waker)) = due else { break };
            self.emit(EventKind::TimerFire { deadline });
            self.waking_from_timer.set(true);
            waker.wake();
            self.waking_from_timer.set(false);
        }
    }

    /// Starts a new iteration: fires due timers, moving the clock first if nothing can run.
    /// Returns `false` when nothing can ever run again.
    fn begin_iteration(&self) -> bool {
        self.fire_due_timers();
        if self.ready.borrow().is_empty() {
            let next = self.clock.borrow().next_deadline();
            match next {
                Some(at) => {
                    self.clock.borrow_mut().advance_to(at);
                    self.watch.time(at);
                    self.emit(EventKind::ClockAdvance { to: at });
                    self.fire_due_timers();
                }
                None => return false,
            }
        }
        self.iteration_left.set(self.ready.borrow().len());
        true
    }

    /// Picks the next task, asking the scheduler when there is a choice (then `true`). `None`
    /// when the scheduler failed, which is then the run's failure. (An `Option` of 8 bytes comes
    /// back in a register; a `Result` carrying the error's `String` came back through memory.)
    #[inline]
    fn pick(&self) -> Option<(TaskId, bool)> {
        let mut ready = self.ready.borrow_mut();
        if ready.len() == 1 {
            return Some((ready.remove(0), false));
        }
        drop(ready);
        self.choose()
    }

    /// [`pick`](Self::pick) among several runnable tasks: the scheduler's decision, recorded.
    #[inline(never)]
    fn choose(&self) -> Option<(TaskId, bool)> {
        let mut ready = self.ready.borrow_mut();
        let n = ready.len();
        let choice = TaskChoice {
            runnable: ready.view(),
            step: self.step.get() + 1,
            previous: self.previous.get(),
            now: self.clock.borrow().now(),
        };
        let mut sched = self.scheduler.borrow_mut();
        let i = match sched.choose_task(&choice) {
            Ok(i) if i < n => i,
            Ok(i) => {
                let e = ScheduleError::new(format!(
                    "scheduler {} chose index {i}, but only {n} tasks are runnable; a Scheduler \
                     must return an index below TaskChoice::runnable.len()",
                    sched.name()
                ));
                self.scheduler_failed(e);
                return None;
            }
            Err(e) => {
                self.scheduler_failed(e);
                return None;
            }
        };
        drop(sched);
        // Remove first and record the task it returns: one look-up of index `i`, not two.
        let task = ready.remove(i);
        drop(ready);
        let d = Decision::Task {
            task,
            index: i as u32,
            runnable: n as u32,
        };
        self.decisions.borrow_mut().push(d);
        self.emit(EventKind::Decision(d));
        Some((task, true))
    }

    #[cold]
    #[inline(never)]
    fn scheduler_failed(&self, e: ScheduleError) {
        self.fail(FailureKind::Scheduler {
            message: e.to_string(),
        });
    }

    /// Drives the run until the main future finishes or the run fails.
    fn run_loop<F: Future>(&self, mut main: Pin<&mut F>) -> Option<F::Output> {
        let main_waker = self.task_waker(MAIN);
        let mut at = self.watch.cursor();
        loop {
            if self.shared.foreign.load(Ordering::Relaxed) {
                let t = TaskId::from_u32(self.shared.foreign_task.load(Ordering::Relaxed));
                self.fail(FailureKind::ForeignWake {
                    task: self.task_ref(t),
                });
            }
            if self.failed() {
                return None;
            }
            if self.iteration_left.get() == 0 && !self.begin_iteration() {
                self.fail(FailureKind::Deadlock {
                    blocked: self.deadlock_report(),
                });
                return None;
            }
            let (id, chosen) = self.pick()?;
            self.iteration_left
                .set(self.iteration_left.get().saturating_sub(1));
            let step = self.step.get() + 1;
            if step > self.config.max_steps {
                let mut runnable = vec![self.task_ref(id)];
                runnable.extend(self.runnable_refs());
                self.fail(FailureKind::StepLimit {
                    max_steps: self.config.max_steps,
                    runnable,
                });
                return None;
            }
            self.step.set(step);
            at.poll_started(step, id, chosen);
            if id == MAIN {
                let out = if tracing::level_enabled!(tracing::Level::INFO) {
                    let _entered = self.task_span(MAIN).entered();
                    self.poll_main(main.as_mut(), &main_waker)
                } else {
                    self.poll_main(main.as_mut(), &main_waker)
                };
                at.poll_done(step);
                if out.is_some() {
                    return out;
                }
            } else {
                if tracing::level_enabled!(tracing::Level::INFO) {
                    self.poll_task_in_span(id);
                } else {
                    self.poll_task(id);
                }
                at.poll_done(step);
            }
        }
    }

    /// The `tracing` span a poll of `id` runs in: `task{id=3 name="reader"}`, entered by the
    /// run loop only when tracing's global level hint enables `INFO` (one atomic load), so that
    /// a run without a subscriber builds no span at all. The name is looked up for an enabled
    /// span only.
    #[inline(never)]
    fn task_span(&self, id: TaskId) -> tracing::Span {
        let span = tracing::info_span!("task", id = id.as_u32(), name = tracing::field::Empty);
        if !span.is_disabled() {
            if let Some(n) = self.task_name(id) {
                span.record("name", &*n);
            }
        }
        span
    }

    #[inline(never)]
    fn poll_task_in_span(&self, id: TaskId) {
        let _entered = self.task_span(id).entered();
        self.poll_task(id);
    }

    fn poll_main<F: Future>(&self, main: Pin<&mut F>, waker: &Waker) -> Option<F::Output> {
        let cancelled = {
            let mut tasks = self.tasks.borrow_mut();
            tasks[MAIN.index()].queued = false;
            tasks[MAIN.index()].waiting = WaitOn::Unknown;
            tasks[MAIN.index()].cancel
        };
        if cancelled {
            self.set_current(Some(MAIN));
            self.emit(EventKind::Poll);
            self.main_cancelled();
            self.set_current(None);
            return None;
        }
        self.set_current(Some(MAIN));
        self.emit(EventKind::Poll);
        let mut cx = Context::from_waker(waker);
        let res = panic::catch_user(|| main.poll(&mut cx));
        let out = match res {
            Ok(Poll::Ready(v)) => {
                let (join, cancelled) = {
                    let mut tasks = self.tasks.borrow_mut();
                    let slot = &mut tasks[MAIN.index()];
                    slot.done = true;
                    (slot.join.take(), slot.cancel)
                };
                if cancelled {
                    // It cancelled itself and then returned: it ends cancelled.
                    drop(v);
                    self.tasks.borrow_mut()[MAIN.index()].join = join;
                    self.main_cancelled();
                    None
                } else {
                    if let Some(j) = join {
                        j.settle(Ok(()));
                    }
                    self.emit(EventKind::Complete {
                        outcome: Outcome::Finished,
                    });
                    Some(v)
                }
            }
            Ok(Poll::Pending) => {
                let yielded = self.tasks.borrow()[MAIN.index()].queued;
                self.emit_pending(MAIN, yielded);
                None
            }
            Err(p) => {
                self.on_panic(MAIN, p);
                None
            }
        };
        self.set_current(None);
        self.previous.set(Some(MAIN));
        out
    }

    fn poll_task(&self, id: TaskId) {
        let (run, cancel) = {
            let mut tasks = self.tasks.borrow_mut();
            let slot = &mut tasks[id.index()];
            slot.queued = false;
            slot.waiting = WaitOn::Unknown;
            (slot.run.take(), slot.cancel)
        };
        let Some((mut fut, waker)) = run else {
            return;
        };
        self.set_current(Some(id));
        self.emit(EventKind::Poll);
        if cancel {
            let dropped = panic::catch_user(move || drop(fut));
            match dropped {
                Ok(()) => self.finish(id, Outcome::Cancelled),
                Err(p) => self.on_panic(id, p),
            }
        } else {
            let mut cx = Context::from_waker(&waker);
            let res = panic::catch_user(|| fut.as_mut().poll(&mut cx));
            match res {
                Ok(Poll::Pending) => {
                    let mut tasks = self.tasks.borrow_mut();
                    let slot = &mut tasks[id.index()];
                    // The slot is empty: its future was taken above, and nothing else fills a
                    // slot but `spawn`, which makes a new one. Forgetting the (empty) old value
                    // spares the drop code a plain assignment would run.
                    let old = slot.run.replace((fut, waker));
                    debug_assert!(old.is_none(), "a polled task's slot was refilled");
                    std::mem::forget(old);
                    let requeue = slot.cancel && !slot.queued;
                    let yielded = slot.queued;
                    drop(tasks);
                    self.emit_pending(id, yielded);
                    if requeue {
                        // Cancelled itself during its step: its future is dropped next time.
                        self.wake(id);
                    }
                }
                Ok(Poll::Ready(())) => {
                    drop(fut);
                    self.finish(id, Outcome::Finished);
                }
                Err(p) => {
                    let dropped = panic::catch_user(move || drop(fut));
                    if let Err(p2) = dropped {
                        drop(p2);
                    }
                    self.on_panic(id, p);
                }
            }
        }
        self.set_current(None);
        self.previous.set(Some(id));
    }

    fn on_panic(&self, id: TaskId, p: panic::Caught) {
        if p.is_scheduler_abort() {
            // The failure was recorded where the scheduler refused.
            if id != MAIN {
                self.finish(id, Outcome::Cancelled);
            }
            return;
        }
        let message = p.message.clone();
        if id != MAIN {
            self.finish(id, Outcome::Panicked(Box::new(message.clone())));
        } else {
            self.emit(EventKind::Complete {
                outcome: Outcome::Panicked(Box::new(message.clone())),
            });
        }
        if id == MAIN || self.config.panic_policy == PanicPolicy::FailRun {
            self.fail(FailureKind::Panic {
                task: self.task_ref(id),
                message,
                location: p.location,
            });
        }
    }

    /// Marks `id` finished and settles its join handle.
    fn finish(&self, id: TaskId, mut outcome: Outcome) {
        let (join, was_queued, message, kind) = {
            let mut tasks = self.tasks.borrow_mut();
            let slot = &mut tasks[id.index()];
            slot.done = true;
            slot.run = None;
            let q = slot.queued;
            slot.queued = false;
            if slot.cancel && matches!(outcome, Outcome::Finished) {
                // It cancelled itself and then returned: it ends cancelled, its value discarded
                // (asyncio's `_must_cancel` checked when the coroutine returns).
                outcome = Outcome::Cancelled;
            }
            let message = match &outcome {
                Outcome::Cancelled => slot.cold.as_mut().and_then(|c| c.message.take()),
                _ => None,
            };
            (slot.join.take(), q, message, slot.kind)
        };
        if was_queued {
            // It woke itself and then finished in the same step: take the stale entry out.
            let mut ready = self.ready.borrow_mut();
            if let Some(i) = ready.view().position(id) {
                ready.remove(i);
                self.iteration_left
                    .set(self.iteration_left.get().min(ready.len()));
            }
        }
        if let Some(join) = join {
            match &outcome {
                Outcome::Finished => join.settle(Ok(())),
                Outcome::Cancelled => join.settle(Err(JoinError::cancelled_with(message))),
                Outcome::Panicked(m) => {
                    join.settle(Err(JoinError::panicked(String::clone(m))));
                    self.note_panicked(id, kind, &join);
                }
            }
        }
        self.emit(EventKind::Complete { outcome });
    }

    /// Drops every task still alive, in id order, with the runtime still current so that their
    /// `Drop` code may release locks and wake others (those wakes no longer run anything).
    fn shutdown(&self) {
        self.shutting_down.set(true);
        if self.recording() && self.tasks.borrow().iter().skip(1).any(|s| !s.done) {
            self.emit(EventKind::Shutdown);
        }
        let mut i = 1;
        loop {
            let run = {
                let mut tasks = self.tasks.borrow_mut();
                if i >= tasks.len() {
                    break;
                }
                let slot = &mut tasks[i];
                slot.done = true;
                slot.join = None;
                slot.run.take()
            };
            if let Some((fut, waker)) = run {
                self.set_current(Some(TaskId::from_u32(i as u32)));
                let r = panic::catch_user(move || drop(fut));
                drop(waker);
                if let Err(p) = r {
                    if !p.is_scheduler_abort() {
                        self.fail(FailureKind::Panic {
                            task: self.task_ref(TaskId::from_u32(i as u32)),
                            message: format!(
                                "while being dropped at the end of the run: {}",
                                p.message
                            ),
                            location: p.location,
                        });
                    }
                }
                self.set_current(None);
            }
            i += 1;
        }
        self.ready.borrow_mut().clear();
        // Drop the pending timers (their wakers) after the borrow ends; the clock keeps its time,
        // which the report and `RunReport::end_time` read after shutdown.
        if self.clock.borrow().has_timers() {
            let timers = self.clock.borrow_mut().take_timers();
            drop(timers);
        }
    }
}

/// How a resource operation changes its holders.
#[derive(Clone, Copy, Debug)]
pub(crate) enum HolderChange {
    /// No change.
    None,
    /// The current task now holds it.
    Add,
    /// This task no longer holds it.
    Remove(TaskId),
}

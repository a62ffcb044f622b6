//! One run from start to end: set the run up, drive it, tear it down, and collect what it produced.

use super::*;

/// Everything one run produced.
pub(crate) struct RunOutcome<T> {
    pub(crate) output: Result<T, Failure>,
    pub(crate) decisions: Vec<Decision>,
    pub(crate) trace: Trace,
    pub(crate) steps: u64,
    pub(crate) end_time: Instant,
    /// Tasks that ended unseen, listed by the run's settings (failing ones are in `output`).
    pub(crate) unseen: Vec<crate::failure::UnobservedTask>,
}

/// The main task's name, shared by every run on this thread.
fn main_name() -> Rc<str> {
    thread_local! {
        static MAIN_NAME: Rc<str> = Rc::from("main");
    }
    MAIN_NAME.with(Rc::clone)
}

/// Runs `main` once under `scheduler` and returns what happened, with the scheduler for reuse.
#[track_caller]
pub(crate) fn run_once<F: Future>(
    config: Config,
    mut scheduler: Box<dyn Scheduler>,
    main: F,
) -> (RunOutcome<F::Output>, Box<dyn Scheduler>) {
    if CURRENT.is_set() {
        panic!(
            "a detsim run was started inside another detsim run. Runs cannot nest: spawn a task \
             with detsim::spawn instead, or start the second run after the first returns."
        );
    }
    panic::install_hook();
    scheduler.begin_run(config.seed);
    let core = Core::new(config, scheduler);
    core.ready.borrow_mut().push_back(MAIN);
    core.tasks.borrow_mut().push(TaskSlot {
        name: Some(main_name()),
        parent: None,
        run: None,
        join: None,
        done: false,
        queued: true,
        cancel: false,
        waiting: WaitOn::Unknown,
        cold: None,
        spawned_at: None,
        kind: TaskKind::User,
    });
    core.tasks.borrow_mut()[MAIN.index()].join = Some(core.main_sink.clone());
    // On the stack, dropped in place (`set(None)`) with the runtime current.
    let mut main = std::pin::pin!(Some(main));
    /// Clears [`FAST`] when the run ends, however it ends.
    struct FastGuard;
    impl Drop for FastGuard {
        fn drop(&mut self) {
            FAST.with(|f| {
                f.run.set(0);
                f.task.set(None);
                f.recording.set(false);
            });
        }
    }
    FAST.with(|f| {
        f.run.set(core.shared.id());
        f.task.set(None);
        f.recording.set(core.recording());
    });
    let fast_guard = FastGuard;
    let mut pending = Vec::new();
    let output = CURRENT.set(&core, || {
        let out = core.run_loop(main.as_mut().as_pin_mut().expect("the main future"));
        if out.is_some() && !core.failed() {
            pending = core.pending_at_end();
        }
        if matches!(
            &*core.failure.borrow(),
            Some(FailureKind::MainCancelled { .. })
        ) {
            // asyncio: the cancelled main task unwinds before `asyncio.run` cancels the rest.
            core.set_current(Some(MAIN));
            let r = panic::catch_user(|| main.set(None));
            core.set_current(None);
            if let Err(p) = r {
                if !p.is_scheduler_abort() {
                    *core.failure.borrow_mut() = Some(FailureKind::Panic {
                        task: core.task_ref(MAIN),
                        message: format!("while being cancelled: {}", p.message),
                        location: p.location,
                    });
                }
            }
        }
        core.shutdown();
        out
    });
    // Drop the main future with the runtime still current, so its Drop code can reach detsim.
    CURRENT.set(&core, || {
        core.set_current(Some(MAIN));
        let r = panic::catch_user(|| main.set(None));
        core.set_current(None);
        drop(fast_guard);
        if let Err(p) = r {
            if !p.is_scheduler_abort() && output.is_some() {
                core.fail(FailureKind::Panic {
                    task: core.task_ref(MAIN),
                    message: p.message,
                    location: p.location,
                });
            }
        }
    });
    core.watch.end_run();
    core.shared.finished.store(true, Ordering::Relaxed);
    if output.is_some() && !core.failed() {
        core.check_log_used_up();
    }
    let (unseen_failure, unseen) = if output.is_some() && !core.failed() {
        core.judge_unseen(pending)
    } else {
        (None, Vec::new())
    };
    if let Some(kind) = unseen_failure {
        core.fail(kind);
    }
    let decisions = core.decisions.take();
    let events = core
        .recorder
        .as_ref()
        .map(|r| r.replace(Recorder::Full(Vec::new())).into_events())
        .unwrap_or_default();
    let trace = core.trace(events);
    let steps = core.step.get();
    let end_time = core.clock.borrow().now();
    let failure = core.failure.take();
    let (mut scheduler, config) = core.into_spare();
    let failed = failure.is_some() || output.is_none();
    scheduler.end_run(&decisions, failed);
    let output = match (output, failure) {
        (Some(v), None) => Ok(v),
        (_, kind) => Err(Failure {
            kind: kind.unwrap_or(FailureKind::Scheduler {
                message: "the run stopped without a result".into(),
            }),
            seed: config.seed,
            scheduler: scheduler.name(),
            decisions: decisions.clone(),
            steps,
            time: end_time,
            trace: trace.clone(),
        }),
    };
    (
        RunOutcome {
            output,
            decisions,
            trace,
            steps,
            end_time,
            unseen,
        },
        scheduler,
    )
}

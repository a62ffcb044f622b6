//! Failures the runtime detects itself, and misuse that must give a clear message, never a hang.

use std::cell::RefCell;
use std::rc::Rc;

use detsim::scheduler::{Replay, ScheduleError, Scheduler, TaskChoice};
use detsim::time::{Duration, Instant, now, sleep};
use detsim::{Builder, FailureKind, spawn, yield_now};

fn catch_panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let err = std::panic::catch_unwind(f).expect_err("expected a panic");
    err.downcast_ref::<String>()
        .cloned()
        .or_else(|| err.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn deadlock_lists_every_blocked_task() {
    let f = Builder::new()
        .seed(4)
        .run(async {
            let lock = Rc::new(futures::lock::Mutex::new(()));
            let _held = lock.lock().await;
            let l2 = lock.clone();
            let waiter = detsim::task::Builder::new()
                .name("waiter")
                .spawn(async move {
                    let _g = l2.lock().await;
                });
            waiter.await.unwrap();
        })
        .unwrap_err();
    let FailureKind::Deadlock { blocked } = &f.kind else {
        panic!("expected a deadlock, got {f}");
    };
    assert_eq!(blocked.len(), 2);
    let report = f.to_string();
    assert!(
        report.contains("task 0 \"main\" waits for task 1 \"waiter\" to finish\n"),
        "{report}"
    );
    assert!(
        report.contains("task 1 \"waiter\" waits for a future outside detsim"),
        "{report}"
    );
    assert!(report.contains("seed: 4"), "{report}");
}

#[test]
fn sleep_forever_is_a_deadlock_not_a_584_year_jump() {
    let f = Builder::new()
        .run(async {
            sleep(Duration::MAX).await;
        })
        .unwrap_err();
    let report = f.to_string();
    assert!(report.contains("a sleep that never ends"), "{report}");
    assert_eq!(f.time, Instant::ZERO);
}

#[test]
fn a_deadlock_after_a_sleep_reports_the_time_it_happened() {
    // The clock used to be reset at shutdown, before the report read it: "simulated time 0s".
    let report = Builder::new().run_report(async {
        sleep(Duration::from_secs(5)).await;
        let never = detsim::sync::Event::new();
        never.wait().await;
    });
    let f = report.output.unwrap_err();
    assert!(matches!(f.kind, FailureKind::Deadlock { .. }), "{f}");
    assert_eq!(f.time, Instant::ZERO + Duration::from_secs(5));
    assert!(f.to_string().contains("simulated time 5s"), "{f}");
    assert_eq!(report.end_time, Instant::ZERO + Duration::from_secs(5));
    // A run that passes ends at its last instant too, pending timers or not.
    let report = Builder::new().run_report(async {
        let _pending = spawn(sleep(Duration::from_secs(60)));
        sleep(Duration::from_millis(1500)).await;
    });
    assert!(report.output.is_ok());
    assert_eq!(report.end_time, Instant::ZERO + Duration::from_millis(1500));
}

#[test]
fn a_saturated_sleep_is_reported_as_the_program_wrote_it() {
    // 10^12 s is past the end of simulated time (about 584 years): it saturates, and the report
    // says so instead of claiming the program asked for Duration::MAX.
    let f = Builder::new()
        .run(async {
            sleep(Duration::from_secs(1_000_000_000_000)).await;
        })
        .unwrap_err();
    let report = f.to_string();
    assert!(
        report.contains("a sleep of 1000000000000s, which reaches past the end of simulated time"),
        "{report}"
    );
    assert!(!report.contains("Duration::MAX"), "{report}");
    // A sleep_until(Instant::MAX) asked for that instant.
    let f = Builder::new()
        .run(async { detsim::time::sleep_until(Instant::MAX).await })
        .unwrap_err();
    assert!(f.to_string().contains("a sleep until Instant::MAX"), "{f}");
}

#[test]
fn a_long_sleep_costs_nothing() {
    let t = detsim::run(async {
        sleep(Duration::from_secs(100 * 365 * 24 * 3600)).await;
        now()
    });
    assert_eq!(t.as_nanos(), 100 * 365 * 24 * 3600 * 1_000_000_000);
}

#[test]
fn step_limit_catches_livelock() {
    let f = Builder::new()
        .max_steps(500)
        .run(async {
            let h = spawn(async {
                loop {
                    yield_now().await;
                }
            });
            h.await.unwrap();
        })
        .unwrap_err();
    assert!(
        matches!(f.kind, FailureKind::StepLimit { max_steps: 500, .. }),
        "{f}"
    );
    assert_eq!(f.steps, 500);
    assert!(f.to_string().contains("still runnable: task 1"), "{f}");
}

#[test]
fn task_panic_fails_run_with_message_and_location() {
    let f = Builder::new()
        .run(async {
            let h = detsim::task::Builder::new().name("worker").spawn(async {
                yield_now().await;
                panic!("invariant broken: {}", 42);
            });
            let _ = h.await;
            sleep(Duration::from_secs(1)).await;
        })
        .unwrap_err();
    let FailureKind::Panic {
        task,
        message,
        location,
    } = &f.kind
    else {
        panic!("expected a panic failure, got {f}");
    };
    assert_eq!(task.name.as_deref(), Some("worker"));
    assert_eq!(message, "invariant broken: 42");
    assert!(
        location.as_deref().unwrap().contains("runtime_failures.rs"),
        "{location:?}"
    );
    // The run stopped at the panic: no simulated time passed.
    assert_eq!(f.time, Instant::ZERO);
}

#[test]
fn task_panic_can_be_only_a_join_error() {
    let msg = Builder::new()
        .fail_on_task_panic(false)
        .run(async {
            let e = spawn(async { panic!("boom") }).await.unwrap_err();
            assert!(e.is_panic());
            e.panic_message().unwrap().to_string()
        })
        .unwrap();
    assert_eq!(msg, "boom");
}

#[test]
fn main_panic_fails_the_run() {
    let f = Builder::new().run(async { panic!("in main") }).unwrap_err();
    assert!(f.to_string().contains("task 0 \"main\" panicked"), "{f}");
}

#[test]
fn detsim_run_panics_with_the_report() {
    let msg = catch_panic_message(|| {
        detsim::run(async {
            std::future::pending::<()>().await;
        })
    });
    assert!(msg.contains("detsim: deadlock"), "{msg}");
}

#[test]
fn waker_from_another_thread_is_reported() {
    let f = Builder::new()
        .run(async {
            let waker =
                futures::future::poll_fn(|cx| std::task::Poll::Ready(cx.waker().clone())).await;
            std::thread::spawn(move || waker.wake()).join().unwrap();
            yield_now().await;
            sleep(Duration::from_secs(1)).await;
        })
        .unwrap_err();
    assert!(matches!(f.kind, FailureKind::ForeignWake { .. }), "{f}");
    assert!(f.to_string().contains("another OS thread"), "{f}");
}

#[test]
fn max_steps_zero_is_rejected() {
    let msg = catch_panic_message(|| {
        let _ = Builder::new().max_steps(0);
    });
    assert!(msg.contains("max_steps(0)"), "{msg}");
}

#[test]
fn spawn_outside_a_run_is_a_clear_panic() {
    let msg = catch_panic_message(|| {
        drop(spawn(async {}));
    });
    assert!(
        msg.contains("detsim::spawn was called outside a detsim run"),
        "{msg}"
    );
}

#[test]
fn nested_runs_are_rejected() {
    let f = Builder::new()
        .run(async {
            detsim::run(async {});
        })
        .unwrap_err();
    assert!(f.to_string().contains("cannot nest"), "{f}");
}

#[test]
fn join_handle_polled_after_completion_panics_clearly() {
    let f = Builder::new()
        .run(async {
            let mut h = spawn(async { 1 });
            assert_eq!((&mut h).await.unwrap(), 1);
            let _ = (&mut h).await;
        })
        .unwrap_err();
    assert!(
        f.to_string()
            .contains("polled after it returned its result"),
        "{f}"
    );
}

#[test]
fn cancelled_task_drop_code_runs_when_it_would_next_run() {
    struct OnDrop(Rc<RefCell<Vec<&'static str>>>);
    impl Drop for OnDrop {
        fn drop(&mut self) {
            self.0.borrow_mut().push("child dropped");
        }
    }
    let log = detsim::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let h = spawn(async move {
            let _guard = OnDrop(l);
            sleep(Duration::from_secs(10)).await;
        });
        yield_now().await;
        assert!(h.cancel());
        log.borrow_mut().push("cancel requested");
        assert!(
            h.cancel(),
            "repeated cancel before the task ends returns true"
        );
        let r = h.await;
        log.borrow_mut().push(if r.unwrap_err().is_cancelled() {
            "awaited: cancelled"
        } else {
            "?"
        });
        log.take()
    });
    assert_eq!(
        log,
        ["cancel requested", "child dropped", "awaited: cancelled"]
    );
}

#[test]
fn tasks_alive_at_the_end_are_dropped_in_id_order() {
    let order = Rc::new(RefCell::new(Vec::new()));
    struct Mark(u32, Rc<RefCell<Vec<u32>>>);
    impl Drop for Mark {
        fn drop(&mut self) {
            self.1.borrow_mut().push(self.0);
        }
    }
    let o = order.clone();
    detsim::run(async move {
        for i in 1..=3 {
            let m = Mark(i, o.clone());
            spawn(async move {
                let _m = m;
                std::future::pending::<()>().await;
            });
        }
        yield_now().await;
    });
    assert_eq!(*order.borrow(), [1, 2, 3]);
}

struct OutOfRange;
impl Scheduler for OutOfRange {
    fn name(&self) -> String {
        "OutOfRange".into()
    }
    fn choose_task(&mut self, c: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        Ok(c.runnable.len())
    }
    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        Ok(0)
    }
}

#[test]
fn invalid_scheduler_choice_is_a_clear_failure() {
    let f = Builder::new()
        .scheduler(OutOfRange)
        .run(async {
            spawn(async {});
            yield_now().await;
        })
        .unwrap_err();
    assert!(matches!(f.kind, FailureKind::Scheduler { .. }));
    assert!(f.to_string().contains("only 2 tasks are runnable"), "{f}");
}

#[test]
fn replay_reports_where_it_diverged() {
    let program = |n: u32| async move {
        let hs: Vec<_> = (0..n).map(|_| spawn(yield_now())).collect();
        for h in hs {
            h.await.unwrap();
        }
    };
    let rec = Builder::new()
        .seed(1)
        .scheduler(detsim::scheduler::Random::new())
        .run_report(program(4));
    assert!(rec.output.is_ok());
    // Replaying against a program with fewer tasks must say where it went off.
    let f = Builder::new()
        .scheduler(Replay::new(rec.decisions.clone()))
        .run(program(2))
        .unwrap_err();
    let report = f.to_string();
    assert!(report.contains("replay diverged"), "{report}");
    assert!(report.contains("which is not runnable"), "{report}");
}

#[test]
fn replay_with_decisions_left_over_is_a_divergence() {
    // A schedule recorded from a program that made more decisions than this one: every decision
    // the run asks for fits, and the run used to pass silently with the rest unused.
    let recorded = |n: u64| async move {
        for _ in 0..n {
            detsim::random_u64();
        }
        detsim::time::sleep(Duration::from_secs(2)).await;
    };
    let rec = Builder::new()
        .seed(1)
        .scheduler(detsim::scheduler::Random::new())
        .run_report(recorded(5));
    assert_eq!(rec.decisions.len(), 5);
    let f = Builder::new()
        .scheduler(Replay::new(rec.decisions.clone()))
        .run(recorded(3))
        .unwrap_err();
    assert!(matches!(f.kind, FailureKind::Scheduler { .. }), "{f}");
    let report = f.to_string();
    assert!(report.contains("replay diverged"), "{report}");
    assert!(
        report.contains("finished at step 2 (simulated time 2s) after 3 decisions"),
        "{report}"
    );
    assert!(report.contains("holds 2 more"), "{report}");
    // The same through an exploration's DETSIM_SCHEDULE replay.
    let schedule = detsim::explore::Schedule::from_decisions(&rec.decisions);
    let found = Builder::new()
        .ignore_env()
        .replay_schedule(schedule.clone())
        .explore(|| recorded(3))
        .unwrap_err();
    assert!(found.to_string().contains("replay diverged"), "{found}");
    // The program that recorded it replays it exactly.
    assert!(
        Builder::new()
            .ignore_env()
            .replay_schedule(schedule)
            .explore(|| recorded(5))
            .is_ok()
    );
}

#[test]
fn spawn_is_lazy_and_ids_follow_spawn_order() {
    let ids = detsim::run(async {
        let started = Rc::new(RefCell::new(false));
        let s = started.clone();
        let a = spawn(async move { *s.borrow_mut() = true });
        assert!(!*started.borrow(), "spawn must not run the task");
        let b = spawn(async {});
        let ids = (a.id().as_u32(), b.id().as_u32());
        a.await.unwrap();
        assert!(*started.borrow());
        ids
    });
    assert_eq!(ids, (1, 2));
}

#[test]
fn equal_deadlines_fire_in_insertion_order() {
    let order = detsim::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let hs: Vec<_> = (0..5)
            .map(|i| {
                let log = log.clone();
                spawn(async move {
                    sleep(Duration::from_secs(1)).await;
                    log.borrow_mut().push(i);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        log.take()
    });
    assert_eq!(order, [0, 1, 2, 3, 4]);
}

//! Conformance cases for the scheduler and tasks (asyncio's
//! event loop and `Task`: `Lib/asyncio/base_events.py`, `Lib/asyncio/tasks.py`), run under the
//! FIFO scheduler and compared with what CPython 3.13.0 prints for the same program.
//!
//! Cases that catch a cancellation (TSK-04, TSK-05, TSK-06, TSK-07, TSK-10, TSK-11) are in
//! `conformance_cooperative.rs`. Not ported (see `tests/UNPORTED.md`): SCH-05 (a NaN delay
//! cannot be expressed as a `Duration`); FUT-* belong to `Promise` (issue 5).

use std::cell::RefCell;
use std::rc::Rc;

use detsim::time::{Duration, now, sleep};
use detsim::{spawn, yield_now};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(l: &Log, s: impl Into<String>) {
    l.borrow_mut().push(s.into());
}

/// SCH-01 — sleep(0) is one yield: a callback queued before it runs before the sleeper resumes.
/// (`call_soon(cb)` is a spawned task here.)
#[test]
fn sch_01_sleep_zero_is_one_yield() {
    let out = detsim::run(async {
        let l = log();
        let l2 = l.clone();
        spawn(async move { push(&l2, "cb") });
        push(&l, "before");
        sleep(Duration::ZERO).await;
        push(&l, "after");
        l.take()
    });
    assert_eq!(out, ["before", "cb", "after"]);
}

/// SCH-02 — spawned tasks start only when the creator yields, in creation order.
#[test]
fn sch_02_tasks_start_when_creator_yields() {
    let out = detsim::run(async {
        let l = log();
        for n in ["a", "b"] {
            let l = l.clone();
            spawn(async move {
                push(&l, format!("{n}-start"));
                yield_now().await;
                push(&l, format!("{n}-end"));
            });
        }
        push(&l, "main");
        yield_now().await;
        push(&l, "main2");
        yield_now().await;
        push(&l, "main3");
        l.take()
    });
    assert_eq!(
        out,
        [
            "main", "a-start", "b-start", "main2", "a-end", "b-end", "main3"
        ]
    );
}

/// SCH-04 — sleep returns after the simulated delay.
#[test]
fn sch_04_sleep() {
    let (r, t) = detsim::run(async {
        let h = spawn(async {
            sleep(Duration::from_millis(50)).await;
            sleep(Duration::from_millis(50)).await;
            "yeah"
        });
        (h.await.unwrap(), now().to_string())
    });
    assert_eq!((r, t.as_str()), ("yeah", "0.1s"));
}

/// SCH-06 — awaiting a finished task does not suspend (a queued callback runs after).
#[test]
fn sch_06_await_done_does_not_suspend() {
    let out = detsim::run(async {
        let l = log();
        let done = spawn(async { 1 });
        yield_now().await; // `done` finishes
        let l2 = l.clone();
        spawn(async move { push(&l2, "cb") });
        let v = done.await.unwrap();
        push(&l, format!("main {v}"));
        yield_now().await;
        l.take()
    });
    assert_eq!(out, ["main 1", "cb"]);
}

/// TSK-01 — cancel a sleeping task from a timer: the awaiter sees Cancelled at t=0.1.
#[test]
fn tsk_01_cancel_sleeping_task() {
    let (cancelled, t) = detsim::run(async {
        let sleeper = spawn(sleep(Duration::from_secs(5000)));
        let c = sleeper.cancel_handle();
        spawn(async move {
            sleep(Duration::from_millis(100)).await;
            c.cancel();
        });
        let r = sleeper.await;
        (r.unwrap_err().is_cancelled(), now().to_string())
    });
    assert!(cancelled);
    assert_eq!(t, "0.1s");
}

/// TSK-02 — a task cancels itself, then awaits: Cancelled at t=0, and a later cancel() is false.
#[test]
fn tsk_02_task_cancels_itself() {
    let (cancelled, t, again) = detsim::run(async {
        let me: Rc<RefCell<Option<detsim::task::CancelHandle>>> = Rc::new(RefCell::new(None));
        let m2 = me.clone();
        let h = spawn(async move {
            m2.borrow().as_ref().unwrap().cancel();
            sleep(Duration::from_secs(100)).await;
            12
        });
        *me.borrow_mut() = Some(h.cancel_handle());
        let r = h.await;
        let again = me.borrow().as_ref().unwrap().cancel();
        (r.unwrap_err().is_cancelled(), now().to_string(), again)
    });
    assert!(cancelled);
    assert_eq!(t, "0s");
    assert!(!again);
}

/// TSK-13 — a task whose awaited future is cancelled ends cancelled. In Rust the inner future's
/// cancellation is the task's: here the inner wait is a task that is cancelled.
#[test]
fn tsk_13_cancel_inner() {
    let (inner_cancelled, outer_cancelled) = detsim::run(async {
        let f = spawn(std::future::pending::<()>());
        let fc = f.cancel_handle();
        let t = spawn(async move {
            f.await?;
            Ok::<_, detsim::JoinError>(12)
        });
        yield_now().await;
        fc.cancel();
        let r = t.await.unwrap();
        (r.unwrap_err().is_cancelled(), fc.is_finished())
    });
    assert!(inner_cancelled && outer_cancelled);
}

/// TSK-12 — a task awaiting itself is a clear error (asyncio: RuntimeError).
#[test]
fn tsk_12_task_awaits_itself() {
    let failure = detsim::Builder::new()
        .run(async {
            let cell: Rc<RefCell<Option<detsim::JoinHandle<()>>>> = Rc::new(RefCell::new(None));
            let c2 = cell.clone();
            let h = spawn(async move {
                yield_now().await;
                let me = c2.borrow_mut().take().unwrap();
                me.await.unwrap();
            });
            *cell.borrow_mut() = Some(h);
            sleep(Duration::from_secs(1)).await;
        })
        .unwrap_err();
    let report = failure.to_string();
    assert!(report.contains("awaits its own JoinHandle"), "{report}");
}

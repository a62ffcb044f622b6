//! asyncio's cancellation, complete: it travels down the await chain (`Task._fut_waiter`,
//! bpo-34872), `shield` stops it, a task that cancels itself and returns ends cancelled, tasks can
//! be inspected without awaiting, and `abort()` is tokio's non-travelling form.
//!
//! Each expected log was produced by the same program on CPython 3.13.0 (quoted above each
//! test), under the FIFO scheduler.

use std::cell::RefCell;
use std::rc::Rc;

use detsim::combinators::{gather_settled, shield};
use detsim::time::{Duration, sleep, wait_for};
use detsim::{FailureKind, spawn, yield_now};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(l: &Log, s: impl Into<String>) {
    l.borrow_mut().push(s.into());
}

/// Pushes `what` when dropped: a `finally` block.
struct Finally(Log, &'static str);

impl Drop for Finally {
    fn drop(&mut self) {
        push(&self.0, self.1);
    }
}

/// A task that sleeps 10 s and logs `name` when its future is dropped.
fn sleeping(l: &Log, name: &'static str) -> detsim::JoinHandle<()> {
    let l = l.clone();
    spawn(async move {
        let _f = Finally(l, name);
        sleep(Duration::from_secs(10)).await;
    })
}

/// A task that logs `other 0..n`, yielding between lines: it shows where each hop falls.
fn other(l: &Log, n: usize) -> detsim::JoinHandle<()> {
    let l = l.clone();
    spawn(async move {
        for i in 0..n {
            push(&l, format!("other {i}"));
            yield_now().await;
        }
    })
}

/// ```python
/// async def b():
///     try: await asyncio.sleep(10)
///     finally: log.append('b ends')
/// async def a(tb):
///     try: await tb
///     finally: log.append('a ends')
/// tb = create_task(b()); ta = create_task(a(tb)); to = create_task(other())
/// await sleep(0); log.append('cancel a'); ta.cancel('bye')
/// try: await ta
/// except CancelledError as e: log.append(f'a cancelled {e.args} b.cancelled={tb.cancelled()}')
/// await to
/// # ['other 0', 'cancel a', 'other 1', 'b ends', 'other 2', 'a ends', 'other 3',
/// #  "a cancelled ('bye',) b.cancelled=True"]
/// ```
#[test]
fn task_cancel_travels_to_the_awaited_task_fut_waiter() {
    let out = detsim::run(async {
        let l = log();
        let tb = sleeping(&l, "b ends");
        let watch_b = tb.cancel_handle();
        let la = l.clone();
        let ta = spawn(async move {
            let _f = Finally(la, "a ends");
            tb.await.unwrap();
        });
        let to = other(&l, 4);
        yield_now().await;
        push(&l, "cancel a");
        ta.cancel_with("bye");
        let e = ta.await.unwrap_err();
        push(
            &l,
            format!(
                "a cancelled {:?} b.cancelled={}",
                e.cancel_message(),
                watch_b.cancelled()
            ),
        );
        to.await.unwrap();
        l.take()
    });
    assert_eq!(
        out,
        [
            "other 0",
            "cancel a",
            "other 1",
            "b ends",
            "other 2",
            "a ends",
            "other 3",
            "a cancelled Some(\"bye\") b.cancelled=true",
        ]
    );
}

/// The chain is followed to its end: A awaits B awaits C; cancelling A cancels C first, then B,
/// then A, one hop each (CPython 3.13: `['c ends', 'b ends', 'a ends']`, all cancelled).
#[test]
fn task_cancel_travels_down_a_chain_of_tasks() {
    let out = detsim::run(async {
        let l = log();
        let tc = sleeping(&l, "c ends");
        let (wc, lb) = (tc.cancel_handle(), l.clone());
        let tb = spawn(async move {
            let _f = Finally(lb, "b ends");
            tc.await.unwrap();
        });
        let (wb, la) = (tb.cancel_handle(), l.clone());
        let ta = spawn(async move {
            let _f = Finally(la, "a ends");
            tb.await.unwrap();
        });
        yield_now().await;
        ta.cancel();
        assert!(ta.await.unwrap_err().is_cancelled());
        assert!(wb.cancelled() && wc.cancelled());
        l.take()
    });
    assert_eq!(out, ["c ends", "b ends", "a ends"]);
}

/// `shield` is what stops the travel: the same program as
/// [`task_cancel_travels_to_the_awaited_task_fut_waiter`] with `await shield(tb)` in `a`.
/// CPython 3.13: `['other 0', 'cancel a', 'other 1', 'a ends', 'other 2', 'a cancelled',
/// 'b done', 'other 3']` — `b` is not cancelled and finishes; without the shield,
/// `['other 0', 'cancel a', 'other 1', 'a ends', 'other 2', 'a cancelled', 'other 3']` — `b` is
/// cancelled (it was already queued, so `a` ends at the same step) and never finishes.
#[test]
fn shield_stops_cancellation_travelling_to_the_inner_task() {
    let program = |shielded: bool| {
        detsim::run(async move {
            let l = log();
            let lb = l.clone();
            let tb = spawn(async move {
                yield_now().await;
                yield_now().await;
                yield_now().await;
                push(&lb, "b done");
            });
            let la = l.clone();
            let ta = spawn(async move {
                let _f = Finally(la, "a ends");
                if shielded {
                    shield(tb).await.unwrap();
                } else {
                    tb.await.unwrap();
                }
            });
            let to = other(&l, 4);
            yield_now().await;
            push(&l, "cancel a");
            ta.cancel();
            assert!(ta.await.unwrap_err().is_cancelled());
            push(&l, "a cancelled");
            to.await.unwrap();
            yield_now().await;
            l.take()
        })
    };
    assert_eq!(
        program(true),
        [
            "other 0",
            "cancel a",
            "other 1",
            "a ends",
            "other 2",
            "a cancelled",
            "b done",
            "other 3",
        ]
    );
    assert_eq!(
        program(false),
        [
            "other 0",
            "cancel a",
            "other 1",
            "a ends",
            "other 2",
            "a cancelled",
            "other 3",
        ]
    );
}

/// Cancels a task blocked on a gather of two sleeping children (with `return_exceptions`, the
/// `gather_settled` form, if `settled`) and returns the order of the `finally` blocks.
fn cancel_a_task_awaiting_a_gather(settled: bool) -> Vec<String> {
    detsim::run(async move {
        let l = log();
        let child = |name: &'static str| {
            let l = l.clone();
            async move {
                let _f = Finally(l, name);
                sleep(Duration::from_secs(10)).await;
            }
        };
        let children = [child("c1 ends"), child("c2 ends")];
        let la = l.clone();
        let ta = if settled {
            let g = gather_settled(children);
            spawn(async move {
                let _f = Finally(la, "a ends");
                g.await;
            })
        } else {
            let g = detsim::gather(children);
            spawn(async move {
                let _f = Finally(la, "a ends");
                g.await.unwrap();
            })
        };
        yield_now().await;
        ta.cancel();
        assert!(ta.await.unwrap_err().is_cancelled());
        l.take()
    })
}

/// Cancelling a task blocked on a gather cancels the gather's children (bpo-34872); the task
/// ends once the gather has. CPython 3.13: `['c1 ends', 'c2 ends', 'a ends']`.
#[test]
fn task_cancel_travels_to_gather_children() {
    assert_eq!(
        cancel_a_task_awaiting_a_gather(false),
        ["c1 ends", "c2 ends", "a ends"]
    );
}

/// The same with `gather(..., return_exceptions=True)`: the cancellation still reaches the
/// children and the awaiting task ends cancelled (bpo-32684).
#[test]
fn task_cancel_travels_to_gather_children_with_return_exceptions() {
    assert_eq!(
        cancel_a_task_awaiting_a_gather(true),
        ["c1 ends", "c2 ends", "a ends"]
    );
}

/// `wait_for`'s inner task is cancelled when the task running `wait_for` is, before that task
/// ends (asyncio's `test_cancel_wait_for`, bpo-23219).
#[test]
fn task_cancel_travels_to_wait_for_inner_task() {
    let out = detsim::run(async {
        let l = log();
        let inner = sleeping(&l, "inner ends");
        let wi = inner.cancel_handle();
        let lw = l.clone();
        let w = spawn(async move {
            let _f = Finally(lw, "waiter ends");
            let _ = wait_for(Duration::from_secs(60), inner).await;
        });
        yield_now().await;
        w.cancel();
        assert!(w.await.unwrap_err().is_cancelled());
        assert!(wi.cancelled());
        l.take()
    });
    assert_eq!(out, ["inner ends", "waiter ends"]);
}

/// Dropping a `JoinHandle` without cancelling detaches the task, which runs to its end.
#[test]
fn dropping_a_join_handle_detaches_the_task() {
    let out = detsim::run(async {
        let l = log();
        let l2 = l.clone();
        drop(spawn(async move {
            sleep(Duration::from_secs(1)).await;
            push(&l2, "detached task finished");
        }));
        sleep(Duration::from_secs(2)).await;
        l.take()
    });
    assert_eq!(out, ["detached task finished"]);
}

/// `abort()` is tokio's: the task's future is dropped at its next turn, and what it awaits is
/// only detached. The awaited task keeps running (`cancel()` would have cancelled it).
#[test]
fn abort_does_not_travel_down_the_await_chain() {
    let out = detsim::run(async {
        let l = log();
        let lb = l.clone();
        let tb = spawn(async move {
            sleep(Duration::from_secs(1)).await;
            push(&lb, "b finished");
        });
        let wb = tb.cancel_handle();
        let la = l.clone();
        let ta = spawn(async move {
            let _f = Finally(la, "a ends");
            tb.await.unwrap();
        });
        yield_now().await;
        assert!(ta.abort());
        assert!(ta.await.unwrap_err().is_cancelled());
        assert!(!wb.done());
        sleep(Duration::from_secs(2)).await;
        assert!(wb.done() && !wb.cancelled());
        l.take()
    });
    assert_eq!(out, ["a ends", "b finished"]);
}

/// asyncio's `test_cancel_at_end`: a task that requests its own cancellation and then returns
/// ends cancelled; its value is discarded.
#[test]
fn test_cancel_at_end_task_cancelling_itself_then_returning_ends_cancelled() {
    detsim::run(async {
        let t = spawn(async {
            assert!(detsim::task::current().cancel());
            12
        });
        let e = t.await.unwrap_err();
        assert!(e.is_cancelled());
    });
}

/// The same for the main task: the run ends with `MainCancelled`, as `asyncio.run` raises
/// `CancelledError`.
#[test]
fn test_cancel_at_end_main_task() {
    let f = detsim::Builder::new()
        .run(async {
            detsim::task::current().cancel_with("from inside");
            12
        })
        .unwrap_err();
    assert_eq!(
        f.kind,
        FailureKind::MainCancelled {
            message: Some("from inside".into())
        }
    );
    assert!(
        f.to_string()
            .contains("the main task was cancelled: from inside")
    );
}

/// The main task is cancellable like any other, from another task; its `Drop` code runs before
/// the remaining tasks are dropped.
#[test]
fn main_task_cancelled_from_another_task() {
    let l = log();
    let l2 = l.clone();
    let f = detsim::Builder::new()
        .run(async move {
            let main = detsim::task::current();
            let lc = l2.clone();
            let _child = spawn(async move {
                let _f = Finally(lc, "child dropped");
                sleep(Duration::from_secs(1)).await;
                main.cancel();
                sleep(Duration::from_secs(10)).await;
            });
            let _f = Finally(l2, "main dropped");
            sleep(Duration::from_secs(100)).await;
        })
        .unwrap_err();
    assert!(matches!(
        f.kind,
        FailureKind::MainCancelled { message: None }
    ));
    assert_eq!(f.time.to_string(), "1s");
    assert_eq!(l.take(), ["main dropped", "child dropped"]);
}

/// `done()`, `cancelled()`, `result()` and `error()` read a task without awaiting it, and leave
/// the handle awaitable (asyncio's `Task.done/cancelled/result/exception`).
#[test]
fn inspecting_a_task_without_awaiting_it() {
    let r = detsim::Builder::new().fail_on_task_panic(false).run(async {
        let ok = spawn(async { 5 });
        let boom = spawn(async { panic!("boom") });
        let slow = spawn(sleep(Duration::from_secs(1)));
        let (c_ok, c_boom, c_slow) = (
            ok.cancel_handle(),
            boom.cancel_handle(),
            slow.cancel_handle(),
        );
        assert!(!ok.done() && ok.result().is_none() && ok.error().is_none());
        yield_now().await;
        slow.cancel_with("stop");
        yield_now().await;
        assert!(ok.done() && !ok.cancelled());
        assert_eq!(ok.result(), Some(Ok(5)));
        assert_eq!(ok.error(), None);
        assert!(c_ok.done() && !c_ok.cancelled() && c_ok.error().is_none());
        assert_eq!(boom.error().unwrap().panic_message(), Some("boom"));
        assert_eq!(c_boom.error().unwrap().panic_message(), Some("boom"));
        assert!(slow.cancelled() && c_slow.cancelled());
        assert_eq!(slow.error().unwrap().cancel_message(), Some("stop"));
        // Still awaitable, with the same outcomes.
        assert_eq!(ok.await, Ok(5));
        assert!(boom.await.unwrap_err().is_panic());
        assert_eq!(slow.await.unwrap_err().cancel_message(), Some("stop"));
        // The error stays readable after the handle has been awaited.
        assert!(c_slow.cancelled());
    });
    r.unwrap();
}

/// `cancel_with(message)`: whoever awaits the task sees the message, also through the chain
/// (asyncio passes `msg` on to `_fut_waiter.cancel(msg)`).
#[test]
fn cancel_message_reaches_whoever_awaits() {
    detsim::run(async {
        let inner = spawn(sleep(Duration::from_secs(10)));
        let wi = inner.cancel_handle();
        let outer = spawn(async move { inner.await.unwrap() });
        yield_now().await;
        outer.cancel_with("closing");
        assert_eq!(outer.await.unwrap_err().cancel_message(), Some("closing"));
        assert_eq!(wi.error().unwrap().cancel_message(), Some("closing"));
        assert_eq!(
            wi.error().unwrap().to_string(),
            "task was cancelled: closing"
        );
    });
}

/// `shield` accepts a gather and adds no step of its own. CPython 3.13, with `other` logging
/// between hops: `['other 0', 'c1', 'c2', 'other 1', 'other 2', 'other 3', 'got [1, 2]',
/// 'other 4', 'other 5']`.
#[test]
fn shield_of_a_gather_adds_no_extra_step() {
    let out = detsim::run(async {
        let l = log();
        let to = other(&l, 6);
        let c = |x: u32| {
            let l = l.clone();
            async move {
                push(&l, format!("c{x}"));
                x
            }
        };
        let g = detsim::gather([c(1), c(2)]);
        let r = shield(g).await.unwrap();
        push(&l, format!("got {r:?}"));
        to.await.unwrap();
        l.take()
    });
    assert_eq!(
        out,
        [
            "other 0",
            "c1",
            "c2",
            "other 1",
            "other 2",
            "other 3",
            "got [1, 2]",
            "other 4",
            "other 5"
        ]
    );
}

/// `wait_for` accepts any future and awaits it in the calling task; at the deadline the
/// cancellation travels to the task that future awaits, which is waited for, and the future is
/// then dropped without running further. CPython 3.13: `[other 0..5, 'inner ends', 'body ends',
/// 'timeout']`.
#[test]
fn wait_for_any_future_cancels_what_it_awaits_at_the_deadline() {
    let out = detsim::run(async {
        let l = log();
        let ti = sleeping(&l, "inner ends");
        let lb = l.clone();
        let body = async move {
            let _f = Finally(lb.clone(), "body ends");
            let _ = ti.await;
            push(&lb, "body continued");
        };
        let to = other(&l, 6);
        yield_now().await;
        if wait_for(Duration::from_secs(1), body).await.is_err() {
            push(&l, "timeout");
        }
        to.await.unwrap();
        l.take()
    });
    let mut expected: Vec<String> = (0..6).map(|i| format!("other {i}")).collect();
    expected.extend(["inner ends", "body ends", "timeout"].map(String::from));
    assert_eq!(out, expected);
}

/// `Gather::cancel` (asyncio's `_GatheringFuture.cancel`): cancels the children, and awaiting the
/// gather gives a cancellation. CPython 3.13: `['cancel True', 'c1 ends', 'c2 ends',
/// 'gather cancelled']`.
#[test]
fn gathering_future_cancel_cancels_the_children() {
    let out = detsim::run(async {
        let l = log();
        let child = |name: &'static str| {
            let l = l.clone();
            async move {
                let _f = Finally(l, name);
                sleep(Duration::from_secs(1)).await;
            }
        };
        let g = detsim::gather([child("c1 ends"), child("c2 ends")]);
        yield_now().await;
        push(&l, format!("cancel {}", g.cancel()));
        if g.await.unwrap_err().is_cancelled() {
            push(&l, "gather cancelled");
        }
        l.take()
    });
    assert_eq!(
        out,
        ["cancel true", "c1 ends", "c2 ends", "gather cancelled"]
    );
}

//! Conformance cases for timeout scopes, `wait_for` and `shield` (asyncio's
//! `timeout`, `wait_for` and `shield`: `Lib/asyncio/timeouts.py`, `Lib/asyncio/tasks.py`, and the
//! historical bugs around them), under the FIFO scheduler, compared with what CPython 3.13.0
//! prints for the same program. `async with timeout(d) as cm:
//! body` is `cm = timeout_scope(Some(d)); cm.run(body).await`. Python-only cases are listed in
//! `tests/UNPORTED.md`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use detsim::combinators::shield;
use detsim::promise::Promise;
use detsim::time::{Duration, Instant, now, sleep, timeout_scope, timeout_scope_at, wait_for};
use detsim::{spawn, yield_now};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn t() -> String {
    now().to_string()
}

fn at_ms(n: u64) -> Instant {
    Instant::ZERO + ms(n)
}

/// Runs `f` when dropped: asyncio's `except CancelledError` / `finally` without a new error.
struct Guard<F: FnMut()>(F);
impl<F: FnMut()> Drop for Guard<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

/// TMO-01 — `async with timeout(0.01) as cm: sleep 10` → the body sees the cancellation at t=0.01;
/// the caller gets Timeout; `cm.expired()`; `cm.when()==0.01`.
#[test]
fn tmo_01_basic() {
    let out = detsim::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let cm = timeout_scope(Some(ms(10)));
        let r = cm
            .run(async move {
                let _g = Guard(|| l.borrow_mut().push(format!("inner-saw-cancel {}", t())));
                sleep(ms(10_000)).await;
            })
            .await;
        log.borrow_mut().push(format!(
            "timeout={} {} expired={} when={:?}",
            r.is_err(),
            t(),
            cm.expired(),
            cm.when().map(|w| w.to_string())
        ));
        log.take()
    });
    assert_eq!(
        out,
        [
            "inner-saw-cancel 0.01s",
            "timeout=true 0.01s expired=true when=Some(\"0.01s\")"
        ]
    );
}

/// TMO-03 — a timeout that is not reached, and a disabled one: `((False, 10.0, 0.01),
/// (False, None))`.
#[test]
fn tmo_03_not_called_and_disabled() {
    let out = detsim::run(async {
        let cm = timeout_scope(Some(ms(10_000)));
        cm.run(sleep(ms(10))).await.unwrap();
        let a = (cm.expired(), cm.when(), t());
        let cm2 = timeout_scope(None);
        cm2.run(sleep(ms(10))).await.unwrap();
        (a, (cm2.expired(), cm2.when()))
    });
    assert_eq!(
        out,
        (
            (false, Some(at_ms(10_000)), "0.01s".to_string()),
            (false, None)
        )
    );
}

/// TMO-04 — `timeout(0) {yield0}` and a deadline in the past → both Timeout at t=0, `expired()`.
/// (The expiry is queued with call_soon, before the yielded body resumes.)
#[test]
fn tmo_04_zero_and_past_deadline() {
    let out = detsim::run(async {
        let mut out = Vec::new();
        for cm in [
            timeout_scope(Some(Duration::ZERO)),
            timeout_scope_at(Some(Instant::ZERO)),
        ] {
            let r = cm.run(yield_now()).await;
            out.push((r.is_err(), cm.expired(), t()));
        }
        out
    });
    assert_eq!(
        out,
        [
            (true, true, "0s".to_string()),
            (true, true, "0s".to_string())
        ]
    );
}

/// TMO-05 — a foreign exception passes through: the body raises KeyError → KeyError, not expired.
#[test]
fn tmo_05_foreign_error_passes() {
    let out = detsim::run(async {
        let cm = timeout_scope(Some(ms(10)));
        let r = cm.run(async { Err::<(), _>("KeyError") }).await;
        (r, cm.expired())
    });
    assert_eq!(out, (Ok(Err("KeyError")), false));
}

/// TMO-06 — a foreign cancel is not a timeout: `timeout(10) {current.cancel(); sleep 10}` →
/// Cancelled at t=0; `expired()==false`.
#[test]
fn tmo_06_foreign_cancel_is_not_a_timeout() {
    let out = detsim::run(async {
        let cm = timeout_scope(Some(ms(10_000)));
        let me: Rc<RefCell<Option<detsim::task::CancelHandle>>> = Rc::default();
        let (m2, c2) = (me.clone(), cm.clone());
        let h = spawn(async move {
            c2.run(async move {
                m2.borrow().as_ref().unwrap().cancel();
                sleep(ms(10_000)).await;
            })
            .await
        });
        *me.borrow_mut() = Some(h.cancel_handle());
        (h.await.unwrap_err().is_cancelled(), cm.expired(), t())
    });
    assert_eq!(out, (true, false, "0s".to_string()));
}

/// TMO-07 — the task running an expired timeout is not cancelled: it catches Timeout and returns
/// normally (`cancelling()==0` is Python-only).
#[test]
fn tmo_07_outer_task_not_cancelled() {
    let out = detsim::run(async {
        let task = spawn(async {
            let r = timeout_scope(Some(ms(1))).run(sleep(ms(10_000))).await;
            if r.is_err() { "timed-out" } else { "no" }
        });
        task.await
    });
    assert_eq!(out, Ok("timed-out"));
}

/// TMO-08 — reschedule from outside: `when()==10; reschedule(30)` → 30; `reschedule(None)` →
/// None; `T.cancel()` → Cancelled at t=0; `expired()==false`.
#[test]
fn tmo_08_reschedule() {
    let out = detsim::run(async {
        let cm = timeout_scope_at(Some(at_ms(10_000)));
        let entered: Promise<(), ()> = Promise::new();
        let (c2, e2) = (cm.clone(), entered.clone());
        let task = spawn(async move {
            c2.run(async move {
                e2.set_result(()).unwrap();
                sleep(ms(50_000)).await;
            })
            .await
        });
        entered.wait().await.unwrap();
        let a = cm.when();
        cm.reschedule(Some(at_ms(30_000))).unwrap();
        let b = cm.when();
        cm.reschedule(None).unwrap();
        let c = cm.when();
        task.cancel();
        let cancelled = task.await.unwrap_err().is_cancelled();
        (a, b, c, cancelled, cm.expired(), t())
    });
    assert_eq!(
        out,
        (
            Some(at_ms(10_000)),
            Some(at_ms(30_000)),
            None,
            true,
            false,
            "0s".to_string()
        )
    );
}

/// TMO-09 — reschedule in the wrong state: not entered, finished, expired, and (from the body's
/// cancellation code) expiring, each with asyncio's message. (Exiting after swallowing the
/// cancellation is Python-only.)
#[test]
fn tmo_09_reschedule_wrong_state() {
    let out = detsim::run(async {
        let mut out = Vec::new();
        let at = Some(at_ms(20));
        let cm = timeout_scope(Some(ms(10)));
        out.push(cm.reschedule(at).unwrap_err().to_string());
        cm.run(async {}).await.unwrap();
        out.push(cm.reschedule(at).unwrap_err().to_string());
        let cm = timeout_scope(Some(ms(10)));
        cm.run(sleep(ms(1000))).await.unwrap_err();
        out.push(cm.reschedule(at).unwrap_err().to_string());
        let cm = timeout_scope(Some(ms(10)));
        let seen = Rc::new(RefCell::new(String::new()));
        let (c2, s2) = (cm.clone(), seen.clone());
        cm.run(async move {
            let _g = Guard(|| *s2.borrow_mut() = c2.reschedule(at).unwrap_err().to_string());
            sleep(ms(1000)).await;
        })
        .await
        .unwrap_err();
        out.push(seen.take());
        out
    });
    assert_eq!(
        out,
        [
            "Timeout has not been entered",
            "Cannot change state of finished Timeout",
            "Cannot change state of expired Timeout",
            "Cannot change state of expiring Timeout"
        ]
    );
}

/// TMO-12 — nested timeouts: the inner one expires at 0.01 and only it reports; the outer expires
/// at 0.1 → `[('inner-TimeoutError', 0.01), ('outer-TimeoutError', 0.1)]`.
#[test]
fn tmo_12_nested_timeouts() {
    let out = detsim::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let r = timeout_scope(Some(ms(100)))
            .run(async move {
                let inner = timeout_scope(Some(ms(10))).run(sleep(ms(1000))).await;
                if inner.is_err() {
                    l.borrow_mut().push(("inner-TimeoutError", t()));
                }
                sleep(ms(10_000)).await;
            })
            .await;
        if r.is_err() {
            log.borrow_mut().push(("outer-TimeoutError", t()));
        }
        log.take()
    });
    assert_eq!(
        out,
        [
            ("inner-TimeoutError", "0.01s"),
            ("outer-TimeoutError", "0.1s")
        ]
        .map(|(a, b)| (a, b.to_string()))
    );
}

/// WF-01 — `wait_for(F, 0.1)` where F sleeps 1000 (finally running=false) → Timeout at t=0.1;
/// F cancelled; its cleanup has already run.
#[test]
fn wf_01_basic() {
    let out = detsim::run(async {
        let running = Rc::new(Cell::new(false));
        let r2 = running.clone();
        let f = spawn(async move {
            r2.set(true);
            let _g = Guard(|| r2.set(false));
            sleep(ms(1_000_000)).await;
            "done"
        });
        let c = f.cancel_handle();
        let r = wait_for(ms(100), f).await;
        (r.is_err(), t(), c.is_finished(), running.get())
    });
    assert_eq!(out, (true, "0.1s".to_string(), true, false));
}

/// WF-02 — `wait_for(coro, 0)` → Timeout, and the body never ran.
#[test]
fn wf_02_zero_timeout_never_starts() {
    let out = detsim::run(async {
        let started = Rc::new(Cell::new(false));
        let s = started.clone();
        let r = wait_for(Duration::ZERO, spawn(async move { s.set(true) })).await;
        (r.is_err(), started.get())
    });
    assert_eq!(out, (true, false));
}

/// WF-03 — zero timeout on a finished task returns its result; on a started, sleeping task it
/// cancels it, waits, and gives Timeout at t=0 with the cleanup done. (Negative timeouts do not
/// exist for `Duration`; asyncio treats them as 0.)
#[test]
fn wf_03_zero_timeout_done_or_running() {
    let out = detsim::run(async {
        let done = spawn(async { "done" });
        yield_now().await;
        let a = wait_for(Duration::ZERO, done).await.unwrap().unwrap();
        let running = Rc::new(Cell::new(false));
        let started: Promise<(), ()> = Promise::new();
        let (r2, s2) = (running.clone(), started.clone());
        let task = spawn(async move {
            r2.set(true);
            s2.set_result(()).unwrap();
            let _g = Guard(|| r2.set(false));
            sleep(ms(10_000)).await;
        });
        let c = task.cancel_handle();
        started.wait().await.unwrap();
        let r = wait_for(Duration::ZERO, task).await;
        (a, r.is_err(), c.is_finished(), running.get(), t())
    });
    assert_eq!(out, ("done", true, true, false, "0s".to_string()));
}

/// WF-07 — cancelling the task in `wait_for` cancels the inner task, for timeouts None and 60 →
/// `[(None, Cancelled, True), (60, Cancelled, True)]`.
#[test]
fn wf_07_cancelling_wait_for_cancels_inner() {
    let out = detsim::run(async {
        let mut out = Vec::new();
        for timeout in [None, Some(ms(60_000))] {
            let task = spawn(std::future::pending::<()>());
            let inner = task.cancel_handle();
            let w = spawn(wait_for(timeout, task));
            let wc = w.cancel_handle();
            spawn(async move {
                wc.cancel();
            });
            let cancelled = w.await.unwrap_err().is_cancelled();
            out.push((timeout.is_some(), cancelled, inner.is_finished()));
        }
        out
    });
    assert_eq!(out, [(false, true, true), (true, true, true)]);
}

/// WF-09 — a result set by a call_soon callback wins over a 0.2 timeout → 'ok'; `wait_for(coro,
/// None)` → 'done'; t=0.
#[test]
fn wf_09_race_and_no_timeout() {
    let out = detsim::run(async {
        let p: Promise<&str, ()> = Promise::new();
        let p2 = p.clone();
        let fut = spawn(async move { p2.wait().await.unwrap() });
        let p3 = p.clone();
        spawn(async move { p3.set_result("ok").unwrap() });
        let r1 = wait_for(ms(200), fut).await.unwrap().unwrap();
        let r2 = wait_for(None, spawn(async { "done" }))
            .await
            .unwrap()
            .unwrap();
        (r1, r2, t())
    });
    assert_eq!(out, ("ok", "done", "0s".to_string()));
}

/// WF-10 — `wait_for(shield(T), 0.01)` → Timeout at t=0.01; T neither done nor cancelled;
/// `await T == 'done'` at t=0.1.
#[test]
fn wf_10_wait_for_shield() {
    let out = detsim::run(async {
        let task = spawn(async {
            sleep(ms(100)).await;
            "done"
        });
        let keep = task.cancel_handle();
        let tx = Rc::new(RefCell::new(None));
        let t2 = tx.clone();
        // Keep the inner result reachable: the shield forwards it.
        let inner = spawn(async move {
            let v = task.await.unwrap();
            *t2.borrow_mut() = Some((v, t()));
            v
        });
        let r = wait_for(ms(10), shield(inner)).await;
        let a = (r.is_err(), t(), keep.is_finished());
        sleep(ms(200)).await;
        (a, tx.take())
    });
    assert_eq!(
        out,
        (
            (true, "0.01s".to_string(), false),
            Some(("done", "0.1s".to_string()))
        )
    );
}

/// WF-11 — `wait_for(shield(T), 0)` → Timeout; T neither done nor cancelled; the shield is
/// cancelled; T later gives 'done'.
#[test]
fn wf_11_zero_timeout_on_shield() {
    let out = detsim::run(async {
        let task = spawn(async {
            sleep(ms(10)).await;
            "done"
        });
        let keep = task.cancel_handle();
        let result = Rc::new(RefCell::new(None));
        let r2 = result.clone();
        let inner = spawn(async move {
            let v = task.await.unwrap();
            *r2.borrow_mut() = Some(v);
            v
        });
        let shielded = shield(inner);
        let sc = shielded.cancel_handle();
        let r = wait_for(Duration::ZERO, shielded).await;
        let a = (r.is_err(), keep.is_finished(), sc.is_finished());
        sleep(ms(100)).await;
        (a, result.take())
    });
    assert_eq!(out, ((true, false, true), Some("done")));
}

/// SH-01 — a shield passes the result (42) and an error through.
#[test]
fn sh_01_result_and_error_pass_through() {
    let out = detsim::run(async {
        let a = shield(spawn(async { 42 })).await.unwrap();
        let b = shield(spawn(async { Err::<(), _>("expected") }))
            .await
            .unwrap();
        (a, b)
    });
    assert_eq!(out, (42, Err("expected")));
}

/// SH-02 — `inner.cancel()` → the outer is cancelled; with a fresh pair, `outer.cancel()` → the
/// outer is cancelled and the inner is **not** → `(True, True, False)`.
#[test]
fn sh_02_cancel_inner_or_outer() {
    let out = detsim::run(async {
        let inner = spawn(std::future::pending::<()>());
        let ic = inner.cancel_handle();
        let outer = shield(inner);
        yield_now().await;
        ic.cancel();
        let a = outer.await.unwrap_err().is_cancelled();
        let inner2 = spawn(std::future::pending::<()>());
        let ic2 = inner2.cancel_handle();
        let outer2 = shield(inner2);
        yield_now().await;
        outer2.cancel();
        let b = outer2.await.unwrap_err().is_cancelled();
        yield_now().await;
        let c = ic2.is_finished();
        ic2.cancel();
        (a, b, c)
    });
    assert_eq!(out, (true, true, false));
}

/// SH-03 — shield effect: `F = spawn {await shield(inner()); proof+=100}`; `yield0; F.cancel()`
/// → F cancelled; `waiter.set(None)` → proof == 1 (inner finished; F's continuation did not run).
#[test]
fn sh_03_shield_effect() {
    let out = detsim::run(async {
        let proof = Rc::new(Cell::new(0));
        let waiter: Promise<(), ()> = Promise::new();
        let (p, w) = (proof.clone(), waiter.clone());
        let f = spawn(async move {
            let p2 = p.clone();
            shield(spawn(async move {
                w.wait().await.unwrap();
                p2.set(p2.get() + 1);
            }))
            .await
            .unwrap();
            p.set(p.get() + 100);
        });
        yield_now().await;
        f.cancel();
        let cancelled = f.await.unwrap_err().is_cancelled();
        waiter.set_result(()).unwrap();
        yield_now().await;
        yield_now().await;
        (cancelled, proof.get())
    });
    assert_eq!(out, (true, 1));
}

/// BUG-134471 — asyncio (open bug) turns a cancellation that was already pending into a Timeout
/// when entering `timeout(0)`, and the task carries on. detsim does **not** copy the bug: a
/// cancelled task is dropped at its next suspension, so for `timeout(0)` as for `timeout(0.001)`
/// the task ends cancelled at t=0 and never reaches the code after the scope.
#[test]
fn bug_134471_timeout_zero_keeps_pending_cancel() {
    let out = detsim::run(async {
        let mut out = Vec::new();
        for d in [Duration::ZERO, ms(1)] {
            let reached = Rc::new(Cell::new(false));
            let me: Rc<RefCell<Option<detsim::task::CancelHandle>>> = Rc::default();
            let (m2, r2) = (me.clone(), reached.clone());
            let task = spawn(async move {
                m2.borrow().as_ref().unwrap().cancel();
                let _ = timeout_scope(Some(d)).run(sleep(ms(1000))).await;
                sleep(ms(2000)).await;
                r2.set(true);
            });
            *me.borrow_mut() = Some(task.cancel_handle());
            let cancelled = task.await.unwrap_err().is_cancelled();
            out.push((cancelled, reached.get(), t()));
        }
        out
    });
    assert_eq!(
        out,
        [
            (true, false, "0s".to_string()),
            (true, false, "0s".to_string())
        ]
    );
}

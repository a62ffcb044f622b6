//! Conformance cases that catch a cancellation, made expressible by cooperative cancellation
//! (`detsim::task::cancellable`, `uncancel`, `cancelling`), run under the FIFO scheduler and
//! compared with CPython 3.13.0's output.
//!
//! Porting conventions: `try: await x except CancelledError:` is
//! `match cancellable(x).await { Err(c) => … }`; re-raising is `c.propagate().await`; an asyncio
//! Future is a `Promise`; `asyncio.current_task()` is `detsim::task::current()`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use detsim::promise::Promise;
use detsim::sync::Condition;
use detsim::task::{cancellable, current};
use detsim::time::{Duration, now, sleep, wait_for};
use detsim::{spawn, yield_now};

fn secs(x: f64) -> Duration {
    Duration::from_secs_f64(x)
}

/// TSK-04 — a task catches its cancellation and returns 42: `cancel()` → true; the awaited
/// future is cancelled at once; the result is 42; the task is not cancelled; `cancelling()` 1.
#[test]
fn tsk_04_cancel_task_catching() {
    let out = detsim::run(async {
        let (fut1, fut2) = (Promise::<(), ()>::new(), Promise::<(), ()>::new());
        let (f1, f2) = (fut1.clone(), fut2.clone());
        let t = spawn(async move {
            let _ = f1.wait().await;
            match cancellable(f2.wait()).await {
                Err(_) => 42,
                Ok(_) => 0,
            }
        });
        yield_now().await;
        fut1.set_result(()).unwrap();
        yield_now().await;
        let r1 = t.cancel();
        let fut2_cancelled = fut2.is_cancelled();
        let c = t.cancel_handle();
        let res = t.await.unwrap();
        (r1, fut2_cancelled, res, c.cancelled(), c.cancelling())
    });
    assert_eq!(out, (true, true, 42, false, 1));
}

/// TSK-05 — a task ignores its cancellation and goes on awaiting: `(42, fut3 not cancelled,
/// task not cancelled)`.
#[test]
fn tsk_05_cancel_task_ignoring() {
    let out = detsim::run(async {
        let (fut1, fut2, fut3) = (
            Promise::<(), ()>::new(),
            Promise::<(), ()>::new(),
            Promise::<u32, ()>::new(),
        );
        let (f1, f2, f3) = (fut1.clone(), fut2.clone(), fut3.clone());
        let t = spawn(async move {
            let _ = f1.wait().await;
            let _ = cancellable(f2.wait()).await; // except CancelledError: pass
            f3.wait().await.unwrap()
        });
        yield_now().await;
        fut1.set_result(()).unwrap();
        yield_now().await;
        t.cancel();
        yield_now().await;
        fut3.set_result(42).unwrap();
        let c = t.cancel_handle();
        let res = t.await.unwrap();
        (res, fut3.is_cancelled(), c.cancelled())
    });
    assert_eq!(out, (42, false, false));
}

/// TSK-06 — `cancelling()` counts requests: `(0, True, 1, True, 2, cancelled, cancel() False)`.
#[test]
fn tsk_06_cancelling_counts_requests() {
    let out = detsim::run(async {
        let t = spawn(sleep(Duration::from_secs(10)));
        let a = t.cancelling();
        let b = t.cancel();
        let c = t.cancelling();
        let d = t.cancel();
        let e = t.cancelling();
        let h = t.cancel_handle();
        let _ = t.await;
        (a, b, c, d, e, h.cancelled(), h.cancel())
    });
    assert_eq!(out, (0, true, 1, true, 2, true, false));
}

/// TSK-07 — `uncancel()`: the task catches the first cancellation at 0.01 and uncancels (0);
/// a second cancellation at 0.02 ends it; `uncancel()` afterwards does not revive it.
#[test]
fn tsk_07_uncancel_basic() {
    let out = detsim::run(async {
        let out = Rc::new(RefCell::new(Vec::<String>::new()));
        let o = out.clone();
        let t = spawn(async move {
            if cancellable(sleep(Duration::from_secs(10))).await.is_err() {
                let left = current().uncancel();
                o.borrow_mut().push(format!("caught {} {left}", now()));
                sleep(Duration::from_secs(10)).await;
            }
        });
        let h = t.cancel_handle();
        sleep(secs(0.01)).await;
        let r = t.cancel();
        out.borrow_mut()
            .push(format!("cancel1 {r} {}", t.cancelling()));
        sleep(secs(0.01)).await;
        out.borrow_mut().push(format!(
            "after-uncancel {} {}",
            t.cancelling(),
            t.cancelled()
        ));
        let r = t.cancel();
        out.borrow_mut()
            .push(format!("cancel2 {r} {}", t.cancelling()));
        let e = t.await.unwrap_err();
        out.borrow_mut()
            .push(format!("cancelled {} {}", now(), e.is_cancelled()));
        h.uncancel();
        out.borrow_mut()
            .push(format!("still-cancelled {}", h.cancelled()));
        out.take()
    });
    assert_eq!(
        out,
        [
            "cancel1 true 1",
            "caught 0.01s 0",
            "after-uncancel 0 false",
            "cancel2 true 1",
            "cancelled 0.02s true",
            "still-cancelled true"
        ]
    );
}

/// TSK-10 — `cancel('my message')` before the task starts; the awaiting code sees the message
/// (`('my message',)`).
#[test]
fn tsk_10_cancel_with_message_before_starting_task() {
    let out = detsim::run(async {
        let coro = spawn(async {
            let task = spawn(sleep(Duration::from_secs(10)));
            task.cancel_with("my message");
            let r = detsim::combinators::wait(
                [task],
                None,
                detsim::combinators::ReturnWhen::AllCompleted,
            )
            .await;
            r.done[0]
                .error()
                .unwrap()
                .cancel_message()
                .map(str::to_owned)
        });
        coro.await.unwrap()
    });
    assert_eq!(out.as_deref(), Some("my message"));
}

/// TSK-11 — a cancellation caught higher up the await chain: the inner coroutine catches it
/// (+1) and re-raises, the outer catches it (+100) and returns; the awaited future is cancelled;
/// the task is not → `(101, True, False)`.
#[test]
fn tsk_11_yield_future_passes_cancel() {
    let out = detsim::run(async {
        let proof = Rc::new(Cell::new(0));
        let waiter = Promise::<(), ()>::new();
        let (p, w) = (proof.clone(), waiter.clone());
        let f = spawn(async move {
            let inner = async {
                match cancellable(w.wait()).await {
                    Err(c) => {
                        p.set(p.get() + 1);
                        Err(c) // raise
                    }
                    Ok(_) => Ok(()),
                }
            };
            match inner.await {
                Err(_) => p.set(p.get() + 100),
                Ok(()) => p.set(p.get() + 10),
            }
        });
        yield_now().await;
        f.cancel();
        let h = f.cancel_handle();
        f.await.unwrap();
        (proof.get(), waiter.is_cancelled(), h.cancelled())
    });
    assert_eq!(out, (101, true, false));
}

/// WF-05 — `wait_for` waits for the inner task's cancellation, which sleeps 0.5 in its handler
/// before re-raising: `Timeout` at **t=0.6**, the inner's `finally` ran, the cause a
/// cancellation.
#[test]
fn wf_05_wait_for_waits_for_task_cancellation() {
    let out = detsim::run(async {
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let inner = spawn(async move {
            struct Finally(Rc<Cell<bool>>);
            impl Drop for Finally {
                fn drop(&mut self) {
                    self.0.set(true);
                }
            }
            let _f = Finally(d);
            if let Err(c) = cancellable(sleep(Duration::from_secs(10))).await {
                sleep(secs(0.5)).await;
                c.propagate::<()>().await;
            }
        });
        let h = inner.cancel_handle();
        let r = wait_for(secs(0.1), inner).await;
        (r.is_err(), now().to_string(), done.get(), h.cancelled())
    });
    assert_eq!(out, (true, "0.6s".to_string(), true, true));
}

/// CND-12 — a task waiting on a condition catches its cancellation (message "foo") and
/// re-raises; whoever awaits the task sees the same message; the lock is free at the end →
/// `(('foo',), True, False)`.
#[test]
fn cnd_12_cancelled_error_wakeup() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let raised = Rc::new(RefCell::new(None));
        let (c2, r2) = (cond.clone(), raised.clone());
        let task = spawn(async move {
            let g = c2.acquire().await;
            if let Err(c) = cancellable(c2.wait_for(g, || false)).await {
                *r2.borrow_mut() = Some(c.clone());
                c.propagate::<()>().await;
            }
        });
        yield_now().await;
        task.cancel_with("foo");
        let e = task.await.unwrap_err();
        let raised = raised.take().unwrap();
        (
            e.cancel_message().map(str::to_owned),
            raised.message() == e.cancel_message(),
            cond.locked(),
        )
    });
    assert_eq!(out, (Some("foo".to_string()), true, false));
}

/// A cancellation that arrives outside any `cancellable` await is an ordinary one: the task's
/// future is dropped, and a later `cancellable` never sees it.
#[test]
fn cancellation_outside_a_cancellable_await_drops_the_task() {
    let out = detsim::run(async {
        let reached = Rc::new(Cell::new(false));
        let r = reached.clone();
        let t = spawn(async move {
            sleep(Duration::from_secs(1)).await; // plain await: cancelled here
            r.set(true);
            let _ = cancellable(sleep(Duration::from_secs(1))).await;
        });
        yield_now().await;
        t.cancel();
        (t.await.unwrap_err().is_cancelled(), reached.get())
    });
    assert_eq!(out, (true, false));
}

/// TMO-14 — the body swallows the timeout's cancellation and carries on: no timeout, the scope
/// is expired, and `cancelling()` is back to 0 → `(('after-swallow', 0.01), True, 0)`.
#[test]
fn tmo_14_body_swallows_the_timeouts_cancellation() {
    let out = detsim::run(async {
        let cm = detsim::time::timeout_scope(Some(secs(0.01)));
        let r = cm
            .run(async {
                let _ = cancellable(sleep(Duration::from_secs(1))).await; // except: pass
                ("after-swallow", now().to_string())
            })
            .await
            .unwrap();
        (r, cm.expired(), current().cancelling())
    });
    assert_eq!(out, (("after-swallow", "0.01s".to_string()), true, 0));
}

/// A body that catches the timeout's cancellation, cleans up with an await and re-raises it
/// ends the scope with its timeout (asyncio's `Timeout.__aexit__` turns the `CancelledError`
/// into `TimeoutError`), and the task goes on with `cancelling()` at 0.
#[test]
fn timeout_scope_turns_a_reraised_cancellation_into_its_timeout() {
    let out = detsim::run(async {
        let cm = detsim::time::timeout_scope(Some(secs(0.01)));
        let r = cm
            .run(async {
                if let Err(c) = cancellable(sleep(Duration::from_secs(1))).await {
                    sleep(secs(0.5)).await; // cleanup
                    c.propagate::<()>().await;
                }
            })
            .await;
        (
            r.is_err(),
            now().to_string(),
            cm.expired(),
            current().cancelling(),
        )
    });
    assert_eq!(out, (true, "0.51s".to_string(), true, 0));
}

/// TG-12 — the task running a group is cancelled; the group's body catches the cancellation and
/// raises `MyExc`: the group's error holds `['MyExc']`.
#[test]
fn tg_12_body_catches_cancellation_and_raises() {
    let out = detsim::run(async {
        let r = spawn(async {
            detsim::task_group::task_group(|_g| async move {
                match cancellable(sleep(Duration::from_secs(10))).await {
                    Err(_) => Err::<(), _>("MyExc"),
                    Ok(()) => Ok(()),
                }
            })
            .await
        });
        sleep(secs(0.1)).await;
        r.cancel();
        let errors: Vec<String> = r
            .await
            .unwrap()
            .unwrap_err()
            .errors()
            .iter()
            .map(|e| e.to_string())
            .collect();
        errors
    });
    assert_eq!(out, ["MyExc"]);
}

/// The sorted messages of a failed group (the cases print the sorted exception type names).
/// A child that fails with `what` after one `sleep(0)`.
async fn fails_after_sleep_0(what: &'static str) -> Result<(), &'static str> {
    sleep(secs(0.0)).await;
    Err(what)
}

fn sorted_errors<E: std::fmt::Display>(e: &detsim::task_group::TaskGroupError<E>) -> Vec<String> {
    let mut v: Vec<String> = e.errors().iter().map(|e| e.to_string()).collect();
    v.sort();
    v
}

/// TG-13 — a child fails while the body awaits; the body's `finally` raises `MyExc` while the
/// group cancels it: both errors are collected → `['MyExc', 'ZeroDivisionError']`. The body
/// receives the group's cancellation of its task inside `cancellable`.
#[test]
fn tg_13_body_raises_while_the_group_cancels_it() {
    let out = detsim::run(async {
        let runner = spawn(async {
            detsim::task_group::task_group(|g| async move {
                g.spawn(async {
                    sleep(secs(0.1)).await;
                    Err::<(), _>("ZeroDivisionError")
                })
                .unwrap();
                // nested(): `try: await sleep(10) finally: raise MyExc`
                let _ = cancellable(sleep(Duration::from_secs(10))).await;
                Err::<(), _>("MyExc")
            })
            .await
        });
        let r = runner.await.unwrap();
        (sorted_errors(&r.unwrap_err()), now().to_string())
    });
    assert_eq!(
        out,
        (
            vec!["MyExc".to_string(), "ZeroDivisionError".to_string()],
            "0.1s".to_string()
        )
    );
}

/// TG-19 — the group's own cancellation of its task is taken back when it ends: the task's
/// `cancelling()` is 0 after the group → `0`. The second group runs the body under the
/// cooperative form: the body sees the group's request (`cancelling() == 1`), re-raises it, and
/// the count is back to 0 afterwards, with the task running on.
#[test]
fn tg_19_cancelling_level_preserved() {
    let out = detsim::run(async {
        let r = detsim::task_group::task_group(|g| async move {
            g.spawn(fails_after_sleep_0("RuntimeError")).unwrap();
            Ok(())
        })
        .await;
        let plain = (sorted_errors(&r.unwrap_err()), current().cancelling());
        let seen = Rc::new(Cell::new(None));
        let s2 = seen.clone();
        let r = detsim::task_group::task_group(|g| async move {
            g.spawn(fails_after_sleep_0("RuntimeError")).unwrap();
            if let Err(c) = cancellable(sleep(Duration::from_secs(1))).await {
                s2.set(Some(current().cancelling()));
                c.propagate::<()>().await;
            }
            Ok(())
        })
        .await;
        sleep(secs(0.5)).await; // the task was not cancelled: it runs on
        let coop = (
            sorted_errors(&r.unwrap_err()),
            seen.get(),
            current().cancelling(),
        );
        // A cooperative group's wait takes its own cancellation of the task.
        let r = detsim::task_group::task_group(|g| async move {
            g.spawn(fails_after_sleep_0("RuntimeError")).unwrap();
            Ok(())
        })
        .cooperative()
        .await;
        let waiting = (sorted_errors(&r.unwrap_err()), current().cancelling());
        (plain, coop, waiting, now().to_string())
    });
    assert_eq!(out.0, (vec!["RuntimeError".to_string()], 0));
    assert_eq!(out.1, (vec!["RuntimeError".to_string()], Some(1), 0));
    assert_eq!(out.2, (vec!["RuntimeError".to_string()], 0));
    assert_eq!(out.3, "0.5s");
}

/// TG-20 — nested groups both cancel the task (gh-116720): the inner group's wait takes both
/// requests' delivery, gives back its own, and the outer body runs on with `cancelling() == 1`
/// until the outer group gives back its own →
/// `['inner-RuntimeError', ('cancelling-inside-outer', 1), 'outer-ValueError', ('cancelling-after', 0)]`.
#[test]
fn tg_20_nested_groups_both_cancelled() {
    let out = detsim::run(async {
        let log = Rc::new(RefCell::new(Vec::<String>::new()));
        let l2 = log.clone();
        let r = detsim::task_group::task_group(|outer| async move {
            let inner = detsim::task_group::task_group(|inner| async move {
                inner.spawn(fails_after_sleep_0("RuntimeError")).unwrap();
                outer.spawn(fails_after_sleep_0("ValueError")).unwrap();
                Ok(())
            })
            .cooperative()
            .await;
            if sorted_errors(&inner.unwrap_err()) == ["RuntimeError"] {
                l2.borrow_mut().push("inner-RuntimeError".into());
            }
            l2.borrow_mut().push(format!(
                "('cancelling-inside-outer', {})",
                current().cancelling()
            ));
            Ok(())
        })
        .cooperative()
        .await;
        if sorted_errors(&r.unwrap_err()) == ["ValueError"] {
            log.borrow_mut().push("outer-ValueError".into());
        }
        log.borrow_mut()
            .push(format!("('cancelling-after', {})", current().cancelling()));
        log.take()
    });
    assert_eq!(
        out,
        [
            "inner-RuntimeError",
            "('cancelling-inside-outer', 1)",
            "outer-ValueError",
            "('cancelling-after', 0)"
        ]
    );
}

/// A cooperative group cancelled from outside while it waits cancels its children, waits for
/// their cleanup, then re-raises the cancellation with its message (asyncio's
/// `TaskGroup.__aexit__`); without `cooperative()` the group's future is dropped at once.
#[test]
fn cooperative_group_waits_for_children_then_reraises() {
    let out = detsim::run(async {
        let cleaned = Rc::new(Cell::new(None));
        let c2 = cleaned.clone();
        let t = spawn(async move {
            detsim::task_group::task_group(|g| async move {
                g.spawn(async move {
                    if let Err(c) = cancellable(sleep(Duration::from_secs(10))).await {
                        sleep(secs(0.25)).await; // async cleanup
                        c2.set(Some(now().to_string()));
                        c.propagate::<()>().await;
                    }
                    Ok::<_, ()>(())
                })
                .unwrap();
                Ok(())
            })
            .cooperative()
            .await
        });
        sleep(secs(0.5)).await;
        t.cancel_with("stop");
        let r = t.await;
        (
            r.unwrap_err().cancel_message().map(str::to_owned),
            cleaned.take(),
            now().to_string(),
        )
    });
    assert_eq!(
        out,
        (
            Some("stop".to_string()),
            Some("0.75s".to_string()),
            "0.75s".to_string()
        )
    );
}

/// TG-22 — an async context manager's exit raises during the group's cancellation of the body
/// (gh-95289): both errors are collected and `cancelling()` is back to 0 → `(0, 2, 0.0)`.
#[test]
fn tg_22_context_manager_exit_raises() {
    let out = detsim::run(async {
        let main = spawn(async {
            let r = detsim::task_group::task_group(|g| async move {
                // `async with database():` whose `finally` raises CustomException
                g.spawn(async { Err::<(), _>("CustomException") }).unwrap();
                let _ = cancellable(sleep(Duration::from_secs(1))).await;
                Err::<(), _>("CustomException")
            })
            .await;
            (
                current().cancelling(),
                r.unwrap_err().errors().len(),
                now().to_string(),
            )
        });
        main.await.unwrap()
    });
    assert_eq!(out, (0, 2, "0s".to_string()));
}

/// CND-02 — a cancelled `wait()` re-acquires the lock before re-raising: the waiting task ends
/// cancelled, no waiter is left, and the lock is held (the task never released it) →
/// `(True, 0, True)`. `Condition::wait_cancellable` is the cooperative form that keeps the lock.
#[test]
fn cnd_02_wait_cancel_reacquires_the_lock() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let g = cond.acquire().await;
        let c2 = cond.clone();
        let wait = spawn(async move {
            match c2.wait_cancellable(g).await {
                Err((g, cancelled)) => {
                    g.forget(); // held on, as the Python task never releases it
                    cancelled.propagate::<()>().await;
                }
                Ok(g) => drop(g),
            }
        });
        let c = wait.cancel_handle();
        detsim::event_loop::call_soon(move || {
            c.cancel();
        });
        let cancelled = wait.await.unwrap_err().is_cancelled();
        (cancelled, cond.waiter_count(), cond.locked())
    });
    assert_eq!(out, (true, 0, true));
}

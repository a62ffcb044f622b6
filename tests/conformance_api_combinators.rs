//! Conformance cases for `Promise`, `gather`, `wait` and `as_completed` (asyncio's
//! `Future`, `gather`, `wait` and `as_completed`: `Lib/asyncio/futures.py`, `Lib/asyncio/tasks.py`),
//! under the FIFO scheduler, compared with what CPython 3.13.0 prints for the same program. Python-only cases are listed in `tests/UNPORTED.md`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures::StreamExt;

use detsim::combinators::{
    GatherError, ReturnWhen, as_completed, gather_promises_settled, gather_tasks, shield,
    try_gather, try_gather_promises, try_wait, wait,
};
use detsim::promise::{Promise, PromiseError};
use detsim::time::{Duration, now, sleep};
use detsim::{gather, spawn, yield_now};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn t() -> String {
    now().to_string()
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum E {
    ZeroDiv,
    Runtime,
    Value,
}

type P = Promise<i32, E>;

/// FUT-01 — Future state errors: `result()` before done → InvalidState; after `set_result(42)`:
/// 42, not cancelled, done; a second `set_result` and a `set_exception` → InvalidState;
/// `cancel()` → false.
#[test]
fn fut_01_state_errors() {
    detsim::run(async {
        let f = P::new();
        assert!(f.result().is_err());
        f.set_result(42).unwrap();
        assert_eq!(f.result(), Ok(Ok(42)));
        assert!(!f.is_cancelled() && f.is_done());
        assert!(f.set_result(0).is_err());
        assert!(f.set_error(E::Runtime).is_err());
        assert!(!f.cancel());
    });
}

/// FUT-02 — the cancel path: `cancel()` → true; cancelled and done; `result()` → Cancelled;
/// `set_result` → InvalidState; a second `cancel()` → false.
#[test]
fn fut_02_cancel() {
    detsim::run(async {
        let f = P::new();
        assert!(f.cancel());
        assert!(f.is_cancelled() && f.is_done());
        assert_eq!(f.result(), Ok(Err(PromiseError::Cancelled)));
        assert!(f.set_result(1).is_err());
        assert!(!f.cancel());
    });
}

/// FUT-03 — callbacks are deferred and run in order: `add_done_callback(cb42);
/// add_done_callback(cb17); set_result('foo')` → `([], [42, 17])`.
#[test]
fn fut_03_callbacks_deferred_in_order() {
    let out = detsim::run(async {
        let bag = Rc::new(RefCell::new(Vec::new()));
        let f = P::new();
        for n in [42, 17] {
            let b = bag.clone();
            f.add_done_callback(move |_| b.borrow_mut().push(n));
        }
        f.set_result(0).unwrap();
        let immediately = bag.borrow().clone();
        yield_now().await;
        (immediately, bag.take())
    });
    assert_eq!(out, (vec![], vec![42, 17]));
}

/// FUT-04 — `remove_done_callback`: asyncio removes every *equal* callback and returns a count
/// (`[1, 0, 6]`, bag `[2]`). Rust closures have no equality, so a callback is named by the
/// [`CallbackId`](detsim::promise::CallbackId) it was added with: removing cb2 works once, and
/// removing the six cb1 registrations leaves only cb2 to run → bag `[2]`.
#[test]
fn fut_04_remove_done_callback() {
    let out = detsim::run(async {
        let bag = Rc::new(RefCell::new(Vec::new()));
        let f = P::new();
        let cb = |n: i32| {
            let b = bag.clone();
            move |_: &P| b.borrow_mut().push(n)
        };
        let mut ones = vec![f.add_done_callback(cb(1))];
        let two = f.add_done_callback(cb(2));
        let r = vec![f.remove_done_callback(two), f.remove_done_callback(two)];
        f.add_done_callback(cb(2));
        for _ in 0..5 {
            ones.push(f.add_done_callback(cb(1)));
        }
        let removed = ones
            .iter()
            .filter(|id| f.remove_done_callback(**id))
            .count();
        f.set_result(0).unwrap();
        yield_now().await;
        (r, removed, bag.take())
    });
    assert_eq!(out, (vec![true, false], 6, vec![2]));
}

/// FUT-05 — a callback added to a done future is still deferred → `[after-add, cb]`.
#[test]
fn fut_05_callback_on_done_is_deferred() {
    let out = detsim::run(async {
        let out = Rc::new(RefCell::new(Vec::new()));
        let f = P::new();
        f.set_result(1).unwrap();
        let o = out.clone();
        f.add_done_callback(move |_| o.borrow_mut().push("cb"));
        out.borrow_mut().push("after-add");
        yield_now().await;
        out.take()
    });
    assert_eq!(out, ["after-add", "cb"]);
}

/// FUT-06 — a task wakeup is an ordinary callback, ordered by registration:
/// `T = spawn {await f; log task-resumed}; yield0; f.add_done_callback(log cb); f.set_result()`
/// → `[task-resumed, cb]`.
#[test]
fn fut_06_wakeup_ordered_with_callbacks() {
    let out = detsim::run(async {
        let out = Rc::new(RefCell::new(Vec::new()));
        let f = P::new();
        let (f2, o2) = (f.clone(), out.clone());
        let t = spawn(async move {
            f2.wait().await.unwrap();
            o2.borrow_mut().push("task-resumed");
        });
        yield_now().await;
        let o = out.clone();
        f.add_done_callback(move |_| o.borrow_mut().push("cb"));
        f.set_result(0).unwrap();
        t.await.unwrap();
        out.take()
    });
    assert_eq!(out, ["task-resumed", "cb"]);
}

/// GAT-01 — argument order: `g = gather(a,b,c)`; `b.set(1); a.set(2)`; three yields → not done;
/// `c.set(3)` → `(False, [2, 1, 3])`.
#[test]
fn gat_01_argument_order() {
    let out = detsim::run(async {
        let (a, b, c) = (P::new(), P::new(), P::new());
        let g = try_gather_promises([a.clone(), b.clone(), c.clone()]);
        b.set_result(1).unwrap();
        a.set_result(2).unwrap();
        for _ in 0..3 {
            yield_now().await;
        }
        let done = g.is_finished();
        c.set_result(3).unwrap();
        (done, g.await)
    });
    assert_eq!(out, (false, Ok(vec![2, 1, 3])));
}

/// GAT-02 — one exception: `a.set(1); b.set_exception(exc); yield0` → the gather is done with
/// `exc`, and `c` is neither done nor cancelled → `(True, True, False, False)`.
#[test]
fn gat_02_one_exception() {
    let out = detsim::run(async {
        let ps: Vec<P> = (0..5).map(|_| P::new()).collect();
        let g = try_gather_promises(ps.clone());
        ps[0].set_result(1).unwrap();
        ps[1].set_error(E::ZeroDiv).unwrap();
        yield_now().await;
        let r = (g.is_finished(), ps[2].is_done(), ps[2].is_cancelled());
        (r, g.await)
    });
    assert_eq!(
        out,
        ((true, false, false), Err(GatherError::Failed(E::ZeroDiv)))
    );
}

/// GAT-03 — return_exceptions: `b=1, c=ZeroDiv, a=3` → not done; `d=Runtime` →
/// `(False, [3, 1, ZeroDiv, Runtime])`.
#[test]
fn gat_03_return_exceptions() {
    let out = detsim::run(async {
        let ps: Vec<P> = (0..4).map(|_| P::new()).collect();
        let g = gather_promises_settled(ps.clone());
        ps[1].set_result(1).unwrap();
        ps[2].set_error(E::ZeroDiv).unwrap();
        ps[0].set_result(3).unwrap();
        yield_now().await;
        let done = g.is_finished();
        ps[3].set_error(E::Runtime).unwrap();
        let r: Vec<Result<i32, E>> = g.await.into_iter().map(|r| r.unwrap()).collect();
        (done, r)
    });
    assert_eq!(
        out,
        (false, vec![Ok(3), Ok(1), Err(E::ZeroDiv), Err(E::Runtime)])
    );
}

/// GAT-04 — a cancelled child: `a.set(1); b.cancel(); yield0` → done, **not** cancelled, its error
/// is a cancellation; `c` is untouched → `(True, False, 'CancelledError', False)`.
#[test]
fn gat_04_one_cancellation() {
    let out = detsim::run(async {
        let ps: Vec<P> = (0..5).map(|_| P::new()).collect();
        let g = try_gather_promises(ps.clone());
        ps[0].set_result(1).unwrap();
        ps[1].cancel();
        yield_now().await;
        let done = g.is_finished();
        let cancelled = matches!(g.await, Err(GatherError::Join(j)) if j.is_cancelled());
        (done, cancelled, ps[2].is_cancelled())
    });
    assert_eq!(out, (true, true, false));
}

/// GAT-05 — return_exceptions with cancellations:
/// `(False, [1, ZeroDiv, Cancelled, 3, Cancelled, Runtime])`.
#[test]
fn gat_05_return_exceptions_with_cancellations() {
    let out = detsim::run(async {
        let ps: Vec<P> = (0..6).map(|_| P::new()).collect();
        let g = gather_promises_settled(ps.clone());
        ps[0].set_result(1).unwrap();
        ps[1].set_error(E::ZeroDiv).unwrap();
        ps[2].cancel();
        yield_now().await;
        let done = g.is_finished();
        ps[3].set_result(3).unwrap();
        ps[4].cancel();
        ps[5].set_error(E::Runtime).unwrap();
        let r: Vec<String> = g
            .await
            .into_iter()
            .map(|r| match r {
                Ok(Ok(v)) => v.to_string(),
                Ok(Err(e)) => format!("{e:?}"),
                Err(j) if j.is_cancelled() => "Cancelled".into(),
                Err(j) => j.to_string(),
            })
            .collect();
        (done, r)
    });
    assert_eq!(
        out,
        (
            false,
            ["1", "ZeroDiv", "Cancelled", "3", "Cancelled", "Runtime"]
                .map(String::from)
                .to_vec()
        )
    );
}

/// GAT-07 — cancel broadcast: two child tasks await `waiter`; `F = spawn {await gather(c1, c2);
/// proof += 100}`; `yield0; F.cancel()` → true; F cancelled; both children cancelled and never ran
/// past their await (proof 0). (asyncio also cancels `waiter` itself, because a cancelled task
/// cancels the future it awaits; a Rust waiter only stops waiting, so that part is Python-only.)
#[test]
fn gat_07_cancel_broadcast() {
    let out = detsim::run(async {
        let proof = Rc::new(Cell::new(0));
        let waiter = P::new();
        let child = || {
            let (w, p) = (waiter.clone(), proof.clone());
            spawn(async move {
                w.wait().await.unwrap();
                p.set(p.get() + 1);
            })
        };
        let (c1, c2) = (child(), child());
        let (k1, k2) = (c1.cancel_handle(), c2.cancel_handle());
        let p = proof.clone();
        let f = spawn(async move {
            gather_tasks([c1, c2]).await.unwrap();
            p.set(p.get() + 100);
        });
        yield_now().await;
        let c = f.cancel();
        let f_cancelled = f.await.unwrap_err().is_cancelled();
        yield_now().await;
        (
            c,
            f_cancelled,
            k1.is_finished(),
            k2.is_finished(),
            proof.get(),
        )
    });
    assert_eq!(out, (true, true, true, true, 0));
}

/// GAT-10 — `gather()` with no arguments → `[]`.
#[test]
fn gat_10_empty() {
    let out = detsim::run(async { gather(Vec::<std::future::Ready<i32>>::new()).await.unwrap() });
    assert!(out.is_empty());
}

/// GAT-11 — `gather(shield(child1), shield(child2))` cancelled: the shields are cancelled, the
/// children are not → `('CancelledError', False, True, True, False, False)`.
#[test]
fn gat_11_gather_of_shields() {
    let out = detsim::run(async {
        let (p1, p2) = (P::new(), P::new());
        let child1 = spawn({
            let p = p1.clone();
            async move { p.wait().await }
        });
        let child2 = spawn({
            let p = p2.clone();
            async move { p.wait().await }
        });
        let (k1, k2) = (child1.cancel_handle(), child2.cancel_handle());
        let inner1 = shield(child1);
        let inner2 = shield(child2);
        let (s1, s2) = (inner1.cancel_handle(), inner2.cancel_handle());
        let parent = gather_tasks([inner1, inner2]);
        yield_now().await;
        drop(parent); // cancels the gather: its children are the shields
        yield_now().await;
        let r = (
            s1.is_finished(),
            s2.is_finished(),
            k1.is_finished(),
            k2.is_finished(),
        );
        p1.set_result(1).unwrap();
        p2.set_result(2).unwrap();
        yield_now().await;
        (r, k1.is_finished() && k2.is_finished())
    });
    assert_eq!(out, ((true, true, false, false), true));
}

/// GAT-12 — results in argument order, not completion order:
/// `(['slow', 'fast', 'mid'], [('fast', 0.1), ('mid', 0.2), ('slow', 0.3)])`.
#[test]
fn gat_12_argument_not_completion_order() {
    let out = detsim::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let w = |name: &'static str, d| {
            let log = log.clone();
            async move {
                sleep(ms(d)).await;
                log.borrow_mut().push((name, t()));
                name
            }
        };
        let res = gather([w("slow", 300), w("fast", 100), w("mid", 200)])
            .await
            .unwrap();
        (res, log.take())
    });
    assert_eq!(out.0, ["slow", "fast", "mid"]);
    assert_eq!(
        out.1,
        [("fast", "0.1s"), ("mid", "0.2s"), ("slow", "0.3s")].map(|(a, b)| (a, b.to_string()))
    );
}

/// GAT-13 — first error wins, siblings live on: `gather(ok(0.5), bad(0.1))` raises at t=0.1 while
/// `ok` is still pending; `ok` finishes at t=0.5.
#[test]
fn gat_13_first_error_siblings_live_on() {
    let out = detsim::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let done = Rc::new(Cell::new(false));
        let (l, d) = (log.clone(), done.clone());
        let ok = Box::pin(async move {
            sleep(ms(500)).await;
            l.borrow_mut().push(("ok-finished".to_string(), t()));
            d.set(true);
            Ok(())
        }) as std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), E>>>>;
        let bad = Box::pin(async {
            sleep(ms(100)).await;
            Err(E::Value)
        });
        let r = try_gather([ok, bad]).await;
        assert_eq!(r, Err(GatherError::Failed(E::Value)));
        log.borrow_mut()
            .push((format!("gather-raised ok-done={}", done.get()), t()));
        sleep(ms(1000)).await;
        log.take()
    });
    assert_eq!(
        out,
        [
            (
                "gather-raised ok-done=false".to_string(),
                "0.1s".to_string()
            ),
            ("ok-finished".to_string(), "0.5s".to_string())
        ]
    );
}

/// GAT-12 companion: `gather!` over futures of different types keeps argument order.
#[test]
fn gat_12_tuple_macro() {
    let out = detsim::run(async {
        detsim::gather!(
            async {
                sleep(ms(20)).await;
                "slow"
            },
            async { 1 }
        )
        .await
        .unwrap()
    });
    assert_eq!(out, ("slow", 1));
}

/// WAI-01 — `wait([b, a])` → both done, nothing pending, t=0.15.
#[test]
fn wai_01_all_completed() {
    let out = detsim::run(async {
        let a = spawn(sleep(ms(100)));
        let b = spawn(sleep(ms(150)));
        let r = wait([b, a], None, ReturnWhen::AllCompleted).await;
        (r.done.len(), r.pending.len(), t())
    });
    assert_eq!(out, (2, 0, "0.15s".to_string()));
}

/// WAI-02 — FIRST_COMPLETED: `a = sleep 10, b = sleep 0.1`; `wait([b, a])` → `done={b}`,
/// `pending={a}` at t=0.1; `a` not done (nor cancelled).
#[test]
fn wai_02_first_completed() {
    let out = detsim::run(async {
        let a = spawn(sleep(ms(10_000)));
        let b = spawn(sleep(ms(100)));
        let (ia, ib) = (a.id(), b.id());
        let r = wait([b, a], None, ReturnWhen::FirstCompleted).await;
        let res = (
            r.done.iter().map(|h| h.id()).collect::<Vec<_>>() == [ib],
            r.pending.iter().map(|h| h.id()).collect::<Vec<_>>() == [ia],
            r.pending[0].is_finished(),
            t(),
        );
        r.pending[0].cancel();
        res
    });
    assert_eq!(out, (true, true, false, "0.1s".to_string()));
}

/// WAI-03 — FIRST_EXCEPTION: `b` raises at 0.01 → `done={b}`, `pending={a}`, t=0.01.
#[test]
fn wai_03_first_exception() {
    let out = detsim::run(async {
        let a = spawn(async {
            sleep(ms(10_000)).await;
            Ok(())
        });
        let b = spawn(async {
            sleep(ms(10)).await;
            Err(E::ZeroDiv)
        });
        let (ia, ib) = (a.id(), b.id());
        let r = try_wait([b, a], None, ReturnWhen::FirstException).await;
        let res = (r.done[0].id() == ib, r.pending[0].id() == ia, t());
        r.pending[0].cancel();
        res
    });
    assert_eq!(out, (true, true, "0.01s".to_string()));
}

/// WAI-04 — a timeout is not an error: `a = sleep 0.1, b = sleep 0.15`; `wait([b, a],
/// timeout=0.11)` → `done={a}`, `pending={b}` at t=0.11; `b` not cancelled (it completes).
#[test]
fn wai_04_timeout_is_not_an_error() {
    let out = detsim::run(async {
        let a = spawn(sleep(ms(100)));
        let b = spawn(sleep(ms(150)));
        let (ia, ib) = (a.id(), b.id());
        let mut r = wait([b, a], Some(ms(110)), ReturnWhen::AllCompleted).await;
        let res = (r.done[0].id() == ia, r.pending[0].id() == ib, t());
        let b = r.pending.pop().unwrap();
        (res, b.await.is_ok(), t())
    });
    assert_eq!(
        out,
        ((true, true, "0.11s".to_string()), true, "0.15s".to_string())
    );
}

/// WAI-05 — `wait(set())` raises ValueError: here, a panic naming the mistake. (A bad
/// `return_when` and bare coroutines cannot be expressed: `ReturnWhen` is an enum and `wait`
/// takes task handles.)
#[test]
fn wai_05_empty_wait_is_an_error() {
    let failure = detsim::Builder::new()
        .run(async {
            wait(
                Vec::<detsim::JoinHandle<()>>::new(),
                None,
                ReturnWhen::AllCompleted,
            )
            .await;
        })
        .unwrap_err();
    assert!(
        failure.to_string().contains("was given no tasks"),
        "{failure}"
    );
}

/// WAI-07 — wait does not shield: `F = spawn {wait([spawn inner])}`; `yield0; F.cancel()` → F
/// cancelled; `waiter.set(None)` → the inner task still completes (proof == 1).
#[test]
fn wai_07_wait_does_not_shield_cancel() {
    let out = detsim::run(async {
        let proof = Rc::new(Cell::new(0));
        let waiter = P::new();
        let (w, p) = (waiter.clone(), proof.clone());
        let f = spawn(async move {
            let p2 = p.clone();
            let inner = spawn(async move {
                w.wait().await.unwrap();
                p2.set(p2.get() + 1);
            });
            wait([inner], None, ReturnWhen::AllCompleted).await;
            p.set(p.get() + 100);
        });
        yield_now().await;
        f.cancel();
        let cancelled = f.await.unwrap_err().is_cancelled();
        waiter.set_result(0).unwrap();
        yield_now().await;
        yield_now().await;
        (cancelled, proof.get())
    });
    assert_eq!(out, (true, 1));
}

fn sleeper(d: u64, x: &'static str) -> detsim::JoinHandle<(&'static str, String)> {
    spawn(async move {
        sleep(ms(d)).await;
        (x, t())
    })
}

/// AC-01 — completion order: `as_completed([sleep(0.01)→b, sleep(0.15)→c, sleep(0.02)→a])` →
/// `[(b, 0.01), (a, 0.02), (c, 0.15)]`.
#[test]
fn ac_01_completion_order() {
    let out = detsim::run(async {
        let mut s = as_completed(
            [sleeper(10, "b"), sleeper(150, "c"), sleeper(20, "a")],
            None,
        );
        let mut vals = Vec::new();
        while let Some(item) = s.next().await {
            vals.push(item.unwrap().1.unwrap());
        }
        vals
    });
    assert_eq!(
        out,
        [("b", "0.01s"), ("a", "0.02s"), ("c", "0.15s")].map(|(a, b)| (a, b.to_string()))
    );
}

/// AC-02 — with a timeout: `as_completed([a(0.1), b(0.15)], timeout=0.12)` →
/// `[('a', 0.1), ('TimeoutError', 0.12)]`.
#[test]
fn ac_02_timeout() {
    let out = detsim::run(async {
        let mut s = as_completed([sleeper(100, "a"), sleeper(150, "b")], Some(ms(120)));
        let mut vals = Vec::new();
        while let Some(item) = s.next().await {
            match item {
                Ok((_, r)) => vals.push((r.unwrap().0, t())),
                Err(_) => vals.push(("TimeoutError", t())),
            }
        }
        vals
    });
    assert_eq!(
        out,
        [("a", "0.1s"), ("TimeoutError", "0.12s")].map(|(a, b)| (a, b.to_string()))
    );
}

/// AC-03 — "reverse wait": whichever item is awaited first gets the first completion →
/// `(('a', 0.05), ('b', 0.1))`.
#[test]
fn ac_03_reverse_wait() {
    let out = detsim::run(async {
        let mut s = as_completed([sleeper(50, "a"), sleeper(100, "b")], None);
        let x = (s.next().await.unwrap().unwrap().1.unwrap().0, t());
        let y = (s.next().await.unwrap().unwrap().1.unwrap().0, t());
        (x, y)
    });
    assert_eq!(out, (("a", "0.05s".to_string()), ("b", "0.1s".to_string())));
}

/// AC-04 — the items identify the input tasks (asyncio 3.13 yields the same task objects; here
/// each item carries its input position) → `[(False, 'a'), (True, 'b')]`.
#[test]
fn ac_04_items_identify_inputs() {
    let out = detsim::run(async {
        let tb = spawn(async { "b" });
        let ta = spawn(async { "a" });
        let mut s = as_completed([tb, ta], None);
        let mut outs = Vec::new();
        while let Some(item) = s.next().await {
            let (i, r) = item.unwrap();
            outs.push((i == 0, r.unwrap()));
        }
        outs.sort_by_key(|x| x.1);
        outs
    });
    assert_eq!(out, [(false, "a"), (true, "b")]);
}

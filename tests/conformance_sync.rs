//! Conformance cases for Lock, Event, Condition, Semaphore and BoundedSemaphore
//! (`Lib/asyncio/locks.py`), run under the FIFO scheduler and compared with what CPython 3.13.0
//! prints for the same program.
//!
//! Porting conventions: `call_soon(f)` is a spawned task; `T.cancel()` is `JoinHandle::cancel` or
//! a `CancelHandle`; asyncio's unowned `lock.release()` is `LockGuard::forget` + `Lock::release`;
//! a task's `except CancelledError: log` is a drop logger in the task. Cases not ported are listed
//! with their reason in `tests/UNPORTED.md` (CND-07); CND-02 and CND-12 are in
//! `conformance_cooperative.rs`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use detsim::sync::{BoundedSemaphore, Condition, Event, Lock, Semaphore, SemaphoreOverRelease};
use detsim::task::CancelHandle;
use detsim::time::{Duration, now, sleep, timeout};
use detsim::{spawn, yield_now};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::new(RefCell::new(Vec::new()))
}

fn push(l: &Log, s: impl Into<String>) {
    l.borrow_mut().push(s.into());
}

fn snap(l: &Log) -> Vec<String> {
    l.borrow().clone()
}

/// Logs its message when dropped unless disarmed: Python's `except CancelledError: log(..)`.
struct OnCancel(Log, &'static str);

impl OnCancel {
    fn disarm(self) {
        std::mem::forget(self);
    }
}

impl Drop for OnCancel {
    fn drop(&mut self) {
        push(&self.0, self.1);
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

// ----------------------------------------------------------------------------------------------
// Lock
// ----------------------------------------------------------------------------------------------

/// LCK-01 — FIFO. Main holds the lock; `c(n) = {acquire; log n}`.
/// `spawn c1, c2; yield0 → []; release; yield0 → [1]; yield0 → [1]; spawn c3; release; yield0 →
/// [1,2]; release; yield0 → [1,2,3]`. Expected `[[], [1], [1], [1, 2], [1, 2, 3]]`.
#[test]
fn lck_01_fifo() {
    let snaps = detsim::run(async {
        let lock = Lock::new();
        let result = log();
        let mut snaps = Vec::new();
        lock.acquire().await.forget();
        let c = |n: u32| {
            let (lock, result) = (lock.clone(), result.clone());
            spawn(async move {
                lock.acquire().await.forget();
                push(&result, n.to_string());
            })
        };
        let _t1 = c(1);
        let _t2 = c(2);
        yield_now().await;
        snaps.push(snap(&result));
        lock.release();
        yield_now().await;
        snaps.push(snap(&result));
        yield_now().await;
        snaps.push(snap(&result));
        let _t3 = c(3);
        lock.release();
        yield_now().await;
        snaps.push(snap(&result));
        lock.release();
        yield_now().await;
        snaps.push(snap(&result));
        snaps
    });
    assert_eq!(
        snaps,
        [
            vec![],
            vec!["1"],
            vec!["1"],
            vec!["1", "2"],
            vec!["1", "2", "3"]
        ]
    );
}

/// LCK-02 — cancelling a waiter. Main holds; `T = spawn acquire(); call_soon(T.cancel); await T`
/// → `Cancelled`; waiters empty; lock still locked (by main). Expected `(True, 0, True)`.
#[test]
fn lck_02_cancelling_a_waiter() {
    let out = detsim::run(async {
        let lock = Lock::new();
        lock.acquire().await.forget();
        let l2 = lock.clone();
        let t = spawn(async move { l2.acquire().await.forget() });
        let c = t.cancel_handle();
        spawn(async move {
            c.cancel();
        });
        let cancelled = t.await.unwrap_err().is_cancelled();
        (cancelled, lock.waiter_count(), lock.locked())
    });
    assert_eq!(out, (true, 0, true));
}

/// LCK-03 — a cancelled head waiter forwards the wakeup. A holds the lock and blocks on `fa`; B,
/// then C, queue. In one step: `fa.set_result(); B.cancel()`; `yield0` → `locked()==false`, A
/// done, B cancelled. C then acquires. Expected
/// `((False, True, True), ['A-acquired', 'C-acquired'], False)`.
#[test]
fn lck_03_cancelled_head_waiter_forwards_wakeup() {
    let out = detsim::run(async {
        let lock = Lock::new();
        let out = log();
        let lockit = |name: &'static str, blocker: Option<Event>| {
            let (lock, out) = (lock.clone(), out.clone());
            spawn(async move {
                let g = lock.acquire().await;
                push(&out, format!("{name}-acquired"));
                if let Some(b) = blocker {
                    b.wait().await;
                }
                drop(g);
            })
        };
        let fa = Event::new();
        let ta = lockit("A", Some(fa.clone()));
        yield_now().await;
        let tb = lockit("B", None);
        yield_now().await;
        let tc = lockit("C", None);
        yield_now().await;
        fa.set();
        tb.cancel();
        yield_now().await;
        let mid = (lock.locked(), ta.is_finished(), tb.is_finished());
        tc.await.unwrap();
        assert!(tb.await.unwrap_err().is_cancelled());
        (mid, snap(&out), lock.locked())
    });
    assert_eq!(
        out,
        (
            (false, true, true),
            vec!["A-acquired".to_string(), "C-acquired".to_string()],
            false
        )
    );
}

/// LCK-06 — `Lock().release()` on an unlocked lock → `RuntimeError` (a panic naming the
/// mistake here).
#[test]
fn lck_06_release_not_acquired() {
    let r = std::panic::catch_unwind(|| Lock::new().release());
    let msg = *r.unwrap_err().downcast::<&str>().unwrap();
    assert!(msg.contains("released a Lock that is not locked"), "{msg}");
}

/// LCK-07 — fast path when every waiter is cancelled. Main holds;
/// `W = spawn acquire(); yield0; W.cancel(); release(); await acquire()` → main acquires
/// without suspending. Expected `(['main-acquired', 'w-cancelled'], True)`.
#[test]
fn lck_07_fast_path_when_every_waiter_cancelled() {
    let out = detsim::run(async {
        let lock = Lock::new();
        let out = log();
        lock.acquire().await.forget();
        let (l2, o2) = (lock.clone(), out.clone());
        let t = spawn(async move {
            let armed = OnCancel(o2, "w-cancelled");
            l2.acquire().await.forget();
            armed.disarm();
        });
        yield_now().await;
        t.cancel();
        lock.release();
        lock.acquire().await.forget();
        push(&out, "main-acquired");
        yield_now().await;
        (snap(&out), lock.locked())
    });
    assert_eq!(
        out,
        (
            vec!["main-acquired".to_string(), "w-cancelled".into()],
            true
        )
    );
}

/// LCK-09 — not owned by a task: a lock acquired by one task may be released by another.
/// Expected `(True, False)`.
#[test]
fn lck_09_not_owned_by_a_task() {
    let out = detsim::run(async {
        let lock = Lock::new();
        let l2 = lock.clone();
        spawn(async move { l2.acquire().await.forget() })
            .await
            .unwrap();
        let a = lock.locked();
        lock.release();
        (a, lock.locked())
    });
    assert_eq!(out, (true, false));
}

/// LCK-10 — a waiter cancelled after being woken passes the lock on. Main holds;
/// `W1, W2 = spawn acquire(); yield0; release()` (W1 woken); `W1.cancel(); yield0; yield0`.
/// Expected `(['w1-cancelled', 'w2-acquired'], True, True, True)`.
#[test]
fn lck_10_woken_then_cancelled_waiter_passes_lock_on() {
    let out = detsim::run(async {
        let lock = Lock::new();
        let out = log();
        lock.acquire().await.forget();
        let w = |name: &'static str, cancelled: &'static str| {
            let (lock, out) = (lock.clone(), out.clone());
            spawn(async move {
                let armed = OnCancel(out.clone(), cancelled);
                lock.acquire().await.forget();
                armed.disarm();
                push(&out, format!("{name}-acquired"));
            })
        };
        let w1 = w("w1", "w1-cancelled");
        let w2 = w("w2", "w2-cancelled");
        yield_now().await;
        lock.release();
        w1.cancel();
        yield_now().await;
        yield_now().await;
        let r = (
            snap(&out),
            lock.locked(),
            w1.is_finished(),
            w2.is_finished(),
        );
        assert!(w1.await.unwrap_err().is_cancelled());
        r
    });
    assert_eq!(
        out,
        (
            vec!["w1-cancelled".to_string(), "w2-acquired".into()],
            true,
            true,
            true
        )
    );
}

// ----------------------------------------------------------------------------------------------
// Event
// ----------------------------------------------------------------------------------------------

/// EVT-02 — set/clear/set/set. One waiter parked; `set(); clear(); is_set()==false; set();
/// set()`; waiters still 1; `yield0` → waiter logged once, `[1]`; waiters 0; result `true`.
/// Expected `(False, 1, [1], 0, True)`.
#[test]
fn evt_02_set_clear_set_set() {
    let out = detsim::run(async {
        let ev = Event::new();
        let result = log();
        let (e2, r2) = (ev.clone(), result.clone());
        let t = spawn(async move {
            e2.wait().await;
            push(&r2, "1");
            true
        });
        yield_now().await;
        ev.set();
        ev.clear();
        let s = ev.is_set();
        ev.set();
        ev.set();
        let w = ev.waiter_count();
        yield_now().await;
        (s, w, snap(&result), ev.waiter_count(), t.await.unwrap())
    });
    assert_eq!(out, (false, 1, vec!["1".to_string()], 0, true));
}

/// EVT-03 — clear does not revoke a wakeup. Waiter parked; `set(); clear(); await waiter` → the
/// waiter's `wait()` returns while `is_set()==false`. Expected `[(True, False)]`.
#[test]
fn evt_03_clear_does_not_revoke_a_wakeup() {
    let out = detsim::run(async {
        let ev = Event::new();
        let e2 = ev.clone();
        let t = spawn(async move {
            e2.wait().await;
            (true, e2.is_set())
        });
        yield_now().await;
        ev.set();
        ev.clear();
        t.await.unwrap()
    });
    assert_eq!(out, (true, false));
}

/// EVT-04 — a cancelled wait leaves the queue: `w = spawn ev.wait(); call_soon(w.cancel);
/// await w`. Expected `(True, 0)`.
#[test]
fn evt_04_wait_cancel() {
    let out = detsim::run(async {
        let ev = Event::new();
        let w = spawn(ev.wait());
        let c = w.cancel_handle();
        spawn(async move {
            c.cancel();
        });
        (w.await.unwrap_err().is_cancelled(), ev.waiter_count())
    });
    assert_eq!(out, (true, 0));
}

/// EVT-05 — wait on a set event does not suspend: a task spawned just before runs after.
/// Expected `[('main', True), 'other-task']`.
#[test]
fn evt_05_wait_on_set_event_does_not_suspend() {
    let out = detsim::run(async {
        let ev = Event::new();
        ev.set();
        let out = log();
        let o2 = out.clone();
        spawn(async move { push(&o2, "other-task") });
        ev.wait().await;
        push(&out, "main");
        yield_now().await;
        snap(&out)
    });
    assert_eq!(out, ["main", "other-task"]);
}

// ----------------------------------------------------------------------------------------------
// Condition
// ----------------------------------------------------------------------------------------------

/// CND-13 — `async with cond: wait_for(cond.wait(), 0.5)` times out with the lock **held**
/// again (bpo-33638) → `('TimeoutError', 0.5, True)`, and released after the block (`False`).
/// `Condition::wait_timeout` is the Rust form: the guard comes back with the timeout.
#[test]
fn cnd_13_timeout_in_block() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let g = cond.acquire().await;
        let (g, _elapsed) = cond
            .wait_timeout(g, Duration::from_millis(500))
            .await
            .unwrap_err();
        let inside = (now().as_secs_f64(), cond.locked());
        drop(g); // the end of `async with`
        (inside, cond.locked())
    });
    assert_eq!(out, ((0.5, true), false));
}

/// `wait_timeout` that is notified in time returns the guard; with a zero timeout the lock is
/// never released (asyncio cancels the wait before it runs).
#[test]
fn condition_wait_timeout_notified_in_time_or_with_a_zero_timeout() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let l = log();
        let (c1, l1) = (cond.clone(), l.clone());
        let quick = spawn(async move {
            let g = c1.acquire().await;
            let r = c1.wait_timeout(g, Duration::from_secs(10)).await;
            push(&l1, format!("quick notified: {}", r.is_ok()));
        });
        yield_now().await;
        let g = cond.acquire().await;
        cond.notify(1);
        drop(g);
        quick.await.unwrap();
        let g = cond.acquire().await;
        let (g, _) = cond.wait_timeout(g, Duration::ZERO).await.unwrap_err();
        push(
            &l,
            format!("zero timeout keeps the lock: {}", cond.locked()),
        );
        drop(g);
        snap(&l)
    });
    assert_eq!(
        out,
        ["quick notified: true", "zero timeout keeps the lock: true"]
    );
}

/// CND-01 — notify without releasing. Three tasks `{acquire; await wait(); log n}`; `yield0` →
/// `[]`, unlocked. `acquire; notify(); yield0` → `[]`, locked. `release; yield0` → `[1]`, locked
/// (task 1 holds it). `notify(2); yield0` → `[1]`. `release; yield0` → `[1,2]`. `release; yield0`
/// → `[1,2,3]`. Expected `[('start', [], False), ('notify1-held', [], True), ('release', [1],
/// True), ('notify2', [1], True), ('release', [1, 2], True), ('release', [1, 2, 3], True)]`.
#[test]
fn cnd_01_notify_without_releasing() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let result = log();
        let mut snaps = Vec::new();
        for n in 1..=3 {
            let (cond, result) = (cond.clone(), result.clone());
            spawn(async move {
                let g = cond.acquire().await;
                cond.wait(g).await.forget();
                push(&result, n.to_string());
            });
        }
        yield_now().await;
        snaps.push(("start", snap(&result), cond.locked()));
        cond.acquire().await.forget();
        cond.notify(1);
        yield_now().await;
        snaps.push(("notify1-held", snap(&result), cond.locked()));
        cond.lock().release();
        yield_now().await;
        snaps.push(("release", snap(&result), cond.locked()));
        cond.notify(2);
        yield_now().await;
        snaps.push(("notify2", snap(&result), cond.locked()));
        cond.lock().release();
        yield_now().await;
        snaps.push(("release", snap(&result), cond.locked()));
        cond.lock().release();
        yield_now().await;
        snaps.push(("release", snap(&result), cond.locked()));
        snaps
    });
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        out,
        [
            ("start", v(&[]), false),
            ("notify1-held", v(&[]), true),
            ("release", v(&["1"]), true),
            ("notify2", v(&["1"]), true),
            ("release", v(&["1", "2"]), true),
            ("release", v(&["1", "2", "3"]), true),
        ]
    );
}

/// CND-04 — cancelled while re-acquiring after a notify.
/// `W = spawn {async with cond: await wait()}; yield0; acquire; notify(); yield0; W.cancel();
/// yield0; release(); yield0` → W cancelled (not swallowed); the lock is free afterwards.
/// Expected `(True, True, False)`.
#[test]
fn cnd_04_cancelled_while_reacquiring_after_notify() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let waited = Rc::new(Cell::new(false));
        let (c2, w2) = (cond.clone(), waited.clone());
        let waiter = spawn(async move {
            let g = c2.acquire().await;
            w2.set(true);
            let _g = c2.wait(g).await;
        });
        yield_now().await;
        cond.acquire().await.forget();
        cond.notify(1);
        yield_now().await;
        waiter.cancel();
        yield_now().await;
        cond.lock().release();
        yield_now().await;
        (
            waiter.await.unwrap_err().is_cancelled(),
            waited.get(),
            cond.locked(),
        )
    });
    assert_eq!(out, (true, true, false));
}

/// CND-05 — `wait`, `notify` and `notify_all` without the lock → `RuntimeError` (panics here).
/// `wait` takes the lock's guard, so calling it unlocked does not compile; the runtime check
/// left is a guard of another lock. Expected `['wait:RuntimeError', 'notify:RuntimeError',
/// 'notify:RuntimeError']`.
#[test]
fn cnd_05_wait_and_notify_unacquired() {
    use futures::FutureExt;
    let cond = Condition::new();
    let other = Lock::new();
    let foreign = other.acquire().now_or_never().unwrap();
    let mut out = Vec::new();
    let c = cond.clone();
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(c.wait(foreign))))
        .is_err()
    {
        out.push("wait:RuntimeError");
    }
    let c = cond.clone();
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || c.notify(1))).is_err() {
        out.push("notify:RuntimeError");
    }
    let c = cond.clone();
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || c.notify_all())).is_err() {
        out.push("notify:RuntimeError");
    }
    assert_eq!(
        out,
        [
            "wait:RuntimeError",
            "notify:RuntimeError",
            "notify:RuntimeError"
        ]
    );
}

/// CND-06 — wait_for re-checks the predicate. `T={acquire; wait_for(λ p); log 1; release}`;
/// `notify` with `p=false` → `[]`; `p=true; notify` → `[1]`; T's result `true`.
/// Expected `([[], [1]], True)`.
#[test]
fn cnd_06_wait_for_rechecks_predicate() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let p = Rc::new(Cell::new(false));
        let result = log();
        let (c2, p2, r2) = (cond.clone(), p.clone(), result.clone());
        let t = spawn(async move {
            let g = c2.acquire().await;
            let g = c2.wait_for(g, || p2.get()).await;
            push(&r2, "1");
            drop(g);
            true
        });
        let mut snaps = Vec::new();
        yield_now().await;
        let g = cond.acquire().await;
        cond.notify(1);
        drop(g);
        yield_now().await;
        snaps.push(snap(&result));
        p.set(true);
        let g = cond.acquire().await;
        cond.notify(1);
        drop(g);
        yield_now().await;
        snaps.push(snap(&result));
        (snaps, t.await.unwrap())
    });
    assert_eq!(out, (vec![vec![], vec!["1".to_string()]], true));
}

/// Spawns CND-08/09's `c(n) = {acquire; if wait(): log n; release}`.
fn cond_waiters(cond: &Condition, result: &Log, n: u32) {
    for i in 1..=n {
        let (cond, result) = (cond.clone(), result.clone());
        spawn(async move {
            let g = cond.acquire().await;
            let g = cond.wait(g).await;
            push(&result, i.to_string());
            drop(g);
        });
    }
}

/// CND-08 — notify(n) wakes n waiters in FIFO order: `notify(1)` → `[1]`; `notify(1);
/// notify(2048)` → `[1, 2, 3]`. Expected `[[1], [1, 2, 3]]`.
#[test]
fn cnd_08_notify() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let result = log();
        cond_waiters(&cond, &result, 3);
        let mut snaps = Vec::new();
        yield_now().await;
        let g = cond.acquire().await;
        cond.notify(1);
        drop(g);
        yield_now().await;
        snaps.push(snap(&result));
        let g = cond.acquire().await;
        cond.notify(1);
        cond.notify(2048);
        drop(g);
        yield_now().await;
        snaps.push(snap(&result));
        snaps
    });
    assert_eq!(out, [vec!["1"], vec!["1", "2", "3"]]);
}

/// CND-09 — notify_all. Expected `[1, 2]`.
#[test]
fn cnd_09_notify_all() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let result = log();
        cond_waiters(&cond, &result, 2);
        yield_now().await;
        let g = cond.acquire().await;
        cond.notify_all();
        drop(g);
        yield_now().await;
        snap(&result)
    });
    assert_eq!(out, ["1", "2"]);
}

/// CND-11 — a notified waiter cancelled before it runs passes the notification on (gh-112202).
/// Two consumers `{async with cond: loop {wait_for(state != 0); if state < 0 return; state -=
/// 1}}`; main, holding the lock: `state += 1; notify(1); yield0; c0.cancel(); timeout(0.01)
/// { wait_for(state == 0) }`; then `s = state; state = -1; notify_all`.
/// Expected `(0, ('timeout', 0.01), True)`: c1 consumed the item, main's wait timed out.
/// Rust difference: after the timeout drops `wait_for`, main re-acquires the lock explicitly
/// (asyncio's cancelled `wait` re-acquires it itself; a drop cannot await).
#[test]
fn cnd_11_cancelled_wakeup_relock() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let state = Rc::new(Cell::new(0i32));
        let consumer = || {
            let (cond, state) = (cond.clone(), state.clone());
            spawn(async move {
                let mut g = cond.acquire().await;
                loop {
                    g = cond.wait_for(g, || state.get() != 0).await;
                    if state.get() < 0 {
                        return;
                    }
                    state.set(state.get() - 1);
                }
            })
        };
        let c0 = consumer();
        let c1 = consumer();
        yield_now().await;
        let g = cond.acquire().await;
        state.set(state.get() + 1);
        cond.notify(1);
        yield_now().await;
        c0.cancel();
        let s2 = state.clone();
        let how = match timeout(ms(10), cond.wait_for(g, move || s2.get() == 0)).await {
            Ok(g) => {
                g.forget();
                ("consumed-at", now().to_string())
            }
            Err(_) => ("timeout", now().to_string()),
        };
        if !cond.locked() {
            cond.acquire().await.forget();
        }
        let s = state.get();
        state.set(-1);
        cond.notify_all();
        cond.lock().release();
        c1.await.unwrap();
        (s, how, c0.await.unwrap_err().is_cancelled())
    });
    assert_eq!(out, (0, ("timeout", "0.01s".to_string()), true));
}

// ----------------------------------------------------------------------------------------------
// Semaphore / BoundedSemaphore
// ----------------------------------------------------------------------------------------------

/// SEM-01 — `Semaphore(-1)` → `ValueError` (a negative value is unrepresentable: the value is a
/// `usize`); `Semaphore(0).locked()` → `True`. Expected `['ValueError', True]`.
#[test]
fn sem_01_value_and_initial_zero() {
    assert!(Semaphore::new(0).locked());
    assert!(!Semaphore::new(1).locked());
}

/// SEM-02. `sem=Semaphore(3)`; acquire twice (`locked()==false`). `spawn c1..c3 {acquire; log
/// n}; yield0` → `[1]`, `locked()`, 2 waiters, value 0. `spawn c4; release(); release()` → value
/// 0 (reserved). `yield0` → `[1,2,3]`, 1 waiter (c4), value 0, c4 not done. Then `release` → c4
/// runs: `[1,2,3,4]`.
#[test]
fn sem_02_acquire() {
    #[derive(Debug, PartialEq)]
    enum S {
        Locked(bool),
        A(Vec<String>, bool, usize, usize),
        Value(usize),
        B(Vec<String>, bool, usize, usize, Vec<bool>),
        Final(Vec<String>),
    }
    let out = detsim::run(async {
        let sem = Semaphore::new(3);
        let result = log();
        let mut snaps = Vec::new();
        sem.acquire().await.forget();
        sem.acquire().await.forget();
        snaps.push(S::Locked(sem.locked()));
        let c = |n: u32| {
            let (sem, result) = (sem.clone(), result.clone());
            spawn(async move {
                sem.acquire().await.forget();
                push(&result, n.to_string());
                true
            })
        };
        let (t1, t2, t3) = (c(1), c(2), c(3));
        yield_now().await;
        snaps.push(S::A(
            snap(&result),
            sem.locked(),
            sem.waiter_count(),
            sem.value(),
        ));
        let t4 = c(4);
        sem.release();
        sem.release();
        snaps.push(S::Value(sem.value()));
        yield_now().await;
        let done = [&t1, &t2, &t3, &t4].map(|t| t.is_finished()).to_vec();
        snaps.push(S::B(
            snap(&result),
            sem.locked(),
            sem.waiter_count(),
            sem.value(),
            done,
        ));
        sem.release();
        for t in [t2, t3, t4] {
            assert!(t.await.unwrap());
        }
        assert!(t1.await.unwrap());
        snaps.push(S::Final(snap(&result)));
        snaps
    });
    let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        out,
        [
            S::Locked(false),
            S::A(v(&["1"]), true, 2, 0),
            S::Value(0),
            S::B(
                v(&["1", "2", "3"]),
                true,
                1,
                0,
                vec![true, true, true, false]
            ),
            S::Final(v(&["1", "2", "3", "4"])),
        ]
    );
}

/// SEM-03. `Semaphore(0)`; T1..T4 waiting; `T1.cancel(); T2.cancel(); release(); yield0;
/// yield0` → T3 done, T4 not done. Expected `[True, False]`.
#[test]
fn sem_03_acquire_cancel_before_awoken() {
    let out = detsim::run(async {
        let sem = Semaphore::new(0);
        let ts: Vec<_> = (0..4)
            .map(|_| {
                let s = sem.clone();
                spawn(async move { s.acquire().await.forget() })
            })
            .collect();
        yield_now().await;
        ts[0].cancel();
        ts[1].cancel();
        sem.release();
        yield_now().await;
        yield_now().await;
        let r = vec![ts[2].is_finished(), ts[3].is_finished()];
        ts[2].cancel();
        ts[3].cancel();
        yield_now().await;
        r
    });
    assert_eq!(out, [true, false]);
}

/// SEM-05 — no hang: c1 `{async with sem: yield0}; t2.cancel()`, c2 `{async with sem: unreachable}`;
/// after both end, `wait_for(sem.acquire(), 1.0)` succeeds at once.
/// Expected `(None, 'CancelledError', 0, 0.0)`.
#[test]
fn sem_05_acquire_no_hang() {
    let out = detsim::run(async {
        let sem = Semaphore::new(1);
        let t2_cancel: Rc<RefCell<Option<CancelHandle>>> = Rc::default();
        let (s1, tc) = (sem.clone(), t2_cancel.clone());
        let t1 = spawn(async move {
            let p = s1.acquire().await;
            yield_now().await;
            drop(p);
            tc.borrow().as_ref().unwrap().cancel();
        });
        let s2 = sem.clone();
        let t2 = spawn(async move {
            let _p = s2.acquire().await;
            unreachable!("must not run");
        });
        *t2_cancel.borrow_mut() = Some(t2.cancel_handle());
        let r1 = t1.await.is_ok();
        let r2 = t2.await.unwrap_err().is_cancelled();
        timeout(Duration::from_secs(1), sem.acquire())
            .await
            .unwrap()
            .forget();
        (r1, r2, sem.value(), now().to_string())
    });
    assert_eq!(out, (true, true, 0, "0s".to_string()));
}

/// SEM-06 — FIFO over time. `Semaphore(1)`; c1..c3 each do `{acquire; log tag_1; sleep 0.01;
/// release; acquire; log tag_2; sleep 0.01; release}` → `c1_1@0, c2_1@0.01, c3_1@0.02,
/// c1_2@0.03, c2_2@0.04, c3_2@0.05`.
#[test]
fn sem_06_fifo_over_time() {
    let out = detsim::run(async {
        let sem = Semaphore::new(1);
        let result = log();
        let ts: Vec<_> = ["c1", "c2", "c3"]
            .into_iter()
            .map(|tag| {
                let (sem, result) = (sem.clone(), result.clone());
                spawn(async move {
                    let p = sem.acquire().await;
                    push(&result, format!("{tag}_1@{}", now()));
                    sleep(ms(10)).await;
                    drop(p);
                    let p = sem.acquire().await;
                    push(&result, format!("{tag}_2@{}", now()));
                    sleep(ms(10)).await;
                    drop(p);
                })
            })
            .collect();
        for t in ts {
            t.await.unwrap();
        }
        snap(&result)
    });
    assert_eq!(
        out,
        [
            "c1_1@0s",
            "c2_1@0.01s",
            "c3_1@0.02s",
            "c1_2@0.03s",
            "c2_2@0.04s",
            "c3_2@0.05s"
        ]
    );
}

/// SEM-07 — FIFO order 2: c1 `{acquire; log 1}`, c2 `{acquire; log 2; release; acquire; log
/// 4}`, c3 `{acquire; log 3}` on `Semaphore(1)`; `yield0; release; release`.
/// Expected `[1, 2, 3, 4]`.
#[test]
fn sem_07_fifo_order_2() {
    let out = detsim::run(async {
        let sem = Semaphore::new(1);
        let result = log();
        let (s, r) = (sem.clone(), result.clone());
        let t1 = spawn(async move {
            s.acquire().await.forget();
            push(&r, "1");
        });
        let (s, r) = (sem.clone(), result.clone());
        let t2 = spawn(async move {
            s.acquire().await.forget();
            push(&r, "2");
            s.release();
            s.acquire().await.forget();
            push(&r, "4");
        });
        let (s, r) = (sem.clone(), result.clone());
        let t3 = spawn(async move {
            s.acquire().await.forget();
            push(&r, "3");
        });
        yield_now().await;
        sem.release();
        sem.release();
        for t in [t1, t2, t3] {
            t.await.unwrap();
        }
        snap(&result)
    });
    assert_eq!(out, ["1", "2", "3", "4"]);
}

/// SEM-08 — FIFO order 3: `Semaphore(0)`, c1..c3 waiting; `c1.cancel(); yield0; release;
/// release`. Expected `[2, 3]`.
#[test]
fn sem_08_fifo_order_3() {
    let out = detsim::run(async {
        let sem = Semaphore::new(0);
        let result = log();
        let ts: Vec<_> = (1..=3)
            .map(|n| {
                let (s, r) = (sem.clone(), result.clone());
                spawn(async move {
                    s.acquire().await.forget();
                    push(&r, n.to_string());
                })
            })
            .collect();
        yield_now().await;
        ts[0].cancel();
        yield_now().await;
        sem.release();
        sem.release();
        for t in ts {
            let _ = t.await;
        }
        snap(&result)
    });
    assert_eq!(out, ["2", "3"]);
}

/// SEM-10 — bounds. `BoundedSemaphore().release()` → `Value`. `BoundedSemaphore(2)`: acquire,
/// release, then release again → `Value`, value 2. Plain `Semaphore(1)` released twice → value
/// 3. Expected `['ValueError-at-initial', 'ValueError-over-release', 2,
/// ('plain-semaphore-value', 3)]`.
#[test]
fn sem_10_bounds() {
    let out = detsim::run(async {
        let sem = BoundedSemaphore::new(1);
        let a = sem.release();
        let b = BoundedSemaphore::new(2);
        b.acquire().await.forget();
        b.release().unwrap();
        let c = b.release();
        let s = Semaphore::new(1);
        s.release();
        s.release();
        (a, c, b.value(), s.value())
    });
    assert_eq!(
        out,
        (Err(SemaphoreOverRelease), Err(SemaphoreOverRelease), 2, 3)
    );
}

/// SEM-11 — newcomers queue behind woken waiters. `Semaphore(1)` held; `W = spawn {acquire; log
/// waiter}; yield0; N = spawn {acquire; log newcomer}; release()` → (value, `locked()`) = `(0,
/// true)`; after `yield0`: `[waiter]` and N not done; after the next `release`: `[waiter,
/// newcomer]`. Expected `((0, True), (['waiter'], False), ['waiter', 'newcomer'])`.
#[test]
fn sem_11_newcomers_queue_behind_woken() {
    let out = detsim::run(async {
        let sem = Semaphore::new(1);
        let out = log();
        sem.acquire().await.forget();
        let w = |name: &'static str| {
            let (s, o) = (sem.clone(), out.clone());
            spawn(async move {
                s.acquire().await.forget();
                push(&o, name);
            })
        };
        let t1 = w("waiter");
        yield_now().await;
        let t2 = w("newcomer");
        sem.release();
        let s1 = (sem.value(), sem.locked());
        yield_now().await;
        let s2 = (snap(&out), t2.is_finished());
        sem.release();
        t1.await.unwrap();
        t2.await.unwrap();
        (s1, s2, snap(&out))
    });
    assert_eq!(
        out,
        (
            (0, true),
            (vec!["waiter".to_string()], false),
            vec!["waiter".to_string(), "newcomer".into()]
        )
    );
}

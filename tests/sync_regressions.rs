//! Regression tests for the historical CPython asyncio bugs (bpo-/gh- numbers) that apply to the sync
//! primitives, each named after its bug, showing the bug cannot happen here; plus deadlock
//! reports that name the resource and its holder, and misuse messages.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use detsim::sync::{Condition, Lock, Queue, Semaphore};
use detsim::time::{Duration, timeout};
use detsim::{Builder, FailureKind, spawn, yield_now};

/// Counts current holders and records the maximum seen.
#[derive(Default)]
struct Holders {
    now: Cell<u32>,
    max: Cell<u32>,
}

impl Holders {
    fn enter(&self) {
        self.now.set(self.now.get() + 1);
        self.max.set(self.max.get().max(self.now.get()));
    }
    fn exit(&self) {
        self.now.set(self.now.get() - 1);
    }
}

/// bpo-27585: `release()` wakes W1; `W1.cancel()` before W1 runs. W1 must pass the lock on, or
/// W2 waits forever on a free lock.
#[test]
fn bpo_27585_cancelled_woken_waiter_passes_lock_on() {
    let got = detsim::run(async {
        let lock = Lock::new();
        let g = lock.acquire().await;
        let l1 = lock.clone();
        let w1 = spawn(async move { drop(l1.acquire().await) });
        let l2 = lock.clone();
        let w2 = spawn(async move { drop(l2.acquire().await) });
        yield_now().await;
        drop(g); // wakes W1
        w1.cancel(); // state (d)
        assert!(w1.await.unwrap_err().is_cancelled());
        w2.await.is_ok()
    });
    assert!(got);
}

/// bpo-32734: one step does `T1.cancel(); lock.release()` with T1, T2, T3 queued. `release` must
/// not wake T2 while T1's cancellation wakes T3: never two holders.
#[test]
fn bpo_32734_cancel_then_release_never_two_holders() {
    let max = detsim::run(async {
        let lock = Lock::new();
        let h = Rc::new(Holders::default());
        let g = lock.acquire().await;
        let ts: Vec<_> = (0..3)
            .map(|_| {
                let (l, h) = (lock.clone(), h.clone());
                spawn(async move {
                    let _g = l.acquire().await;
                    h.enter();
                    yield_now().await;
                    h.exit();
                })
            })
            .collect();
        yield_now().await;
        ts[0].cancel();
        drop(g);
        for t in ts {
            let _ = t.await;
        }
        assert!(!lock.locked());
        h.max.get()
    });
    assert_eq!(max, 1);
}

/// bpo-22970: `notify()`, then the waiter is cancelled while re-acquiring the contended lock. The
/// waiter must not return or release without holding the lock: the notifier keeps it, the next
/// waiter gets it only after the notifier releases.
#[test]
fn bpo_22970_condition_wait_cancelled_while_reacquiring_keeps_lock_consistent() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let c = cond.clone();
        let w = spawn(async move {
            let g = c.acquire().await;
            let _g = c.wait(g).await;
            unreachable!("cancelled before it re-acquired");
        });
        yield_now().await;
        let g = cond.acquire().await;
        cond.notify(1);
        yield_now().await; // W now waits for the lock
        w.cancel();
        yield_now().await; // W dropped
        let held_by_notifier = cond.locked();
        drop(g);
        (
            held_by_notifier,
            w.await.unwrap_err().is_cancelled(),
            cond.locked(),
        )
    });
    assert_eq!(out, (true, true, false));
}

/// bpo-32841: the re-acquire loop swallowed the cancellation. Here a waiter cancelled while
/// re-acquiring ends cancelled; its code after `wait` never runs.
#[test]
fn bpo_32841_cancellation_while_reacquiring_is_not_swallowed() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let after = Rc::new(Cell::new(false));
        let (c, a) = (cond.clone(), after.clone());
        let w = spawn(async move {
            let g = c.acquire().await;
            let _g = c.wait(g).await;
            a.set(true);
        });
        yield_now().await;
        let g = cond.acquire().await;
        cond.notify(1);
        yield_now().await;
        w.cancel();
        drop(g);
        (w.await.unwrap_err().is_cancelled(), after.get())
    });
    assert_eq!(out, (true, false));
}

/// bpo-33638 / bpo-32751: `timeout(cond.wait())` expired and the code after it released a lock it
/// no longer held. The guard moved into `wait` is dropped with it, so there is nothing to release
/// twice; the lock is free and usable at once.
#[test]
fn bpo_33638_timeout_around_condition_wait_cannot_release_unheld_lock() {
    let out = detsim::run(async {
        let cond = Condition::new();
        let g = cond.acquire().await;
        let r = timeout(Duration::from_millis(500), cond.wait(g)).await;
        let timed_out = r.is_err();
        let free = !cond.locked();
        let g = cond.acquire().await;
        drop(g);
        (timed_out, free, detsim::time::now().to_string())
    });
    assert_eq!(out, (true, true, "0.5s".to_string()));
}

/// bpo-23812: `put_nowait` handed the item to a waiting getter that was then cancelled; the item
/// was lost. Items stay in the queue here.
#[test]
fn bpo_23812_woken_getter_cancelled_loses_no_item() {
    let out = detsim::run(async {
        let q = Queue::unbounded();
        let g = spawn(q.get());
        yield_now().await;
        q.put_nowait("item").unwrap();
        g.cancel();
        assert!(g.await.unwrap_err().is_cancelled());
        q.get_nowait().unwrap()
    });
    assert_eq!(out, "item");
}

/// python/asyncio #265/#269: several putters blocked; a getter takes two items in one step, or a
/// woken putter is cancelled: every putter that can proceed must be woken.
#[test]
fn asyncio_265_269_woken_cancelled_putter_wakes_next() {
    let out = detsim::run(async {
        let q = Queue::new(2);
        q.put_nowait(0).unwrap();
        q.put_nowait(0).unwrap();
        let p1 = spawn(q.put(1));
        let p2 = spawn(q.put(2));
        let p3 = spawn(q.put(3));
        yield_now().await;
        q.get_nowait().unwrap(); // wakes p1
        q.get_nowait().unwrap(); // wakes p2
        p1.cancel(); // p1 woken then cancelled: must wake p3
        let _ = p1.await;
        p2.await.unwrap().unwrap();
        p3.await.unwrap().unwrap();
        let mut items = vec![q.get_nowait().unwrap(), q.get_nowait().unwrap()];
        items.sort();
        items
    });
    assert_eq!(out, [2, 3]);
}

/// python/asyncio #270/#271: two tasks blocked; `release()`; the woken one is cancelled before
/// it runs: the other must not hang with `value > 0`.
#[test]
fn asyncio_270_271_cancelled_woken_semaphore_waiter_passes_unit_on() {
    let ok = detsim::run(async {
        let sem = Semaphore::new(0);
        let s1 = sem.clone();
        let w1 = spawn(async move { s1.acquire().await.forget() });
        let s2 = sem.clone();
        let w2 = spawn(async move { s2.acquire().await.forget() });
        yield_now().await;
        sem.release();
        w1.cancel();
        let _ = w1.await;
        w2.await.is_ok()
    });
    assert!(ok);
}

/// bpo-45997: `release()` wakes W; a newcomer calling `acquire()` in the same tick must not barge
/// past W.
#[test]
fn bpo_45997_newcomer_cannot_barge_past_woken_waiter() {
    let order = detsim::run(async {
        let sem = Semaphore::new(1);
        let order = Rc::new(RefCell::new(Vec::new()));
        sem.acquire().await.forget();
        let (s, o) = (sem.clone(), order.clone());
        let w = spawn(async move {
            s.acquire().await.forget();
            o.borrow_mut().push("waiter");
        });
        yield_now().await;
        let (s, o) = (sem.clone(), order.clone());
        let n = spawn(async move {
            s.acquire().await.forget();
            o.borrow_mut().push("newcomer");
        });
        sem.release();
        yield_now().await;
        sem.release();
        w.await.unwrap();
        n.await.unwrap();
        order.take()
    });
    assert_eq!(order, ["waiter", "newcomer"]);
}

/// gh-90155: `release()` wakes W, then W is cancelled before it runs. Every later `acquire()`
/// blocked forever with `value == 1` on 3.9; here the unit comes back and acquire is immediate.
#[test]
fn gh_90155_woken_then_cancelled_does_not_block_later_acquires() {
    let out = detsim::run(async {
        let sem = Semaphore::new(0);
        let s = sem.clone();
        let w = spawn(async move { s.acquire().await.forget() });
        yield_now().await;
        sem.release();
        w.cancel();
        let _ = w.await;
        let v = sem.value();
        let locked = sem.locked();
        let r = timeout(Duration::from_secs(1), sem.acquire()).await;
        (v, locked, r.is_ok(), detsim::time::now().to_string())
    });
    assert_eq!(out, (1, false, true, "0s".to_string()));
}

/// gh-111693: `Semaphore(0)` with three waiters; one release wakes the first; a fourth task
/// queues; two more releases must wake the two already waiting, before the later one.
#[test]
fn gh_111693_releases_wake_earlier_waiters_first() {
    let order = detsim::run(async {
        let sem = Semaphore::new(0);
        let order = Rc::new(RefCell::new(Vec::new()));
        let c = |n: u32| {
            let (s, o) = (sem.clone(), order.clone());
            spawn(async move {
                s.acquire().await.forget();
                o.borrow_mut().push(n);
            })
        };
        let ts = vec![c(1), c(2), c(3)];
        yield_now().await;
        sem.release();
        let t4 = c(4);
        sem.release();
        sem.release();
        yield_now().await;
        sem.release();
        for t in ts {
            t.await.unwrap();
        }
        t4.await.unwrap();
        order.take()
    });
    assert_eq!(order, [1, 2, 3, 4]);
}

/// gh-112202: `notify(1)` picks C0; `C0.cancel()` in the same step. The notification must pass
/// on to C1 instead of being lost.
#[test]
fn gh_112202_notification_of_cancelled_waiter_passes_on() {
    let woke = detsim::run(async {
        let cond = Condition::new();
        let woke = Rc::new(Cell::new(0));
        let waiter = || {
            let (c, w) = (cond.clone(), woke.clone());
            spawn(async move {
                let g = c.acquire().await;
                let _g = c.wait(g).await;
                w.set(w.get() + 1);
            })
        };
        let c0 = waiter();
        let c1 = waiter();
        yield_now().await;
        let g = cond.acquire().await;
        cond.notify(1);
        c0.cancel();
        drop(g);
        let _ = c0.await;
        c1.await.unwrap();
        woke.get()
    });
    assert_eq!(woke, 1);
}

/// A deadlock report names the resource each task waits for and the task holding it.
#[test]
fn deadlock_report_names_resource_and_holder() {
    let failure = Builder::new()
        .run(async {
            let (a, b) = (Lock::named("account a"), Lock::named("account b"));
            let (a2, b2) = (a.clone(), b.clone());
            let t = detsim::task::Builder::new()
                .name("transfer b->a")
                .spawn(async move {
                    let _gb = b2.acquire().await;
                    yield_now().await;
                    let _ga = a2.acquire().await;
                });
            let _ga = a.acquire().await;
            yield_now().await;
            let _gb = b.acquire().await;
            t.await.unwrap();
        })
        .unwrap_err();
    let FailureKind::Deadlock { blocked } = &failure.kind else {
        panic!("expected a deadlock, got {failure}");
    };
    let main = blocked
        .iter()
        .find(|b| b.task.name.as_deref() == Some("main"));
    let main = main.unwrap();
    assert_eq!(main.waiting_for, r#"Lock "account b""#);
    assert_eq!(main.holders[0].name.as_deref(), Some("transfer b->a"));
    let t = blocked
        .iter()
        .find(|b| b.task.name.as_deref() == Some("transfer b->a"))
        .unwrap();
    assert_eq!(t.waiting_for, r#"Lock "account a""#);
    assert_eq!(t.holders[0].name.as_deref(), Some("main"));
}

/// A semaphore's report lists every task holding a permit; a queue's names the queue.
#[test]
fn deadlock_report_for_semaphore_and_queue() {
    let failure = Builder::new()
        .run(async {
            let sem = Semaphore::named(1, "db pool");
            let q = Queue::<u8>::named(0, "jobs");
            let s = sem.clone();
            let holder = detsim::task::Builder::new()
                .name("holder")
                .spawn(async move {
                    let _p = s.acquire().await;
                    q.get().await.unwrap();
                });
            yield_now().await;
            let _p = sem.acquire().await;
            holder.await.unwrap();
        })
        .unwrap_err();
    let report = failure.to_string();
    assert!(report.contains(r#"Semaphore "db pool""#), "{report}");
    assert!(report.contains(r#"Queue "jobs""#), "{report}");
    let FailureKind::Deadlock { blocked } = &failure.kind else {
        panic!("{failure}");
    };
    let main = &blocked[0];
    assert_eq!(main.holders[0].name.as_deref(), Some("holder"));
}

/// A primitive used in two runs registers again in the second run.
#[test]
fn primitive_reused_across_runs_registers_per_run() {
    let lock = Lock::named("shared");
    for _ in 0..2 {
        let l = lock.clone();
        let f = Builder::new()
            .run(async move {
                let _g = l.acquire().await;
                let _g2 = l.acquire().await;
            })
            .unwrap_err();
        assert!(f.to_string().contains(r#"Lock "shared""#), "{f}");
    }
    assert!(!lock.locked());
}

/// Misuse: releasing a BoundedSemaphore permit above its bound names the mistake.
#[test]
#[should_panic(expected = "released while the semaphore was already at its bound")]
fn bounded_semaphore_permit_over_release_panics_clearly() {
    use detsim::sync::BoundedSemaphore;
    detsim::run(async {
        let s = BoundedSemaphore::new(1);
        let p = s.acquire().await;
        s.release().unwrap(); // an unowned release while the permit is held
        drop(p);
    });
}

//! Conformance cases for Barrier and the Queue family (`Lib/asyncio/locks.py`,
//! `Lib/asyncio/queues.py`), run under the FIFO scheduler and compared with what CPython 3.13.0
//! prints for the same program.
//!
//! Porting conventions: `call_soon`/`call_later` are spawned tasks; `T.cancel()` is
//! `JoinHandle::cancel`; `wait_for(x, t)` is `detsim::time::timeout`; a `TaskGroup` is a set of
//! spawned tasks awaited in order.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use detsim::sync::{
    Barrier, BarrierState, BrokenBarrier, GetNowaitError, LifoQueue, PriorityQueue, PutNowaitError,
    Queue, QueueEmpty, QueueFull, QueueShutDown, TooManyTaskDone, ZeroParties,
};
use detsim::time::{Duration, now, sleep, timeout};
use detsim::{spawn, yield_now};

fn state_name(s: BarrierState) -> &'static str {
    match s {
        BarrierState::Filling => "filling",
        BarrierState::Draining => "draining",
        BarrierState::Resetting => "resetting",
        BarrierState::Broken => "broken",
    }
}

// ----------------------------------------------------------------------------------------------
// Barrier
// ----------------------------------------------------------------------------------------------

/// BAR-01 — `Barrier(0)` and `Barrier(-4)` → `ValueError` (a negative count is unrepresentable:
/// `parties` is a `usize`). Expected `['ValueError', 'ValueError']`.
#[test]
fn bar_01_barrier_parties() {
    assert_eq!(Barrier::new(0).unwrap_err(), ZeroParties);
    assert!(Barrier::new(1).is_ok());
}

/// BAR-02 — indices and exit order. `Barrier(3)`; tasks 0,1,2 do `async with barrier as i: log
/// (task,i)` → `[(2,2),(0,0),(1,1)]`; `n_waiting` 0; not broken.
#[test]
fn bar_02_indices_and_exit_order() {
    let out = detsim::run(async {
        let b = Barrier::new(3).unwrap();
        let results = Rc::new(RefCell::new(Vec::new()));
        let ts: Vec<_> = (0..3)
            .map(|i| {
                let (b, r) = (b.clone(), results.clone());
                spawn(async move {
                    let idx = b.wait().await.unwrap();
                    r.borrow_mut().push((i, idx));
                })
            })
            .collect();
        for t in ts {
            t.await.unwrap();
        }
        (results.take(), b.n_waiting(), b.broken())
    });
    assert_eq!(out, (vec![(2, 2), (0, 0), (1, 1)], 0, false));
}

/// BAR-03 — filling one task twice: `Barrier(1)`; two tasks wait one after the other, each
/// passes at once. Expected `(0, 0, 0, 0, False)`.
#[test]
fn bar_03_filling_one_task_twice() {
    let out = detsim::run(async {
        let b = Barrier::new(1).unwrap();
        let b1 = b.clone();
        let t1 = spawn(async move { b1.wait().await.unwrap() });
        yield_now().await;
        let a = b.n_waiting();
        let b2 = b.clone();
        let t2 = spawn(async move { b2.wait().await.unwrap() });
        yield_now().await;
        (
            a,
            t1.await.unwrap(),
            t2.await.unwrap(),
            b.n_waiting(),
            b.broken(),
        )
    });
    assert_eq!(out, (0, 0, 0, 0, false));
}

/// BAR-04 — filling task by task. `Barrier(3)`: n_waiting 1, 2, then draining with n_waiting 0
/// after the third. Expected `([1, 2, ('after-3rd', 'draining', 0)], [0, 1, 2], 0, 'filling')`.
#[test]
fn bar_04_filling_task_by_task() {
    let out = detsim::run(async {
        let b = Barrier::new(3).unwrap();
        let mut snaps = Vec::new();
        let mut ts = Vec::new();
        for k in 0..3 {
            let b2 = b.clone();
            ts.push(spawn(async move { b2.wait().await.unwrap() }));
            yield_now().await;
            if k < 2 {
                snaps.push(format!("{}", b.n_waiting()));
            } else {
                snaps.push(format!(
                    "after-3rd {} {}",
                    state_name(b.state()),
                    b.n_waiting()
                ));
            }
        }
        let mut idx = Vec::new();
        for t in ts {
            idx.push(t.await.unwrap());
        }
        (snaps, idx, b.n_waiting(), state_name(b.state()))
    });
    assert_eq!(
        out,
        (
            vec!["1".to_string(), "2".into(), "after-3rd draining 0".into()],
            vec![0, 1, 2],
            0,
            "filling"
        )
    );
}

/// BAR-05 — draining state. `Barrier(5)`; each task logs `(task, i, state)` just after its
/// `wait()` returns → `[(4,4,draining),(0,0,draining),(1,1,draining),(2,2,draining),
/// (3,3,filling)]`.
#[test]
fn bar_05_draining_state() {
    let out = detsim::run(async {
        let b = Barrier::new(5).unwrap();
        let results = Rc::new(RefCell::new(Vec::new()));
        let ts: Vec<_> = (0..5)
            .map(|i| {
                let (b, r) = (b.clone(), results.clone());
                spawn(async move {
                    let idx = b.wait().await.unwrap();
                    r.borrow_mut().push((i, idx, state_name(b.state())));
                })
            })
            .collect();
        for t in ts {
            t.await.unwrap();
        }
        results.take()
    });
    assert_eq!(
        out,
        [
            (4, 4, "draining"),
            (0, 0, "draining"),
            (1, 1, "draining"),
            (2, 2, "draining"),
            (3, 3, "filling")
        ]
    );
}

/// BAR-06 — cancelling a filling waiter. `Barrier(3)`; n_waiting 1, 2; `t1.cancel()` → 1 (t1
/// cancelled); t3 arrives → 2; t4 arrives → all pass. 3 results, n_waiting 0, not broken.
/// Expected `([1, 2, 1, 't1-cancelled', 2], 3, 0, False)`.
#[test]
fn bar_06_cancelling_a_filling_waiter() {
    let out = detsim::run(async {
        let b = Barrier::new(3).unwrap();
        let results = Rc::new(Cell::new(0));
        let coro = || {
            let (b, r) = (b.clone(), results.clone());
            spawn(async move {
                b.wait().await.unwrap();
                r.set(r.get() + 1);
            })
        };
        let mut snaps = Vec::new();
        let t1 = coro();
        yield_now().await;
        snaps.push(b.n_waiting().to_string());
        let t2 = coro();
        yield_now().await;
        snaps.push(b.n_waiting().to_string());
        t1.cancel();
        yield_now().await;
        snaps.push(b.n_waiting().to_string());
        if t1.await.unwrap_err().is_cancelled() {
            snaps.push("t1-cancelled".into());
        }
        let t3 = coro();
        yield_now().await;
        snaps.push(b.n_waiting().to_string());
        let t4 = coro();
        for t in [t2, t3, t4] {
            t.await.unwrap();
        }
        (snaps, results.get(), b.n_waiting(), b.broken())
    });
    assert_eq!(
        out,
        (
            ["1", "2", "1", "t1-cancelled", "2"]
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            3,
            0,
            false
        )
    );
}

/// BAR-07 — reset while waiting. `Barrier(5)` with 4 waiting; `spawn reset()` → all 4 raise
/// `BrokenBarrier`; then `n_waiting==0`, state filling, not broken.
/// Expected `(4, 0, 'filling', False)`.
#[test]
fn bar_07_reset_while_waiting() {
    let out = detsim::run(async {
        let b = Barrier::new(5).unwrap();
        let broken = Rc::new(Cell::new(0));
        let ts: Vec<_> = (0..4)
            .map(|_| {
                let (b, r) = (b.clone(), broken.clone());
                spawn(async move {
                    if b.wait().await == Err(BrokenBarrier) {
                        r.set(r.get() + 1);
                    }
                })
            })
            .collect();
        yield_now().await;
        let b2 = b.clone();
        spawn(async move { b2.reset().await });
        for t in ts {
            t.await.unwrap();
        }
        (
            broken.get(),
            b.n_waiting(),
            state_name(b.state()),
            b.broken(),
        )
    });
    assert_eq!(out, (4, 0, "filling", false));
}

/// BAR-10 — abort while half the tasks drain and half block. `Barrier(5)`; after passing, the
/// first 2 wait again and the others abort. Expected `(True, 2, 2, 0)`: broken, 2 draining
/// tasks and 2 re-waiting tasks get `BrokenBarrier`.
#[test]
fn bar_10_abort_half_draining_half_blocking() {
    let out = detsim::run(async {
        let n = 5;
        let b = Barrier::new(n).unwrap();
        let (r1, r2, count) = (
            Rc::new(Cell::new(0)),
            Rc::new(Cell::new(0)),
            Rc::new(Cell::new(0)),
        );
        let blocking = n / 2;
        let ts: Vec<_> = (0..n)
            .map(|_| {
                let (b, r1, r2, count) = (b.clone(), r1.clone(), r2.clone(), count.clone());
                spawn(async move {
                    match b.wait().await {
                        Err(BrokenBarrier) => r1.set(r1.get() + 1),
                        Ok(_) => {
                            count.set(count.get() + 1);
                            if count.get() > blocking {
                                b.abort().await;
                            } else if b.wait().await.is_err() {
                                r2.set(r2.get() + 1);
                            }
                        }
                    }
                })
            })
            .collect();
        for t in ts {
            t.await.unwrap();
        }
        (b.broken(), r1.get(), r2.get(), b.n_waiting())
    });
    assert_eq!(out, (true, 2, 2, 0));
}

/// BAR-11 — abort on an error, then reset. Two `Barrier(5)`s: the task with index 2 on b1
/// "raises" and aborts b1, the others fail on their second b1 wait; all meet on b2, index 2
/// resets b1, and all pass b1 again. Expected `(False, 0, 4, 5, 0)`.
#[test]
fn bar_11_abort_on_error_then_reset() {
    let out = detsim::run(async {
        let n = 5;
        let (b1, b2) = (Barrier::new(n).unwrap(), Barrier::new(n).unwrap());
        let (r1, r2, r3) = (
            Rc::new(Cell::new(0)),
            Rc::new(Cell::new(0)),
            Rc::new(Cell::new(0)),
        );
        let ts: Vec<_> = (0..n)
            .map(|_| {
                let (b1, b2) = (b1.clone(), b2.clone());
                let (r1, r2, r3) = (r1.clone(), r2.clone(), r3.clone());
                spawn(async move {
                    enum E {
                        Broken,
                        Runtime,
                    }
                    let first: Result<(), E> = async {
                        let i = b1.wait().await.map_err(|_| E::Broken)?;
                        if i == n / 2 {
                            return Err(E::Runtime);
                        }
                        b1.wait().await.map_err(|_| E::Broken)?;
                        r1.set(r1.get() + 1);
                        Ok(())
                    }
                    .await;
                    match first {
                        Ok(()) => {}
                        Err(E::Broken) => r2.set(r2.get() + 1),
                        Err(E::Runtime) => b1.abort().await,
                    }
                    let i = b2.wait().await.unwrap();
                    if i == n / 2 {
                        b1.reset().await;
                    }
                    b2.wait().await.unwrap();
                    b1.wait().await.unwrap();
                    r3.set(r3.get() + 1);
                })
            })
            .collect();
        for t in ts {
            t.await.unwrap();
        }
        (b1.broken(), r1.get(), r2.get(), r3.get(), b1.n_waiting())
    });
    assert_eq!(out, (false, 0, 4, 5, 0));
}

/// BAR-12 — reset and abort with nobody waiting. `Barrier(1)`: reset → `(0, False,
/// 'filling')`; abort → `(0, True, 'broken')`.
#[test]
fn bar_12_reset_and_abort() {
    let out = detsim::run(async {
        let b = Barrier::new(1).unwrap();
        b.reset().await;
        let a = (b.n_waiting(), b.broken(), state_name(b.state()));
        b.abort().await;
        (a, (b.n_waiting(), b.broken(), state_name(b.state())))
    });
    assert_eq!(out, ((0, false, "filling"), (0, true, "broken")));
}

// ----------------------------------------------------------------------------------------------
// Queue
// ----------------------------------------------------------------------------------------------

/// QUE-01 — order: put 1, 3, 2 → Queue `[1,3,2]`, LifoQueue `[2,3,1]`, PriorityQueue `[1,2,3]`.
#[test]
fn que_01_order() {
    let out = detsim::run(async {
        let (q, l, p) = (
            Queue::unbounded(),
            LifoQueue::unbounded(),
            PriorityQueue::unbounded(),
        );
        for i in [1, 3, 2] {
            q.put(i).await.unwrap();
            l.put(i).await.unwrap();
            p.put(i).await.unwrap();
        }
        let mut out = vec![Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..3 {
            out[0].push(q.get().await.unwrap());
            out[1].push(l.get().await.unwrap());
            out[2].push(p.get().await.unwrap());
        }
        out
    });
    assert_eq!(out, [[1, 3, 2], [2, 3, 1], [1, 2, 3]]);
}

/// QUE-02 — maxsize. `Queue(2)`; `P = spawn {for i in 0..3: put i; log i}`; `yield0 ×2` →
/// `[0,1]`; `get()==0`; `yield0` → `[0,1,2]`; `get,get == 1,2`; P returns `true`.
/// Expected `([[0, 1], 0, [0, 1, 2], [1, 2]], True, True)`.
#[test]
fn que_02_maxsize() {
    let out = detsim::run(async {
        let q = Queue::new(2);
        let put = Rc::new(RefCell::new(Vec::new()));
        let (q2, p2) = (q.clone(), put.clone());
        let t = spawn(async move {
            for i in 0..3 {
                q2.put(i).await.unwrap();
                p2.borrow_mut().push(i);
            }
            true
        });
        yield_now().await;
        yield_now().await;
        let s1 = put.borrow().clone();
        let g0 = q.get().await.unwrap();
        yield_now().await;
        let s2 = put.borrow().clone();
        let rest = vec![q.get().await.unwrap(), q.get().await.unwrap()];
        let done = t.is_finished();
        (s1, g0, s2, rest, done, t.await.unwrap())
    });
    assert_eq!(out, (vec![0, 1], 0, vec![0, 1, 2], vec![1, 2], true, true));
}

/// QUE-03 — non-blocking errors. `Queue().get_nowait()` → `QueueEmpty`; `Queue(1)` holding 1
/// item: `full()==true`, `put_nowait` → `QueueFull`; `Queue(0).full()==false`.
/// Expected `['QueueEmpty', True, 'QueueFull', False]`.
#[test]
fn que_03_nonblocking_errors() {
    let e = Queue::<i32>::unbounded().get_nowait();
    assert_eq!(e, Err(GetNowaitError::Empty(QueueEmpty)));
    let q = Queue::new(1);
    q.put_nowait(1).unwrap();
    assert!(q.full());
    assert_eq!(q.put_nowait(2), Err(PutNowaitError::Full(QueueFull)));
    assert!(!Queue::<i32>::new(0).full());
}

/// QUE-04 — get cancelled race: two getters; the first is cancelled; a put goes to the second.
/// Expected `(True, 'a')`.
#[test]
fn que_04_get_cancelled_race() {
    let out = detsim::run(async {
        let q = Queue::unbounded();
        let t1 = spawn(q.get());
        let t2 = spawn(q.get());
        yield_now().await;
        t1.cancel();
        yield_now().await;
        let d = t1.is_finished();
        q.put("a").await.unwrap();
        yield_now().await;
        (d, t2.await.unwrap().unwrap())
    });
    assert_eq!(out, (true, "a"));
}

/// QUE-05 — get with waiting putters: `Queue(1)`; spawn `put('a')`, `put('b')`; two gets.
/// Expected `['a', 'b']`.
#[test]
fn que_05_get_with_waiting_putters() {
    let out = detsim::run(async {
        let q = Queue::new(1);
        spawn(q.put("a"));
        spawn(q.put("b"));
        vec![q.get().await.unwrap(), q.get().await.unwrap()]
    });
    assert_eq!(out, ["a", "b"]);
}

/// QUE-07 — get/cancel with many pending readers: r1..r3 wait; `put_nowait(1); put_nowait(2);
/// r1.cancel()` (r1 had been woken) → r2 gets 1, r3 gets 2. Expected `(1, 2)`.
#[test]
fn que_07_get_cancel_drop_many_pending_readers() {
    let out = detsim::run(async {
        let q = Queue::unbounded();
        let r1 = spawn(q.get());
        let r2 = spawn(q.get());
        let r3 = spawn(q.get());
        yield_now().await;
        q.put_nowait(1).unwrap();
        q.put_nowait(2).unwrap();
        r1.cancel();
        assert!(r1.await.unwrap_err().is_cancelled());
        let v3 = r3.await.unwrap().unwrap();
        (r2.await.unwrap().unwrap(), v3)
    });
    assert_eq!(out, (1, 2));
}

/// QUE-08 — the same for a woken putter. `Queue(1)` holding `[1]`; `W = spawn put(2); yield0;
/// get_nowait()==1; W.cancel(); await W` → `Cancelled`; a retried `put(2)` succeeds;
/// `get_nowait()==2`; qsize 0. Expected `(1, 'cancelled', 2, 0)`.
#[test]
fn que_08_put_cancel_drop() {
    let out = detsim::run(async {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let writer = spawn(q.put(2));
        yield_now().await;
        let v1 = q.get_nowait().unwrap();
        writer.cancel();
        let w = match writer.await {
            Err(e) if e.is_cancelled() => {
                spawn(q.put(2)).await.unwrap().unwrap();
                "cancelled"
            }
            _ => "not-cancelled",
        };
        (v1, w, q.get_nowait().unwrap(), q.qsize())
    });
    assert_eq!(out, (1, "cancelled", 2, 0));
}

/// QUE-10 — `task_done` underflow → `Value`; `join` on an empty queue returns at once (twice).
/// Expected `['ValueError', ('joined-empty', 0.0)]`.
#[test]
fn que_10_task_done_underflow_and_join_empty() {
    let out = detsim::run(async {
        let q = Queue::<i32>::unbounded();
        let e = q.task_done();
        q.join().await;
        q.join().await;
        (e, now().to_string())
    });
    assert_eq!(out, (Err(TooManyTaskDone), "0s".to_string()));
}

/// QUE-11 — task_done / join. 100 items queued; two workers `{loop {x=get; acc+=x;
/// task_done}}`; `await join()` → acc 4950, and worker 0 processed all 100 items, worker 1 none
/// (get on a non-empty queue never yields). Expected `(4950, [100, 0])`.
#[test]
fn que_11_task_done_and_join() {
    let out = detsim::run(async {
        let q = Queue::unbounded();
        for i in 0..100u64 {
            q.put_nowait(i).unwrap();
        }
        let acc = Rc::new(Cell::new(0));
        let running = Rc::new(Cell::new(true));
        let per = Rc::new(RefCell::new([0, 0]));
        let tasks: Vec<_> = (0..2)
            .map(|k| {
                let (q, acc, running, per) = (q.clone(), acc.clone(), running.clone(), per.clone());
                spawn(async move {
                    while running.get() {
                        let item = q.get().await.unwrap();
                        acc.set(acc.get() + item);
                        per.borrow_mut()[k] += 1;
                        q.task_done().unwrap();
                    }
                })
            })
            .collect();
        q.join().await;
        let snap = (acc.get(), *per.borrow());
        running.set(false);
        for _ in &tasks {
            q.put_nowait(0).unwrap();
        }
        for t in tasks {
            t.await.unwrap();
        }
        snap
    });
    assert_eq!(out, (4950, [100, 0]));
}

/// QUE-12 — shutdown of an empty queue. `G = spawn get(); yield0; shutdown()` → `join()`
/// returns; G raises `QueueShutDown`; `put`, `put_nowait`, `get` and `get_nowait` all raise
/// `QueueShutDown`.
#[test]
fn que_12_shutdown_empty() {
    let out = detsim::run(async {
        let q = Queue::<&str>::unbounded();
        let g = spawn(q.get());
        yield_now().await;
        q.shutdown(false);
        q.join().await;
        yield_now().await;
        (
            g.await.unwrap(),
            q.put("x").await,
            q.put_nowait("x"),
            q.get().await,
            q.get_nowait(),
        )
    });
    assert_eq!(
        out,
        (
            Err(QueueShutDown),
            Err(QueueShutDown),
            Err(PutNowaitError::ShutDown(QueueShutDown)),
            Err(QueueShutDown),
            Err(GetNowaitError::ShutDown(QueueShutDown))
        )
    );
}

/// QUE-13 — shutdown of a non-empty queue. `Queue(1)` holding `['data']`; spawn `join`,
/// `put('data2')`; `yield0`; `shutdown()` → qsize 1; the blocked put raises `QueueShutDown`;
/// `get()=='data'`; join not done; another `get` raises `QueueShutDown`; `task_done()` → join
/// done; a further `task_done()` → `Value`.
#[test]
fn que_13_shutdown_nonempty() {
    let out = detsim::run(async {
        let q = Queue::new(1);
        let mut out = Vec::new();
        q.put_nowait("data").unwrap();
        let join = spawn(q.join());
        let put = spawn(q.put("data2"));
        yield_now().await;
        out.push(format!("put-blocked {}", !put.is_finished()));
        q.shutdown(false);
        out.push(format!("qsize {}", q.qsize()));
        yield_now().await;
        if put.await.unwrap() == Err(QueueShutDown) {
            out.push("blocked-put:QueueShutDown".into());
        }
        out.push(format!("get {}", q.get().await.unwrap()));
        yield_now().await;
        out.push(format!("join-done {}", join.is_finished()));
        if q.get().await == Err(QueueShutDown) {
            out.push("get-empty:QueueShutDown".into());
        }
        q.task_done().unwrap();
        yield_now().await;
        out.push(format!("join-done {}", join.is_finished()));
        if q.task_done() == Err(TooManyTaskDone) {
            out.push("task_done:ValueError".into());
        }
        out
    });
    assert_eq!(
        out,
        [
            "put-blocked true",
            "qsize 1",
            "blocked-put:QueueShutDown",
            "get data",
            "join-done false",
            "get-empty:QueueShutDown",
            "join-done true",
            "task_done:ValueError"
        ]
    );
}

/// QUE-14 — immediate shutdown drops the items and counts them done: qsize 0, join done,
/// `get_nowait` → `QueueShutDown`, `task_done` → `Value`.
#[test]
fn que_14_shutdown_immediate() {
    let out = detsim::run(async {
        let q = Queue::unbounded();
        q.put_nowait("data").unwrap();
        let join = spawn(q.join());
        q.shutdown(true);
        let n = q.qsize();
        yield_now().await;
        (n, join.is_finished(), q.get_nowait(), q.task_done())
    });
    assert_eq!(
        out,
        (
            0,
            true,
            Err(GetNowaitError::ShutDown(QueueShutDown)),
            Err(TooManyTaskDone)
        )
    );
}

/// QUE-16 — a getter cancelled by a timeout leaves the queue: `wait_for(q.get(), 0.1)` →
/// `Timeout` at 0.1, no getter left. Expected `('TimeoutError', 0.1, 0)`.
#[test]
fn que_16_cancelled_getters_not_held() {
    let out = detsim::run(async {
        let q = Queue::<i32>::new(5);
        let r = timeout(Duration::from_millis(100), q.get()).await;
        (r.is_err(), now().to_string(), q.getter_count())
    });
    assert_eq!(out, (true, "0.1s".to_string(), 0));
}

/// QUE-17 — a woken putter cancelled before it runs: `Queue(1)` holding 1; blocked `put(1)`;
/// `get_nowait(); put_task.cancel()` → the put is cancelled and the queue stays empty.
/// Expected `('CancelledError', 0)`.
#[test]
fn que_17_cancelled_put_after_wakeup() {
    let out = detsim::run(async {
        let q = Queue::new(1);
        q.put_nowait(1).unwrap();
        let put = spawn(q.put(1));
        yield_now().await;
        q.get_nowait().unwrap();
        put.cancel();
        (put.await.unwrap_err().is_cancelled(), q.qsize())
    });
    assert_eq!(out, (true, 0));
}

/// QUE-18 — blocking get: a getter waits; `call_later(0.01, put_nowait, 1)` → `(1, 0.01)`.
#[test]
fn que_18_blocking_get_wait() {
    let out = detsim::run(async {
        let q = Queue::unbounded();
        let q2 = q.clone();
        let t = spawn(async move { (q2.get().await.unwrap(), now().to_string()) });
        yield_now().await;
        spawn(async move {
            sleep(Duration::from_millis(10)).await;
            q.put_nowait(1).unwrap();
        });
        t.await.unwrap()
    });
    assert_eq!(out, (1, "0.01s".to_string()));
}

/// QUE-19 — why are getters waiting: a producer of 5 and a consumer of 5 on `Queue(1)`
/// alternate. Expected `[('put', 0), ('got', 0), ('put', 1), ('got', 1), …, ('got', 4)]`.
#[test]
fn que_19_why_are_getters_waiting() {
    let out = detsim::run(async {
        let q = Queue::new(1);
        let log = Rc::new(RefCell::new(Vec::new()));
        let (qp, lp) = (q.clone(), log.clone());
        let p = spawn(async move {
            for i in 0..5 {
                qp.put(i).await.unwrap();
                lp.borrow_mut().push(("put", i));
            }
        });
        let (qc, lc) = (q.clone(), log.clone());
        let c = spawn(async move {
            for _ in 0..5 {
                let v = qc.get().await.unwrap();
                lc.borrow_mut().push(("got", v));
            }
        });
        p.await.unwrap();
        c.await.unwrap();
        log.take()
    });
    let expected: Vec<_> = (0..5).flat_map(|i| [("put", i), ("got", i)]).collect();
    assert_eq!(out, expected);
}

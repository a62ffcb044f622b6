//! Third-party primitives on detsim: `futures::lock::Mutex`, `futures::channel::mpsc`,
//! `async-lock` and `tokio::sync` run correctly on the executor (their wakers are detsim's), and
//! different seeds of the `Random` scheduler give different orders of their wakeups.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::future::Future;
use std::rc::Rc;

use detsim::{Builder, scheduler::Random, spawn, yield_now};
use futures::{SinkExt, StreamExt};

type Order = Rc<RefCell<Vec<u32>>>;

/// Runs `program` for 40 seeds; each run must succeed and its check pass; returns the distinct
/// orders seen.
fn orders<F, Fut>(program: F) -> BTreeSet<Vec<u32>>
where
    F: Fn(Order) -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    let mut seen = BTreeSet::new();
    for seed in 0..40 {
        let order: Order = Rc::default();
        let r = Builder::new()
            .seed(seed)
            .scheduler(Random::new())
            .run(program(order.clone()));
        if let Err(f) = r {
            panic!("seed {seed}: {f}");
        }
        seen.insert(order.take());
    }
    seen
}

/// Four tasks each take a lock twice with a yield inside; `lock` is the primitive's lock call.
macro_rules! lock_program {
    ($new:expr, $lock:ident) => {
        |order: Order| async move {
            let m = Rc::new($new);
            let hs: Vec<_> = (0..4u32)
                .map(|id| {
                    let (m, order) = (m.clone(), order.clone());
                    spawn(async move {
                        for _ in 0..2 {
                            let mut g = m.$lock().await;
                            order.borrow_mut().push(id);
                            let v = *g;
                            yield_now().await;
                            *g = v + 1;
                        }
                    })
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
            assert_eq!(*m.$lock().await, 8, "an update was lost");
        }
    };
}

#[test]
fn futures_lock_mutex_is_exclusive_and_seeds_reorder_it() {
    let seen = orders(lock_program!(futures::lock::Mutex::new(0u32), lock));
    assert!(seen.len() > 1, "every seed gave the same order");
}

#[test]
fn async_lock_mutex_is_exclusive_and_seeds_reorder_it() {
    let seen = orders(lock_program!(async_lock::Mutex::new(0u32), lock));
    assert!(seen.len() > 1, "every seed gave the same order");
}

#[test]
fn tokio_mutex_is_exclusive_and_seeds_reorder_it() {
    let seen = orders(lock_program!(tokio::sync::Mutex::new(0u32), lock));
    assert!(seen.len() > 1, "every seed gave the same order");
}

#[test]
fn futures_mpsc_delivers_everything_in_per_sender_order() {
    let seen = orders(|order: Order| async move {
        let (tx, mut rx) = futures::channel::mpsc::channel::<u32>(1);
        let hs: Vec<_> = (0..3u32)
            .map(|p| {
                let mut tx = tx.clone();
                spawn(async move {
                    for i in 0..3 {
                        tx.send(p * 10 + i).await.unwrap();
                        yield_now().await;
                    }
                })
            })
            .collect();
        drop(tx);
        let mut got = Vec::new();
        while let Some(x) = rx.next().await {
            got.push(x);
        }
        for h in hs {
            h.await.unwrap();
        }
        for p in 0..3 {
            let mine: Vec<_> = got.iter().filter(|x| *x / 10 == p).copied().collect();
            assert_eq!(mine, [p * 10, p * 10 + 1, p * 10 + 2]);
        }
        *order.borrow_mut() = got;
    });
    assert!(seen.len() > 1, "every seed gave the same order");
}

#[test]
fn tokio_mpsc_and_semaphore_work_and_seeds_reorder_them() {
    let seen = orders(|order: Order| async move {
        let sem = Rc::new(tokio::sync::Semaphore::new(2));
        let (tx, mut rx) = tokio::sync::mpsc::channel::<u32>(2);
        let hs: Vec<_> = (0..4u32)
            .map(|id| {
                let (sem, tx) = (sem.clone(), tx.clone());
                spawn(async move {
                    let _p = sem.acquire().await.unwrap();
                    yield_now().await;
                    tx.send(id).await.unwrap();
                })
            })
            .collect();
        drop(tx);
        let mut got = Vec::new();
        while let Some(x) = rx.recv().await {
            got.push(x);
        }
        for h in hs {
            h.await.unwrap();
        }
        let mut sorted = got.clone();
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3]);
        *order.borrow_mut() = got;
    });
    assert!(seen.len() > 1, "every seed gave the same order");
}

#[test]
fn async_lock_semaphore_and_barrier_work_and_seeds_reorder_them() {
    let seen = orders(|order: Order| async move {
        let sem = Rc::new(async_lock::Semaphore::new(1));
        let barrier = Rc::new(async_lock::Barrier::new(3));
        let hs: Vec<_> = (0..3u32)
            .map(|id| {
                let (sem, barrier, order) = (sem.clone(), barrier.clone(), order.clone());
                spawn(async move {
                    {
                        let _g = sem.acquire().await;
                        order.borrow_mut().push(id);
                        yield_now().await;
                    }
                    barrier.wait().await;
                    order.borrow_mut().push(10 + id);
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        let o = order.borrow();
        // Everyone passed the semaphore before anyone left the barrier.
        assert!(o[..3].iter().all(|x| *x < 10) && o[3..].iter().all(|x| *x >= 10));
    });
    assert!(seen.len() > 1, "every seed gave the same order");
}

/// A deadlock on a third-party lock is still reported (as a wait outside detsim).
#[test]
fn deadlock_on_a_third_party_lock_is_reported() {
    let f = Builder::new()
        .run(async {
            let m = Rc::new(futures::lock::Mutex::new(()));
            let _g = m.lock().await;
            let m2 = m.clone();
            spawn(async move { drop(m2.lock().await) }).await.unwrap();
        })
        .unwrap_err();
    assert!(
        matches!(f.kind, detsim::FailureKind::Deadlock { .. }),
        "{f}"
    );
}

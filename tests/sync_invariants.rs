//! Invariants of the sync primitives over many schedules: every test runs its program under the
//! `Random` scheduler for a range of seeds (11,000 seeds in all), with random cancellations so
//! that waiter states (b) "cancelled before it ran" and (d) "granted, then cancelled" occur.
//!
//! Checked: mutual exclusion, FIFO fairness, a semaphore's value bounds, no lost wakeup (every
//! run ends without a deadlock and every surviving task finishes), a queue never loses or
//! duplicates an item, barrier generations never mix.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;

use detsim::sync::{Barrier, BoundedSemaphore, Lock, Mutex, Queue, RwLock, Semaphore};
use detsim::task::CancelHandle;
use detsim::{Builder, random_below, scheduler::Random, spawn, yield_now};

/// Counts a holder while alive: a task cancelled inside its critical section drops it along
/// with its guard.
struct Held(Rc<Cell<usize>>);

impl Held {
    fn new(c: &Rc<Cell<usize>>) -> Held {
        c.set(c.get() + 1);
        Held(c.clone())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// Runs `program` under `Random` for every seed in `seeds`; a failure (deadlock, panic) names
/// its seed.
fn for_seeds<F, Fut>(seeds: std::ops::Range<u64>, program: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = ()> + 'static,
{
    for seed in seeds {
        if let Err(f) = Builder::new()
            .seed(seed)
            .scheduler(Random::new())
            .run(program())
        {
            panic!("seed {seed}: {f}");
        }
    }
}

/// Spawns a task that, `n` times, yields a random number of times and cancels a random victim.
fn chaos(victims: Vec<CancelHandle>, n: u32) -> detsim::JoinHandle<()> {
    spawn(async move {
        for _ in 0..n {
            for _ in 0..random_below(4) {
                yield_now().await;
            }
            let v = &victims[random_below(victims.len() as u64) as usize];
            v.cancel();
        }
    })
}

/// Mutual exclusion and FIFO fairness of `Lock`: at most one holder; tasks acquire in the order
/// they arrived (a task that was cancelled never acquires and is left out).
#[test]
fn lock_mutual_exclusion_and_fifo_under_random_schedules_and_cancellations() {
    for_seeds(0..2500, || async {
        let lock = Lock::new();
        let holders = Rc::new(Cell::new(0));
        let arrivals = Rc::new(RefCell::new(Vec::new()));
        let grants = Rc::new(RefCell::new(Vec::new()));
        let mut hs = Vec::new();
        for id in 0..5u32 {
            let (lock, holders) = (lock.clone(), holders.clone());
            let (arrivals, grants) = (arrivals.clone(), grants.clone());
            hs.push(spawn(async move {
                for round in 0..2u32 {
                    for _ in 0..random_below(3) {
                        yield_now().await;
                    }
                    let me = (id, round);
                    arrivals.borrow_mut().push(me);
                    let g = lock.acquire().await;
                    grants.borrow_mut().push(me);
                    let held = Held::new(&holders);
                    assert_eq!(holders.get(), 1, "two tasks hold the lock");
                    for _ in 0..random_below(3) {
                        yield_now().await;
                    }
                    drop(held);
                    drop(g);
                }
            }));
        }
        let victims = hs.iter().map(|h| h.cancel_handle()).collect();
        let c = chaos(victims, 2);
        for h in hs {
            let _ = h.await;
        }
        c.await.unwrap();
        assert!(!lock.locked(), "lock leaked");
        assert_eq!(lock.waiter_count(), 0, "waiter leaked");
        let grants = grants.take();
        let arrivals: Vec<_> = arrivals
            .take()
            .into_iter()
            .filter(|a| grants.contains(a))
            .collect();
        assert_eq!(grants, arrivals, "not FIFO");
    });
}

/// `Mutex<T>`: a read-modify-write with a yield inside the critical section never loses an
/// update, whatever the schedule and cancellations.
#[test]
fn mutex_never_loses_an_update() {
    for_seeds(0..1500, || async {
        let m = Rc::new(Mutex::new(0u32));
        let done = Rc::new(Cell::new(0u32));
        let mut hs = Vec::new();
        for _ in 0..4 {
            let (m, done) = (m.clone(), done.clone());
            hs.push(spawn(async move {
                for _ in 0..3 {
                    let mut g = m.lock().await;
                    let v = *g;
                    yield_now().await;
                    *g = v + 1;
                    done.set(done.get() + 1); // counted with the lock held: no await in between
                }
            }));
        }
        let c = chaos(hs.iter().map(|h| h.cancel_handle()).collect(), 2);
        for h in hs {
            let _ = h.await;
        }
        c.await.unwrap();
        assert_eq!(*m.lock().await, done.get());
    });
}

/// `Semaphore(n)`, n in {1, 2}: never more than n holders, FIFO grants (with one unit: with two,
/// two woken waiters may legitimately resume in either order), all units back at the end.
/// `BoundedSemaphore(n)`: the value never exceeds its bound.
#[test]
fn semaphore_bounds_and_fifo_under_random_schedules_and_cancellations() {
    for_seeds(0..2000, || async {
        let bounded = random_below(2) == 0;
        let units = 1 + random_below(2) as usize;
        let (sem, bsem) = (Semaphore::new(units), BoundedSemaphore::new(units));
        let acquire = {
            let (sem, bsem) = (sem.clone(), bsem.clone());
            move || {
                let (sem, bsem) = (sem.clone(), bsem.clone());
                async move {
                    if bounded {
                        (None, Some(bsem.acquire().await))
                    } else {
                        (Some(sem.acquire().await), None)
                    }
                }
            }
        };
        let value = {
            let (sem, bsem) = (sem.clone(), bsem.clone());
            move || if bounded { bsem.value() } else { sem.value() }
        };
        let holders = Rc::new(Cell::new(0usize));
        let arrivals = Rc::new(RefCell::new(Vec::new()));
        let grants = Rc::new(RefCell::new(Vec::new()));
        let mut hs = Vec::new();
        for id in 0..5u32 {
            let (acquire, value, holders) = (acquire.clone(), value.clone(), holders.clone());
            let (arrivals, grants) = (arrivals.clone(), grants.clone());
            hs.push(spawn(async move {
                for round in 0..2u32 {
                    for _ in 0..random_below(3) {
                        yield_now().await;
                    }
                    arrivals.borrow_mut().push((id, round));
                    let p = acquire().await;
                    grants.borrow_mut().push((id, round));
                    let held = Held::new(&holders);
                    assert!(holders.get() <= units, "more holders than units");
                    assert!(value() + holders.get() <= units, "value above its bound");
                    for _ in 0..random_below(3) {
                        yield_now().await;
                    }
                    drop(held);
                    drop(p);
                    assert!(value() <= units, "value above its bound");
                }
            }));
        }
        let c = chaos(hs.iter().map(|h| h.cancel_handle()).collect(), 2);
        for h in hs {
            let _ = h.await;
        }
        c.await.unwrap();
        assert_eq!(value(), units, "units lost or gained");
        if units > 1 {
            // Two woken waiters may resume in either order; FIFO is checked with one unit.
            return;
        }
        let grants = grants.take();
        let arrivals: Vec<_> = arrivals
            .take()
            .into_iter()
            .filter(|a| grants.contains(a))
            .collect();
        assert_eq!(grants, arrivals, "not FIFO");
    });
}

/// A bounded queue with producers, consumers and cancellations never loses or duplicates an
/// item: every completed put is either taken by a completed get or still in the queue.
#[test]
fn queue_never_loses_or_duplicates_an_item() {
    for_seeds(0..2000, || async {
        let q = Queue::new(2);
        let put = Rc::new(RefCell::new(Vec::new()));
        let got = Rc::new(RefCell::new(Vec::new()));
        let mut hs = Vec::new();
        for p in 0..2u32 {
            let (q, put) = (q.clone(), put.clone());
            hs.push(spawn(async move {
                for i in 0..4u32 {
                    let item = p * 100 + i;
                    q.put(item).await.unwrap();
                    put.borrow_mut().push(item);
                    for _ in 0..random_below(2) {
                        yield_now().await;
                    }
                }
            }));
        }
        let mut consumers = Vec::new();
        for _ in 0..3 {
            let (q, got) = (q.clone(), got.clone());
            consumers.push(spawn(async move {
                loop {
                    let item = q.get().await.unwrap();
                    got.borrow_mut().push(item);
                    for _ in 0..random_below(2) {
                        yield_now().await;
                    }
                }
            }));
        }
        // The last consumer is never a victim, so producers can always finish.
        let victims = hs
            .iter()
            .chain(&consumers[..2])
            .map(|h| h.cancel_handle())
            .collect();
        chaos(victims, 3).await.unwrap();
        for h in hs {
            let _ = h.await;
        }
        // Let the consumers drain what they can, then stop them.
        for _ in 0..20 {
            yield_now().await;
        }
        for c in &consumers {
            c.cancel();
        }
        for c in consumers {
            let _ = c.await;
        }
        let mut all = got.take();
        while let Ok(x) = q.get_nowait() {
            all.push(x);
        }
        all.sort();
        let mut put = put.take();
        put.sort();
        assert_eq!(all, put, "an item was lost or duplicated");
    });
}

/// Barrier generations never mix: in every pass the indices are exactly 0..parties.
#[test]
fn barrier_generations_never_mix() {
    for_seeds(0..1500, || async {
        const PARTIES: usize = 3;
        let b = Barrier::new(PARTIES).unwrap();
        let passes = Rc::new(RefCell::new(vec![Vec::new(); 3]));
        let mut hs = Vec::new();
        for _ in 0..PARTIES {
            let (b, passes) = (b.clone(), passes.clone());
            hs.push(spawn(async move {
                for pass in 0..3 {
                    for _ in 0..random_below(3) {
                        yield_now().await;
                    }
                    let i = b.wait().await.unwrap();
                    passes.borrow_mut()[pass].push(i);
                }
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        for mut p in passes.take() {
            p.sort();
            assert_eq!(p, (0..PARTIES).collect::<Vec<_>>(), "generations mixed");
        }
        assert_eq!(b.n_waiting(), 0);
    });
}

/// `RwLock`: readers share, a writer is alone, and nothing leaks under cancellations.
#[test]
fn rwlock_readers_xor_writer() {
    for_seeds(0..1500, || async {
        let rw = Rc::new(RwLock::new(0u32));
        let (readers, writers) = (Rc::new(Cell::new(0)), Rc::new(Cell::new(0)));
        let mut hs = Vec::new();
        for id in 0..5u32 {
            let (rw, readers, writers) = (rw.clone(), readers.clone(), writers.clone());
            hs.push(spawn(async move {
                for _ in 0..2 {
                    if id % 2 == 0 {
                        let mut g = rw.write().await;
                        let _w = Held::new(&writers);
                        assert_eq!((readers.get(), writers.get()), (0, 1));
                        *g += 1;
                        yield_now().await;
                    } else {
                        let _g = rw.read().await;
                        let _r = Held::new(&readers);
                        assert_eq!(writers.get(), 0);
                        yield_now().await;
                    }
                }
            }));
        }
        let c = chaos(hs.iter().map(|h| h.cancel_handle()).collect(), 2);
        for h in hs {
            let _ = h.await;
        }
        c.await.unwrap();
        let _w = rw.write().await; // free at the end
    });
}

//! The demonstration programs: small concurrent programs, each with one classic bug that shows
//! only under some interleavings. asyncio's own order (detsim's FIFO schedule) passes every one of
//! them, so running the test once proves nothing; exploring finds the bug.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use detsim::sync::{Condition, Event, Lock, Semaphore};
use detsim::task_group::task_group;
use detsim::{JoinHandle, yield_now};

use super::broken::{BrokenLock, BrokenSemaphore};

/// A program as the explorer takes it: a fresh future per schedule.
pub type Program = fn() -> Pin<Box<dyn Future<Output = ()>>>;

/// One demonstration.
pub struct Demo {
    /// Short name (table rows, test names).
    pub name: &'static str,
    /// What the bug is, in one line.
    pub bug: &'static str,
    /// The buggy program.
    pub program: Program,
    /// Substrings the report must contain: it names the cause.
    pub cause: &'static [&'static str],
    /// A correct version of the same program, where there is one to show (detsim's real
    /// primitive, or the fixed code): every schedule passes.
    pub fixed: Option<Program>,
}

/// Every demonstration, in the order the example prints them.
pub fn all() -> Vec<Demo> {
    vec![
        Demo {
            name: "lost update",
            bug: "read – yield – write of a shared balance without the lock",
            program: || Box::pin(lost_update(false)),
            cause: &["lost update: balance is"],
            fixed: Some(|| Box::pin(lost_update(true))),
        },
        Demo {
            name: "ABBA deadlock",
            bug: "two transfers take Locks \"a\" and \"b\" in opposite orders",
            program: || Box::pin(abba()),
            cause: &[
                r#"task 1 "transfer a->b" waits for Lock "b" held by task 2 "transfer b->a""#,
                r#"task 2 "transfer b->a" waits for Lock "a" held by task 1 "transfer a->b""#,
            ],
            fixed: None,
        },
        Demo {
            name: "Event cleared too early",
            bug: "a second listener clears a one-shot Event before the consumer has waited on it",
            program: || Box::pin(event_cleared_too_early()),
            cause: &[r#"task 1 "consumer" waits for Event "data ready""#],
            fixed: None,
        },
        Demo {
            name: "Condition `if` not `while`",
            bug: "a consumer checks the queue with `if` around Condition::wait; notify_all wakes two",
            program: || Box::pin(condition_if_not_while(false)),
            cause: &["woke to an empty queue"],
            fixed: Some(|| Box::pin(condition_if_not_while(true))),
        },
        Demo {
            name: "TaskGroup leaks a unit",
            bug: "a child forgets its Semaphore permit and releases by hand after an await; the \
                  group cancels it in between",
            program: || Box::pin(task_group_leaks_a_unit(false)),
            cause: &[r#"task 0 "main" waits for Semaphore "connections""#],
            fixed: Some(|| Box::pin(task_group_leaks_a_unit(true))),
        },
        Demo {
            name: "bpo-27585 Lock",
            bug: "a woken Lock waiter cancelled before it resumes does not wake the next one",
            program: || Box::pin(lock_cancelled_grant(BrokenLock::new())),
            cause: &[r#"task 3 "waiter 2" waits for a future outside detsim"#],
            fixed: Some(|| Box::pin(lock_cancelled_grant(Lock::named("lock")))),
        },
        Demo {
            name: "gh-90155 Semaphore",
            bug: "a woken Semaphore waiter cancelled before it resumes leaves _wakeup_scheduled set",
            program: || Box::pin(semaphore_cancelled_wakeup(BrokenSemaphore::new(1))),
            cause: &[r#"task 0 "main" waits for a future outside detsim"#],
            fixed: Some(|| Box::pin(semaphore_cancelled_wakeup(Semaphore::named(1, "sem")))),
        },
    ]
}

fn named<F>(name: &str, fut: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    detsim::task::Builder::new().name(name).spawn(fut)
}

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

/// Two deposits into one balance. Each reads the balance, awaits something (an audit log write),
/// and writes back what it read plus its amount; without the lock, a deposit that runs between the
/// other's read and write is lost. (`locked`: the fixed version holds a `Mutex` across the three.)
pub async fn lost_update(locked: bool) {
    let balance = Rc::new(Cell::new(100u32));
    let lock = Lock::named("balance");
    let deposit = |name: &str, setup: usize, amount: u32| {
        let (balance, lock) = (balance.clone(), lock.clone());
        named(name, async move {
            yields(setup).await; // validate the request
            let _g = if locked {
                Some(lock.acquire().await)
            } else {
                None
            };
            let v = balance.get();
            yield_now().await; // write the audit log
            balance.set(v + amount);
        })
    };
    let a = deposit("deposit 10", 0, 10);
    let b = deposit("deposit 20", 2, 20);
    a.await.unwrap();
    b.await.unwrap();
    let b = balance.get();
    assert_eq!(
        b, 130,
        "lost update: balance is {b} after depositing 10 and 20 into 100"
    );
}

/// Two transfers lock two accounts in opposite orders, with an await in between.
pub async fn abba() {
    let (a, b) = (Lock::named("a"), Lock::named("b"));
    let (a2, b2) = (a.clone(), b.clone());
    let t1 = named("transfer a->b", async move {
        let _ga = a.acquire().await;
        yield_now().await; // read account a
        let _gb = b.acquire().await;
        yield_now().await; // write both
    });
    let t2 = named("transfer b->a", async move {
        yields(2).await; // validate the request
        let _gb = b2.acquire().await;
        yield_now().await; // read account b
        let _ga = a2.acquire().await;
    });
    t1.await.unwrap();
    t2.await.unwrap();
}

/// A one-shot "data ready" Event with two listeners: a consumer that needs the data, and a
/// logger that, once it has seen the event, clears it to re-arm it for the next batch. If the
/// logger runs between the producer's `set` and the consumer's `wait`, the consumer waits forever.
pub async fn event_cleared_too_early() {
    let ready = Event::named("data ready");
    let (r1, r2) = (ready.clone(), ready.clone());
    let consumer = named("consumer", async move {
        yields(2).await; // open the output file
        r1.wait().await;
    });
    let producer = named("producer", async move {
        yield_now().await; // produce the batch
        r2.set();
    });
    let logger = named("logger", async move {
        ready.wait().await;
        ready.clear(); // BUG: re-arms the event before the consumer has seen it
    });
    producer.await.unwrap();
    logger.await.unwrap();
    consumer.await.unwrap();
}

/// Two consumers take items from a queue guarded by a Condition; the producer adds two items one
/// at a time with `notify_all`. A consumer that checks the queue with `if` instead of `while` can
/// be woken together with the other one for a single item and find the queue empty.
pub async fn condition_if_not_while(use_while: bool) {
    let cond = Condition::named("items");
    let items: Rc<RefCell<VecDeque<u32>>> = Rc::default();
    let consumer = |name: &'static str, setup: usize| {
        let (cond, items) = (cond.clone(), items.clone());
        named(name, async move {
            yields(setup).await; // connect
            let mut g = cond.acquire().await;
            if use_while {
                while items.borrow().is_empty() {
                    g = cond.wait(g).await;
                }
            } else if items.borrow().is_empty() {
                g = cond.wait(g).await;
            }
            let item = items.borrow_mut().pop_front();
            assert!(item.is_some(), "{name} woke to an empty queue");
            drop(g);
        })
    };
    let c1 = consumer("consumer 1", 0);
    let c2 = consumer("consumer 2", 3);
    let producer = named("producer", async move {
        for i in 0..2 {
            yield_now().await; // make the item
            let _g = cond.acquire().await;
            items.borrow_mut().push_back(i);
            cond.notify_all();
        }
    });
    producer.await.unwrap();
    c1.await.unwrap();
    c2.await.unwrap();
}

/// A task group with two children: one takes a connection from a pool (a Semaphore), gives up
/// the permit (`forget`) and releases the unit by hand after using it; a sibling fails validation,
/// and the group cancels the first child — if that happens while it holds the connection, the
/// unit is never released, and the next request for a connection waits forever. (`raii`: the fixed
/// version keeps the permit, whose drop releases the unit even on cancellation.)
pub async fn task_group_leaks_a_unit(raii: bool) {
    let pool = Semaphore::named(1, "connections");
    let p = pool.clone();
    let r = task_group(|g| async move {
        g.spawn(async move {
            let permit = p.acquire().await;
            if raii {
                yield_now().await; // use the connection
                drop(permit);
            } else {
                permit.forget();
                yield_now().await; // use the connection
                p.release();
            }
            Ok(())
        })
        .unwrap();
        g.spawn(async {
            yields(2).await; // validate
            Err::<(), _>("validation failed")
        })
        .unwrap();
        Ok(())
    })
    .await;
    assert!(r.is_err());
    // The next request for a connection.
    let _c = pool.acquire().await;
}

/// What the lock demonstration needs of a lock: detsim's [`Lock`] or the [`BrokenLock`].
pub trait TestLock: Clone + 'static {
    /// Held while locked.
    type Guard: 'static;
    /// Acquires.
    fn lock(&self) -> impl Future<Output = Self::Guard> + 'static;
}

impl TestLock for Lock {
    type Guard = detsim::sync::LockGuard;
    fn lock(&self) -> impl Future<Output = Self::Guard> + 'static {
        self.acquire()
    }
}

impl TestLock for BrokenLock {
    type Guard = super::broken::BrokenLockGuard;
    fn lock(&self) -> impl Future<Output = Self::Guard> + 'static {
        self.acquire()
    }
}

/// bpo-27585's scenario: a holder and two queued waiters; the first waiter has a deadline (a
/// `wait_for`-style cancellation) that may fire just after the holder released the lock to it.
pub async fn lock_cancelled_grant<L: TestLock>(lock: L) {
    let l = lock.clone();
    let holder = named("holder", async move {
        let g = l.lock().await;
        yield_now().await; // the critical section
        drop(g);
    });
    let l = lock.clone();
    let w1 = named("waiter 1", async move {
        let _g = l.lock().await;
    });
    let w2 = named("waiter 2", async move {
        let _g = lock.lock().await;
    });
    yields(3).await;
    w1.cancel(); // waiter 1's deadline
    holder.await.unwrap();
    w2.await.unwrap();
    let _ = w1.await; // cancelled, or done in time
}

/// What the semaphore demonstration needs: detsim's [`Semaphore`] or the [`BrokenSemaphore`].
pub trait TestSemaphore: Clone + 'static {
    /// One unit.
    type Permit: 'static;
    /// Waits for a unit.
    fn take(&self) -> impl Future<Output = Self::Permit> + 'static;
}

impl TestSemaphore for Semaphore {
    type Permit = detsim::sync::SemaphorePermit;
    fn take(&self) -> impl Future<Output = Self::Permit> + 'static {
        self.acquire()
    }
}

impl TestSemaphore for BrokenSemaphore {
    type Permit = super::broken::BrokenSemaphorePermit;
    fn take(&self) -> impl Future<Output = Self::Permit> + 'static {
        self.acquire()
    }
}

/// gh-90155's scenario: one unit, a holder and a waiter with a deadline; afterwards the unit is
/// free and the main task takes it.
pub async fn semaphore_cancelled_wakeup<S: TestSemaphore>(sem: S) {
    let s = sem.clone();
    let holder = named("holder", async move {
        let p = s.take().await;
        yield_now().await; // the critical section
        drop(p);
    });
    let s = sem.clone();
    let waiter = named("waiter", async move {
        let _p = s.take().await;
    });
    yields(3).await;
    waiter.cancel(); // the waiter's deadline
    holder.await.unwrap();
    let _ = waiter.await;
    // Nobody holds the unit now: this must not block.
    let _p = sem.take().await;
}

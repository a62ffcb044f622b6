//! The floor: the least a seeded random-order executor must do to run the lock workload.
//!
//! A reference contender for the throughput benchmark, not a tool: one thread, a task list, a
//! ready vector from which a seeded ChaCha8 draw picks (the generator and the draw detsim's
//! `Random` uses), wakers that push a task id, a FIFO-fair lock handing itself to the first
//! waiter, `yield_now`. No decision log, no panic catching, no trace, no timers, no join handles (a latch instead),
//! no deadlock or step-limit detection, no watchdog, no memory reuse across runs. What detsim
//! spends per schedule above this is the price of what it does and this does not; BENCHMARKS.md
//! breaks that price down.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

type Task = Pin<Box<dyn Future<Output = ()>>>;

thread_local! {
    static READY: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
    static SPAWNED: RefCell<Vec<Task>> = const { RefCell::new(Vec::new()) };
}

struct TaskWaker(usize);

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        READY.with(|r| {
            let mut r = r.borrow_mut();
            if !r.contains(&self.0) {
                r.push(self.0);
            }
        });
    }
}

/// Spawns a task of the current run.
pub fn spawn(fut: impl Future<Output = ()> + 'static) {
    SPAWNED.with(|s| s.borrow_mut().push(Box::pin(fut)));
}

/// Runs `main` to completion with seed `seed`, choosing uniformly among the runnable tasks.
pub fn run(seed: u64, main: impl Future<Output = ()> + 'static) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut tasks: Vec<Option<(Task, Waker)>> = Vec::new();
    let admit = |tasks: &mut Vec<Option<(Task, Waker)>>, fut: Task| {
        let id = tasks.len();
        tasks.push(Some((fut, Waker::from(Arc::new(TaskWaker(id))))));
        READY.with(|r| r.borrow_mut().push(id));
    };
    admit(&mut tasks, Box::pin(main));
    let pick = |rng: &mut ChaCha8Rng| {
        READY.with(|r| {
            let mut r = r.borrow_mut();
            match r.len() {
                0 => None,
                1 => r.pop(),
                n => Some(r.remove(((u128::from(rng.next_u64()) * n as u128) >> 64) as usize)),
            }
        })
    };
    while let Some(id) = pick(&mut rng) {
        let Some((fut, waker)) = &mut tasks[id] else {
            continue;
        };
        let done = fut
            .as_mut()
            .poll(&mut Context::from_waker(waker))
            .is_ready();
        if done {
            tasks[id] = None;
            if id == 0 {
                break;
            }
        }
        for fut in SPAWNED.with(|s| std::mem::take(&mut *s.borrow_mut())) {
            admit(&mut tasks, fut);
        }
    }
    READY.with(|r| r.borrow_mut().clear());
}

/// Yields once: wakes itself and returns `Pending`.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// A lock that hands itself to its first waiter on release (asyncio's and detsim's fairness).
#[derive(Default)]
pub struct Mutex {
    locked: Cell<bool>,
    /// Waiters in arrival order; `granted` marks the one the lock was handed to.
    waiters: RefCell<VecDeque<(Rc<Cell<bool>>, Waker)>>,
}

impl Mutex {
    /// Acquires the lock; dropping the guard releases it.
    pub async fn lock(&self) -> Guard<'_> {
        if !self.locked.get() {
            self.locked.set(true);
            return Guard(self);
        }
        let granted = Rc::new(Cell::new(false));
        let mut queued = false;
        std::future::poll_fn(|cx| {
            if granted.get() {
                return Poll::Ready(());
            }
            if !queued {
                queued = true;
                let w = cx.waker().clone();
                self.waiters.borrow_mut().push_back((granted.clone(), w));
            }
            Poll::Pending
        })
        .await;
        Guard(self)
    }
}

/// Holds a [`Mutex`].
pub struct Guard<'a>(&'a Mutex);

impl Drop for Guard<'_> {
    fn drop(&mut self) {
        match self.0.waiters.borrow_mut().pop_front() {
            Some((granted, w)) => {
                granted.set(true); // handed over: stays locked
                w.wake();
            }
            None => self.0.locked.set(false),
        }
    }
}

/// Counts down to zero; [`Latch::wait`] returns once it is there (the floor's join).
#[derive(Default)]
pub struct Latch {
    left: Cell<usize>,
    waiter: RefCell<Option<Waker>>,
}

impl Latch {
    /// A latch waiting for `n` count-downs.
    pub fn new(n: usize) -> Latch {
        Latch {
            left: Cell::new(n),
            waiter: RefCell::new(None),
        }
    }

    /// One task is done.
    pub fn count_down(&self) {
        self.left.set(self.left.get() - 1);
        if self.left.get() == 0 {
            if let Some(w) = self.waiter.borrow_mut().take() {
                w.wake();
            }
        }
    }

    /// Waits until every count-down has happened.
    pub async fn wait(&self) {
        std::future::poll_fn(|cx| {
            if self.left.get() == 0 {
                return Poll::Ready(());
            }
            *self.waiter.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

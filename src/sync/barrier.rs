//! [`Barrier`]: asyncio's `Barrier` (`Lib/asyncio/locks.py`), built, as asyncio's, on a
//! [`Condition`].
//!
//! # Invariants
//!
//! * Indices follow arrival order; the last arrival releases the others and returns first.
//! * Generations never mix: while the barrier drains (or resets), new arrivals wait until the
//!   last task of the previous generation has left and the state is back to filling.
//! * A waiter that leaves — by returning, failing or being dropped — decrements the count, and the
//!   last to leave returns the state to filling and wakes the blocked arrivals.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use super::condition::Condition;
use super::errors::BrokenBarrier;
use super::lock::Lock;

/// A barrier's state (asyncio's `_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BarrierState {
    /// Collecting arrivals.
    Filling,
    /// Released; the waiters of this generation are leaving.
    Draining,
    /// `reset` was called while tasks waited; they are leaving with [`BrokenBarrier`].
    Resetting,
    /// `abort` was called: every wait fails until `reset`.
    Broken,
}

struct Inner {
    cond: Condition,
    parties: usize,
    count: Cell<usize>,
    state: Cell<BarrierState>,
}

impl Inner {
    /// asyncio's `_exit`.
    fn exit(&self) {
        if self.count.get() == 0 {
            if matches!(
                self.state.get(),
                BarrierState::Resetting | BarrierState::Draining
            ) {
                self.state.set(BarrierState::Filling);
            }
            self.cond.notify_all_unchecked();
        }
    }
}

/// Decrements the count and runs `_exit` when a waiter leaves, however it leaves.
struct Leaving<'a>(&'a Inner);

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        self.0.count.set(self.0.count.get() - 1);
        self.0.exit();
    }
}

/// A barrier for `parties` tasks (asyncio's `Barrier`): each [`wait`](Barrier::wait) blocks
/// until `parties` tasks wait, then all are released.
///
/// ```
/// use detsim::sync::Barrier;
/// detsim::run(async {
///     let b = Barrier::new(2).unwrap();
///     let b2 = b.clone();
///     let t = detsim::spawn(async move { b2.wait().await.unwrap() });
///     detsim::yield_now().await; // t arrives first
///     assert_eq!(b.wait().await.unwrap(), 1); // the last arrival releases
///     assert_eq!(t.await.unwrap(), 0);
/// });
/// ```
#[derive(Clone)]
pub struct Barrier {
    inner: Rc<Inner>,
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Barrier")
            .field("parties", &self.inner.parties)
            .field("n_waiting", &self.n_waiting())
            .field("state", &self.state())
            .finish()
    }
}

/// [`Barrier::new`] with zero parties (asyncio's `ValueError`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZeroParties;

impl fmt::Display for ZeroParties {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Barrier needs at least one party")
    }
}

impl std::error::Error for ZeroParties {}

impl Barrier {
    /// A barrier for `parties` tasks.
    ///
    /// # Errors
    ///
    /// [`ZeroParties`] if `parties == 0`.
    pub fn new(parties: usize) -> Result<Barrier, ZeroParties> {
        Barrier::build(parties, None)
    }

    /// A named barrier, for traces and deadlock reports.
    ///
    /// # Errors
    ///
    /// [`ZeroParties`] if `parties == 0`.
    pub fn named(parties: usize, name: impl Into<String>) -> Result<Barrier, ZeroParties> {
        Barrier::build(parties, Some(name.into()))
    }

    fn build(parties: usize, name: Option<String>) -> Result<Barrier, ZeroParties> {
        if parties == 0 {
            return Err(ZeroParties);
        }
        let lock = Lock::with_kind("Barrier lock", name.map(Rc::from));
        Ok(Barrier {
            inner: Rc::new(Inner {
                cond: Condition::with_lock_kind(lock, "Barrier"),
                parties,
                count: Cell::new(0),
                state: Cell::new(BarrierState::Filling),
            }),
        })
    }

    /// Waits until `parties` tasks wait; returns this task's arrival index (0-based). The last
    /// arrival returns first, without waiting.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrier`] if the barrier is broken, or is reset or aborted while waiting.
    pub async fn wait(&self) -> Result<usize, BrokenBarrier> {
        let inner = &*self.inner;
        let cond = &inner.cond;
        let mut g = cond.acquire().await;
        // _block: wait while draining or resetting.
        g = cond
            .wait_for(g, || {
                !matches!(
                    inner.state.get(),
                    BarrierState::Draining | BarrierState::Resetting
                )
            })
            .await;
        if inner.state.get() == BarrierState::Broken {
            return Err(BrokenBarrier);
        }
        let index = inner.count.get();
        inner.count.set(index + 1);
        let leaving = Leaving(inner);
        let result = if index + 1 == inner.parties {
            inner.state.set(BarrierState::Draining);
            cond.notify_all_unchecked();
            Ok(index)
        } else {
            g = cond
                .wait_for(g, || inner.state.get() != BarrierState::Filling)
                .await;
            match inner.state.get() {
                BarrierState::Broken | BarrierState::Resetting => Err(BrokenBarrier),
                _ => Ok(index),
            }
        };
        drop(leaving);
        drop(g);
        result
    }

    /// Resets the barrier to filling; tasks waiting now fail with [`BrokenBarrier`].
    pub async fn reset(&self) {
        let inner = &*self.inner;
        let _g = inner.cond.acquire().await;
        if inner.count.get() > 0 {
            inner.state.set(BarrierState::Resetting);
        } else {
            inner.state.set(BarrierState::Filling);
        }
        inner.cond.notify_all_unchecked();
    }

    /// Breaks the barrier: waiting tasks and every later `wait` fail with [`BrokenBarrier`]
    /// until [`reset`](Barrier::reset).
    pub async fn abort(&self) {
        let inner = &*self.inner;
        let _g = inner.cond.acquire().await;
        inner.state.set(BarrierState::Broken);
        inner.cond.notify_all_unchecked();
    }

    /// The number of tasks needed to pass.
    pub fn parties(&self) -> usize {
        self.inner.parties
    }

    /// Tasks waiting while the barrier fills (0 in any other state).
    pub fn n_waiting(&self) -> usize {
        if self.inner.state.get() == BarrierState::Filling {
            self.inner.count.get()
        } else {
            0
        }
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.inner.state.get() == BarrierState::Broken
    }

    /// The current state.
    pub fn state(&self) -> BarrierState {
        self.inner.state.get()
    }
}

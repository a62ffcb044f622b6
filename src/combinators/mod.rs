//! Combinators over tasks: [`gather`], [`wait`], [`as_completed`], [`shield`].
//!
//! # How asyncio's callbacks are reproduced
//!
//! asyncio completes a combinator through *done callbacks*: a child finishes, its callback is
//! queued with `call_soon`, the callback settles the outer future, and the awaiting task's wakeup
//! is queued in turn. Each of these is one position in the ready queue, and the cases observe
//! them. detsim reproduces them exactly with tasks: a callback is a small task queued at the
//! moment asyncio would queue it (`call_soon`), and the awaiting task is woken only when the
//! outer result is settled. So under the FIFO scheduler the orderings are asyncio's; under
//! `Random` the callbacks are scheduling points like any other.
//!
//! # Cancellation
//!
//! Cancellation is a drop. Dropping a pending [`Gather`] cancels its children; dropping a
//! [`Wait`] or an [`AsCompleted`] does not touch the tasks (asyncio's `wait` does not shield, nor
//! cancel). [`shield`] gives an outer future whose cancellation leaves the inner task or gather
//! running. A cancellation of a task travels to the task or gather it awaits (asyncio's
//! `_fut_waiter`); `shield` and `wait` stop it.

mod gather;
mod shield;
mod wait;

pub use gather::{
    Gather, GatherError, GatherSettled, GatherTuple, TryGather, TupleGather, gather,
    gather_promises_settled, gather_settled, gather_tasks, gather_tuple, try_gather,
    try_gather_promises,
};
pub use shield::{Shieldable, shield};
pub use wait::{
    AsCompleted, Completed, ReturnWhen, Wait, WaitResult, as_completed, try_wait, wait,
};

/// Queues `f` to run as its own task, at the tail of the ready queue: asyncio's `call_soon`.
pub(crate) fn call_soon(name: &str, f: impl FnOnce() + 'static) {
    drop(
        crate::task::Builder::new()
            .name(name)
            .internal()
            .spawn(async move { f() }),
    );
}

/// Runs a closure when dropped.
pub(crate) struct OnDrop<F: FnOnce()>(pub(crate) Option<F>);

impl<F: FnOnce()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        if let Some(f) = self.0.take() {
            f();
        }
    }
}

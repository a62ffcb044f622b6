//! The typed errors of the primitives.

use std::fmt;

macro_rules! error_type {
    ($(#[$doc:meta])* $name:ident, $msg:expr) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct $name;

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str($msg)
            }
        }

        impl std::error::Error for $name {}
    };
}

error_type!(
    /// `put_nowait` on a full queue (asyncio's `QueueFull`).
    QueueFull,
    "the queue is full: wait with put().await, or make room with get first"
);
error_type!(
    /// `get_nowait` on an empty queue (asyncio's `QueueEmpty`).
    QueueEmpty,
    "the queue is empty: wait with get().await, or put an item first"
);
error_type!(
    /// The queue was shut down (asyncio's `QueueShutDown`): no more puts, and gets fail once the
    /// queue is empty.
    QueueShutDown,
    "the queue was shut down"
);
error_type!(
    /// The barrier was reset or aborted while waiting, or is broken (asyncio's
    /// `BrokenBarrierError`).
    BrokenBarrier,
    "the barrier is broken (it was reset or aborted); call reset() to use it again"
);
error_type!(
    /// `BoundedSemaphore::release` above its initial value (asyncio's `ValueError`
    /// "BoundedSemaphore released too many times").
    SemaphoreOverRelease,
    "BoundedSemaphore released too many times: release only what was acquired"
);
error_type!(
    /// `task_done` called more times than there were items put (asyncio's `ValueError`
    /// "task_done() called too many times").
    TooManyTaskDone,
    "task_done() called too many times: call it once per item taken with get"
);

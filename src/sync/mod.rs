//! Synchronization primitives with asyncio's semantics: [`Lock`], [`Mutex`], [`RwLock`],
//! [`Semaphore`], [`BoundedSemaphore`], [`Event`], [`Condition`], [`Queue`], [`LifoQueue`],
//! [`PriorityQueue`] and [`Barrier`].
//!
//! Every primitive is a thin layer on one FIFO waiter queue (`waiters.rs`), the way tokio builds
//! its locks on one batch semaphore. The rules are CPython 3.13's (`Lib/asyncio/locks.py`,
//! `Lib/asyncio/queues.py`; <https://docs.python.org/3.13/library/asyncio-sync.html>), carried over
//! to Rust:
//!
//! * **Fast paths never suspend.** A free lock, an available permit, a set event, a non-empty
//!   queue (for `get`) or a non-full one (for `put`) complete on the first poll, without yielding
//!   to the scheduler — so no scheduler can reorder tasks there.
//! * **FIFO fairness.** A newcomer never barges past a waiter that was woken but has not resumed.
//! * **Release is a guard's drop; cancellation is a drop.** Acquiring returns a guard (a permit for
//!   a semaphore) that releases when dropped. An acquire, wait, get or put future dropped after it
//!   was granted (asyncio's waiter state (d)) passes the grant on to the next waiter.
//! * **A task whose cancellation is pending is a cancelled waiter.** detsim drops a cancelled
//!   task's future only when the task would next run; until then, its queued waiter counts as
//!   cancelled, as asyncio's cancelled waiter future does.
//!
//! The primitives are single-threaded (`!Send`, `Rc` inside) and cheap to clone: a clone is
//! another handle to the same primitive, which is how tasks share one. They also work outside
//! detsim (on any single-threaded executor); inside a detsim run every acquire, release, wait,
//! wake, notify, put and get is recorded as a resource event, and a blocked task's deadlock report
//! names the resource it waits for and the tasks holding it:
//!
//! ```
//! use detsim::sync::Lock;
//! use detsim::{Builder, FailureKind};
//!
//! let failure = Builder::new()
//!     .run(async {
//!         let (a, b) = (Lock::named("account a"), Lock::named("account b"));
//!         let (a2, b2) = (a.clone(), b.clone());
//!         let t = detsim::task::Builder::new().name("transfer b->a").spawn(async move {
//!             let _gb = b2.acquire().await;
//!             detsim::yield_now().await;
//!             let _ga = a2.acquire().await;
//!         });
//!         let _ga = a.acquire().await;
//!         detsim::yield_now().await;
//!         let _gb = b.acquire().await;
//!         t.await.unwrap();
//!     })
//!     .unwrap_err();
//! let report = failure.to_string();
//! assert!(matches!(failure.kind, FailureKind::Deadlock { .. }));
//! assert!(report.contains(r#"Lock "account b""#), "{report}");
//! assert!(report.contains("transfer b->a"), "{report}");
//! ```

mod barrier;
mod condition;
mod errors;
mod event;
mod lock;
mod mutex;
mod queue;
pub(crate) mod resource;
mod rwlock;
mod semaphore;
pub(crate) mod waiters;

pub use barrier::{Barrier, BarrierState, ZeroParties};
pub use condition::{Condition, WaitTimeout as ConditionWaitTimeout};
pub use errors::{
    BrokenBarrier, QueueEmpty, QueueFull, QueueShutDown, SemaphoreOverRelease, TooManyTaskDone,
};
pub use event::Event;
pub use lock::{Lock, LockGuard};
pub use mutex::{Mutex, MutexGuard, MutexLock};
pub use queue::{GetNowaitError, LifoQueue, PriorityQueue, PutNowaitError, Queue};
pub use rwlock::{RwLock, RwLockReadGuard, RwLockWriteGuard};
pub use semaphore::{BoundedSemaphore, Semaphore, SemaphorePermit};

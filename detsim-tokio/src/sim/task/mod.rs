//! `tokio::task` on detsim: `spawn`, `JoinHandle`, `AbortHandle`, `JoinError`, `JoinSet`,
//! `LocalSet`, `spawn_local`, `spawn_blocking`, `yield_now`, `id`, `try_id`, `task_local!`.
//!
//! A task is a detsim task: it is queued when spawned and first runs when the spawner yields
//! (tokio's current-thread order and asyncio's), and every choice among runnable tasks is a
//! decision of detsim's scheduler. Futures need not be `Send`.
//!
//! Aborting follows tokio: the task's future is dropped at its next turn, and its `JoinHandle`
//! then returns a cancelled `JoinError` (or the output, if the task finished first). What the
//! task was awaiting is not aborted with it.

mod handle;
mod join_set;
mod local;

pub use handle::{AbortHandle, Id, JoinError, JoinHandle};
pub use join_set::JoinSet;
pub use local::LocalSet;
pub use tokio::task::LocalKey;
pub use tokio::task::futures;

use std::future::Future;

/// Spawns a task on the current detsim run; tokio's `spawn`, without its `Send` bounds.
///
/// # Panics
///
/// Outside a detsim run ("must be called from the context of a Tokio 1.x runtime", in tokio's
/// words).
///
/// ```
/// use detsim_tokio::sim::task;
/// detsim::run(async {
///     let h = task::spawn(async { 6 * 7 });
///     assert_eq!(h.await.unwrap(), 42);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    in_run("tokio::spawn");
    JoinHandle::new(detsim::spawn(future))
}

/// tokio's `spawn_local`: on detsim every task is local, so this is [`spawn`].
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    in_run("tokio::task::spawn_local");
    JoinHandle::new(detsim::spawn(future))
}

/// tokio's `spawn_blocking`: the closure runs as **one step** of a simulated task (no thread
/// pool), so it must not block waiting for another task; simulated time does not pass while it
/// runs.
///
/// ```
/// use detsim_tokio::sim::task;
/// detsim::run(async {
///     let h = task::spawn_blocking(|| (1..=10).sum::<u32>());
///     assert_eq!(h.await.unwrap(), 55);
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + 'static,
    R: 'static,
{
    in_run("tokio::task::spawn_blocking");
    JoinHandle::new(detsim::spawn(async move { f() }))
}

/// tokio's `block_in_place`: runs `f` at once, on this thread (there is only one).
pub fn block_in_place<F: FnOnce() -> R, R>(f: F) -> R {
    f()
}

/// Yields to the scheduler: the task goes to the back of the ready queue (tokio's `yield_now`;
/// the future is detsim's own, so a yield costs what it costs natively).
pub fn yield_now() -> detsim::task::YieldNow {
    detsim::yield_now()
}

/// The id of the running task.
///
/// # Panics
///
/// Outside a task, as tokio's `task::id` does.
pub fn id() -> Id {
    try_id().expect("can't get a task id when not inside a task")
}

/// The id of the running task, or `None` outside one. Under detsim the test body (or
/// `block_on`'s future) is a task too.
pub fn try_id() -> Option<Id> {
    detsim::task::try_current_id().map(Id::from_task)
}

/// Panics, with tokio's message and the API's name, outside a detsim run.
#[track_caller]
pub(crate) fn in_run(api: &str) {
    if detsim::time::try_now().is_none() {
        panic!(
            "{api}: there is no reactor running, must be called from the context of a Tokio 1.x \
             runtime (detsim-tokio under --cfg detsim: call it inside #[tokio::test], \
             #[tokio::main], Runtime::block_on or a detsim run)"
        );
    }
}

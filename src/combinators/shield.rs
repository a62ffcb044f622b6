//! `shield`: an outer task whose cancellation leaves the inner task running.
//!
//! # Invariants
//!
//! * Cancelling the outer task never touches the inner one.
//! * The inner outcome is copied to the outer: its value, its cancellation (the outer ends
//!   cancelled), or its panic (the outer panics with the same message).

use crate::runtime;
use crate::task::JoinHandle;

/// Shields `inner` from cancellation: returns the handle of a new task that waits for `inner`
/// and ends as it ends. Cancelling (or dropping a waiter on) the returned task does **not**
/// cancel `inner` (asyncio's `shield`).
///
/// To shield a plain future, spawn it first: `shield(detsim::spawn(fut))`.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::{combinators::shield, spawn, time::{sleep, Duration}};
/// detsim::run(async {
///     let inner = spawn(async { sleep(Duration::from_millis(100)).await; "done" });
///     let keep = inner.cancel_handle();
///     let outer = shield(inner);
///     let c = outer.cancel_handle();
///     detsim::yield_now().await;
///     assert!(c.cancel()); // cancels the shield only
///     assert!(outer.await.unwrap_err().is_cancelled());
///     assert!(!keep.is_finished()); // the inner task still runs
/// });
/// ```
pub fn shield<T: 'static>(inner: JoinHandle<T>) -> JoinHandle<T> {
    crate::task::named!("shield").spawn(async move {
        match inner.await {
            Ok(v) => v,
            Err(e) if e.is_cancelled() => {
                // The inner task was cancelled: so is the outer one, at its next step.
                runtime::with_core("detsim::combinators::shield", |c| {
                    if let Some(me) = c.current_task() {
                        c.cancel(me);
                    }
                });
                std::future::pending().await
            }
            Err(e) => panic!(
                "the task under a shield panicked: {}",
                e.panic_message().unwrap_or("(no message)")
            ),
        }
    })
}

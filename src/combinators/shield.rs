//! `shield`: an outer future whose cancellation leaves the inner task or gather running.
//!
//! # Invariants
//!
//! * Cancelling the outer handle never touches the inner one: a task is watched through
//!   `JoinHandle::poll_watch`, a wait that a cancellation does not follow; a gather dropped by
//!   the outer's cancellation is detached, not cancelled.
//! * The outer is an asyncio Future, not a Task: a cancellation ends it at once and queues its
//!   awaiter, as `Future.cancel()` does.
//! * The inner outcome is copied to the outer: its value, its cancellation (the outer ends
//!   cancelled), or its panic (the outer panics with the same message).
//! * No extra step: the outer settles one hop after the inner ends (asyncio's
//!   `_inner_done_callback`), for a task and for a gather alike.

use std::future::Future;
use std::pin::Pin;

use super::gather::{Gather, GatherError, GatherSettled, TryGather};
use crate::runtime;
use crate::task::{JoinError, JoinHandle};

type Watched<O> = Pin<Box<dyn Future<Output = Result<O, JoinError>>>>;

/// What [`shield`] accepts: a task's [`JoinHandle`] or a gather — asyncio's futures, which
/// `ensure_future` passes through unchanged. To shield any other future, spawn it first,
/// `shield(detsim::spawn(fut))`: that is what asyncio's `shield(coro)` does (`ensure_future`
/// wraps it in a task at once), with the same timing.
pub trait Shieldable: 'static {
    /// What the shielded future gives.
    type Output: 'static;

    #[doc(hidden)]
    fn watched(self) -> Watched<Self::Output>;
}

impl<T: 'static> Shieldable for JoinHandle<T> {
    type Output = T;

    fn watched(mut self) -> Watched<T> {
        Box::pin(std::future::poll_fn(move |cx| self.poll_watch(cx)))
    }
}

impl<T: 'static> Shieldable for Gather<T> {
    type Output = Vec<T>;

    fn watched(self) -> Watched<Vec<T>> {
        Box::pin(self)
    }
}

impl<T: 'static, E: 'static> Shieldable for TryGather<T, E> {
    type Output = Result<Vec<T>, GatherError<E>>;

    fn watched(self) -> Watched<Self::Output> {
        Box::pin(async move {
            match self.await {
                Err(GatherError::Join(j)) => Err(j),
                other => Ok(other),
            }
        })
    }
}

impl<T: 'static> Shieldable for GatherSettled<T> {
    type Output = Vec<Result<T, JoinError>>;

    fn watched(self) -> Watched<Self::Output> {
        Box::pin(async move { Ok(self.await) })
    }
}

/// Shields `inner` from cancellation: returns the handle of an outer future that ends as
/// `inner` ends. Cancelling the returned handle (or a task awaiting it) does **not** cancel
/// `inner` (asyncio's `shield`); the outer ends cancelled at once.
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
///
///     // A gather, with no extra step.
///     let g = detsim::gather([1, 2].map(|x| async move { x }));
///     assert_eq!(shield(g).await.unwrap(), [1, 2]);
/// });
/// ```
#[track_caller]
pub fn shield<S: Shieldable>(inner: S) -> JoinHandle<S::Output> {
    let watched = inner.watched();
    crate::task::named!("shield")
        .future_like()
        .spawn(async move {
            match watched.await {
                Ok(v) => v,
                Err(e) if e.is_cancelled() => {
                    // The inner future was cancelled: so is the outer one, at its next step.
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

//! The memory of a finished run, kept for the next run on the same thread.
//!
//! An exploration runs thousands of short programs in a row; allocating the run's structures
//! afresh for each (task slots, ready queue, decision log, resource table, the shared waker state
//! and one waker per task) cost more than a short run's steps. A run takes the thread's spare
//! memory when it starts and hands it back, cleared, when it ends.
//!
//! # Invariants
//!
//! * Everything handed back is empty: no task, future, name, resource or decision of the old run
//!   survives into the next one.
//! * Wakers are reused only when nothing outside the core holds a clone of any of them (every
//!   waker's `Arc` is unique, and the shared state is held only by them and the spare), so a waker
//!   of an old run can never wake a task of a new one. Otherwise the shared state and the wakers
//!   are dropped, and the next run builds new ones (the old wakers then see a finished run and do
//!   nothing).
//! * The main task's outcome sink is reused only when nothing outside the core holds it (a
//!   handle from `task::current()` kept past the run keeps reading its own run's outcome).
//! * The shared state gets a new run id for every run ([`RtShared::renew`]), so primitives
//!   created in one run and used in the next still register anew.

use std::cell::RefCell;
use std::sync::Arc;

use std::rc::Rc;

use super::waker::{RtShared, TaskWaker};
use super::{MainSink, ResourceInfo, TaskSlot};
use crate::base::Decision;
use crate::base::ready::ReadyQueue;

/// The reusable memory of one run.
#[derive(Default)]
pub(super) struct Spare {
    pub(super) shared: Option<Arc<RtShared>>,
    /// `wakers[i]` is task `i`'s waker; only present together with `shared`.
    pub(super) wakers: Vec<Arc<TaskWaker>>,
    pub(super) tasks: Vec<TaskSlot>,
    pub(super) ready: ReadyQueue,
    pub(super) decisions: Vec<Decision>,
    pub(super) resources: Vec<ResourceInfo>,
    /// The main task's outcome sink, kept when nothing outside the run holds it.
    pub(super) main_sink: Option<Rc<MainSink>>,
}

thread_local! {
    static SPARE: RefCell<Option<Spare>> = const { RefCell::new(None) };
}

/// Takes this thread's spare memory (or empty structures when there is none).
pub(super) fn take() -> Spare {
    SPARE
        .with(|s| s.borrow_mut().take())
        .unwrap_or_else(|| Spare {
            wakers: Vec::with_capacity(8),
            ..Spare::default()
        })
}

/// The most tasks whose slots and wakers a thread keeps between runs: enough for the short
/// programs an exploration repeats, without holding on to a 100,000-task run's memory.
pub(super) const KEEP_TASKS: usize = 1024;
/// The most decisions whose buffer a thread keeps (16 bytes each).
const KEEP_DECISIONS: usize = 16_384;

/// Hands a finished run's memory back for the next run on this thread.
pub(super) fn put(mut spare: Spare) {
    spare.tasks.clear();
    spare.tasks.shrink_to(KEEP_TASKS);
    spare.ready.clear();
    spare.ready.shrink_to(KEEP_TASKS);
    spare.decisions.clear();
    spare.decisions.shrink_to(KEEP_DECISIONS);
    spare.resources.clear();
    spare.resources.shrink_to(KEEP_TASKS);
    spare.wakers.shrink_to(KEEP_TASKS);
    let unique = spare.wakers.iter().all(|w| Arc::strong_count(w) == 1);
    let keep = unique
        && spare
            .shared
            .as_ref()
            .is_some_and(|s| Arc::strong_count(s) == 1 + spare.wakers.len());
    if !keep {
        spare.wakers = Vec::new();
        spare.shared = None;
    }
    // A handle to the main task (`task::current()`) kept past the run still reads this one.
    if spare
        .main_sink
        .as_ref()
        .is_some_and(|m| Rc::strong_count(m) > 1)
    {
        spare.main_sink = None;
    }
    SPARE.with(|s| *s.borrow_mut() = Some(spare));
}

/// Returns a run's decision log to the spare memory once its reader is done with it, so that the
/// next run records into the same buffer.
pub(crate) fn recycle_decisions(mut log: Vec<Decision>) {
    SPARE.with(|s| {
        // In place: the spare is not moved out and back for a vector's worth of work.
        if let Some(spare) = s.borrow_mut().as_mut() {
            if spare.decisions.capacity() < log.capacity() && log.capacity() <= KEEP_DECISIONS {
                log.clear();
                spare.decisions = log;
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;
    use std::task::Waker;

    use crate::Builder;

    #[test]
    fn a_main_handle_kept_past_its_run_keeps_that_runs_outcome() {
        let kept = Rc::new(RefCell::new(None));
        let k = kept.clone();
        Builder::new()
            .run(async move {
                *k.borrow_mut() = Some(crate::task::current());
            })
            .unwrap();
        let handle = kept.borrow_mut().take().unwrap();
        assert!(handle.done());
        // The next run on this thread must not reuse (and reset) the sink the handle reads: while
        // that run's main task is running, the old one is still done.
        Builder::new()
            .run(async move {
                assert!(!crate::task::current().done());
                assert!(
                    handle.done(),
                    "a later run reset an earlier run's main task"
                );
                assert!(!handle.cancelled());
            })
            .unwrap();
    }

    #[test]
    fn a_waker_kept_past_its_run_wakes_nothing_in_the_next() {
        let kept: Rc<RefCell<Option<Waker>>> = Rc::default();
        let k = kept.clone();
        Builder::new()
            .run(async move {
                std::future::poll_fn(|cx| {
                    *k.borrow_mut() = Some(cx.waker().clone());
                    std::task::Poll::Ready(())
                })
                .await;
            })
            .unwrap();
        let old = kept.borrow_mut().take().unwrap();
        // The next run blocks its main task on a future nobody wakes but the old waker: the
        // wake must not reach it, so the run ends in a deadlock rather than finishing.
        let failure = Builder::new()
            .run(async move {
                let mut woken = false;
                std::future::poll_fn(|_| {
                    if woken {
                        return std::task::Poll::Ready(());
                    }
                    woken = true;
                    old.wake_by_ref();
                    std::task::Poll::Pending
                })
                .await;
            })
            .unwrap_err();
        assert!(
            matches!(failure.kind, crate::FailureKind::Deadlock { .. }),
            "{failure}"
        );
    }
}

//! Task wakers, and the guard against wakes from other OS threads.
//!
//! A waker must be `Send + Sync` (`std::task::Wake`), but the run is single-threaded. A waker
//! therefore carries only the task id and a handle to thread-safe flags; on the run's own thread,
//! inside the run, it reaches the core through `CURRENT`. Anywhere else it touches nothing but the
//! flags: a wake from another thread is recorded, and the run loop stops with a clear failure.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::task::Wake;
use std::thread::{self, ThreadId};

use super::CURRENT;
use crate::base::TaskId;

static NEXT_RUN_ID: AtomicU64 = AtomicU64::new(1);

/// The part of a run that wakers may touch from any thread.
#[derive(Debug)]
pub(crate) struct RtShared {
    /// Distinguishes runs on the same thread: a new value for every run, also when this structure
    /// is reused (see `spare`). Never reaches a decision or a report.
    pub(crate) id: AtomicU64,
    /// Used only to tell a foreign wake from a stale one; never reported.
    owner: ThreadId,
    pub(crate) foreign: AtomicBool,
    pub(crate) foreign_task: AtomicU32,
    pub(crate) finished: AtomicBool,
}

impl RtShared {
    pub(crate) fn new() -> Arc<RtShared> {
        Arc::new(RtShared {
            id: AtomicU64::new(NEXT_RUN_ID.fetch_add(1, Ordering::Relaxed)),
            owner: thread::current().id(),
            foreign: AtomicBool::new(false),
            foreign_task: AtomicU32::new(0),
            finished: AtomicBool::new(false),
        })
    }

    /// Prepares a reused structure for a new run; only called when no waker of an earlier run
    /// can reach it any more.
    pub(crate) fn renew(&self) {
        self.id.store(
            NEXT_RUN_ID.fetch_add(1, Ordering::Relaxed),
            Ordering::Relaxed,
        );
        self.foreign.store(false, Ordering::Relaxed);
        self.foreign_task.store(0, Ordering::Relaxed);
        self.finished.store(false, Ordering::Relaxed);
    }

    /// This run's id.
    #[inline]
    pub(crate) fn id(&self) -> u64 {
        self.id.load(Ordering::Relaxed)
    }
}

#[derive(Debug)]
pub(crate) struct TaskWaker {
    task: TaskId,
    rt: Arc<RtShared>,
}

impl TaskWaker {
    pub(crate) fn new(task: TaskId, rt: Arc<RtShared>) -> TaskWaker {
        TaskWaker { task, rt }
    }
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if CURRENT.is_set() {
            let here = CURRENT.with(|core| {
                if Arc::ptr_eq(&core.shared, &self.rt) {
                    core.wake(self.task);
                    true
                } else {
                    false
                }
            });
            if here {
                return;
            }
        }
        if self.rt.finished.load(Ordering::Relaxed) {
            return; // A waker that outlived its run: nothing to wake.
        }
        if thread::current().id() != self.rt.owner && !self.rt.foreign.load(Ordering::Relaxed) {
            self.rt
                .foreign_task
                .store(self.task.as_u32(), Ordering::Relaxed);
            self.rt.foreign.store(true, Ordering::Release);
        }
    }
}

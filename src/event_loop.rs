//! The event loop's callback API: [`call_soon`], [`call_later`], [`call_at`] (asyncio's
//! `loop.call_soon`, `loop.call_later`, `loop.call_at`), each returning a cancellable
//! [`Handle`].
//!
//! # Ordering (asyncio's `_run_once`)
//!
//! * `call_soon` queues the callback at the tail of the ready queue, now: it runs in the next
//!   iteration, in call order, interleaved with tasks' steps as they were queued.
//! * `call_later`/`call_at` set a timer. Due timers are moved to the tail of the ready queue at
//!   the **start** of an iteration, in (deadline, call) order — so a zero-delay `call_later` runs
//!   after the `call_soon` callbacks and task steps queued in the same iteration, as in asyncio.
//! * A callback is one step of its own, a scheduling point like a task's step: other schedulers
//!   than FIFO may move it, as they may move any ready task.
//!
//! # Invariants
//!
//! * A cancelled handle's callback never runs, whether its timer has fired or not; cancelling
//!   removes it at once and costs no step. Cancelling after it ran does nothing.
//! * Callbacks are detsim's own machinery in reports: never listed as unseen, named
//!   `call_soon`/`call_later` in traces.
//! * A panic in a callback fails the run like a panic in a task (asyncio logs it and goes on;
//!   a test should not).

use std::fmt;

use crate::runtime::{self, TimerKey};
use crate::task::{Builder, CancelHandle};
use crate::time::{Duration, Instant, now};

/// A scheduled callback (asyncio's `Handle` / `TimerHandle`): it can be cancelled until it runs.
#[derive(Clone)]
pub struct Handle {
    task: CancelHandle,
    when: Option<Instant>,
    timer: Option<TimerKey>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("when", &self.when)
            .field("cancelled", &self.cancelled())
            .finish()
    }
}

impl Handle {
    /// Cancels the callback if it has not run (asyncio's `Handle.cancel()`). Returns whether it
    /// was still pending.
    ///
    /// # Panics
    ///
    /// Outside the run the callback belongs to.
    pub fn cancel(&self) -> bool {
        if self.task.done() {
            return false;
        }
        if let Some(key) = self.timer {
            runtime::with_core("detsim::event_loop::Handle::cancel", |c| {
                c.cancel_timer(key)
            });
        }
        self.task.cancel()
    }

    /// Whether it was cancelled before it ran (asyncio's `Handle.cancelled()`).
    pub fn cancelled(&self) -> bool {
        self.task.cancelled()
    }

    /// When a `call_later`/`call_at` callback is due (asyncio's `TimerHandle.when()`); `None` for
    /// `call_soon`.
    pub fn when(&self) -> Option<Instant> {
        self.when
    }
}

/// Queues `f` to run at the tail of the ready queue (asyncio's `loop.call_soon`).
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use std::{cell::RefCell, rc::Rc};
/// use detsim::event_loop::{call_later, call_soon};
/// use detsim::time::Duration;
/// let log = detsim::run(async {
///     let log = Rc::new(RefCell::new(Vec::new()));
///     let l = |s: &'static str| { let l = log.clone(); move || l.borrow_mut().push(s) };
///     call_later(Duration::ZERO, l("later 0"));
///     call_soon(l("soon 1"));
///     call_soon(l("cancelled")).cancel();
///     call_soon(l("soon 2"));
///     detsim::time::sleep(Duration::from_millis(1)).await;
///     log.take()
/// });
/// assert_eq!(log, ["soon 1", "soon 2", "later 0"]);
/// ```
#[track_caller]
pub fn call_soon(f: impl FnOnce() + 'static) -> Handle {
    let h = Builder::new()
        .name("call_soon")
        .callback()
        .spawn(async move { f() });
    Handle {
        task: h.cancel_handle(),
        when: None,
        timer: None,
    }
}

/// Runs `f` once `delay` of simulated time has passed (asyncio's `loop.call_later`); see the
/// module docs for where a zero delay falls.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use detsim::{event_loop::call_later, time::{now, sleep, Duration}};
/// detsim::run(async {
///     let h = call_later(Duration::from_secs(5), || panic!("cancelled, never runs"));
///     assert_eq!(h.when().unwrap().to_string(), "5s");
///     assert!(h.cancel());
///     sleep(Duration::from_secs(10)).await;
///     assert!(h.cancelled());
/// });
/// ```
#[track_caller]
pub fn call_later(delay: Duration, f: impl FnOnce() + 'static) -> Handle {
    call_at(now() + delay, f)
}

/// Runs `f` when simulated time reaches `when` (asyncio's `loop.call_at`); a time that has
/// passed runs it at the start of the next iteration. Callbacks due at the same time run in the
/// order they were scheduled.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// use std::{cell::Cell, rc::Rc};
/// use detsim::{event_loop::call_at, time::{sleep, Duration, Instant}};
/// detsim::run(async {
///     let hit = Rc::new(Cell::new(None));
///     let h2 = hit.clone();
///     call_at(Instant::ZERO + Duration::from_secs(2), move || h2.set(Some(detsim::time::now())));
///     sleep(Duration::from_secs(3)).await;
///     assert_eq!(hit.get().unwrap().to_string(), "2s");
/// });
/// ```
#[track_caller]
pub fn call_at(when: Instant, f: impl FnOnce() + 'static) -> Handle {
    let (h, timer) = Builder::new()
        .name("call_later")
        .callback()
        .spawn_timed(async move { f() }, when);
    Handle {
        task: h.cancel_handle(),
        when: Some(when),
        timer,
    }
}

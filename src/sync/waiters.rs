//! The one waiter queue every primitive of [`crate::sync`] is a thin layer on.
//!
//! A [`Waiters`] is asyncio's deque of waiter futures. Each entry stands for one suspended
//! acquire/wait/get/put future and is in one of the states of asyncio's waiter futures (`Lib/asyncio/locks.py`):
//!
//! * (a) *blocked*: `notified == false`, its task has no pending cancellation;
//! * (b) *cancelled, not yet run*: `notified == false`, its task's cancellation was requested
//!   (detsim drops the future only when the task would next run, so the queue asks the runtime,
//!   [`Core::cancel_requested`](crate::runtime::Core::cancel_requested), instead of waiting for the
//!   drop — exactly as asyncio cancels the waiter future at `Task.cancel()` time);
//! * (c) *woken*: `notified == true`, the task has not resumed yet;
//! * (d) *woken, then cancelled*: `notified == true` and the future is dropped before it is
//!   polled again.
//!
//! An entry is *done* in states (b), (c), (d) — asyncio's `fut.done()` — and *cancelled* only in
//! state (b).
//!
//! # Invariants
//!
//! * Entries are kept in arrival order (FIFO); keys grow with arrival, so a key is found by
//!   binary search. Every entry is removed by the future that created it (when it resumes or is
//!   dropped), never by the primitive, so a future always learns whether it was notified.
//! * Only a primitive's operation (release, set, notify, put, get, …) or a waiter's own
//!   resumption or drop may notify an entry; notifying means setting `notified` and waking that
//!   entry's waker once, at that moment (asyncio's `set_result` → `call_soon`).
//! * A done entry is never notified again: one grant per entry, no duplicate wakeups.
//! * A future dropped in state (d) must pass its grant on; each primitive's `Drop` does so (the
//!   regression tests named after the CPython bugs they reproduce, such as bpo-27585 and
//!   gh-90155, check every primitive).
//! * Wakers are invoked after the queue's borrow ends, so a waker may call back into the
//!   primitive.

use std::collections::VecDeque;
use std::task::Waker;

use crate::base::TaskId;
use crate::runtime::try_with_core;

/// Identifies one entry of a [`Waiters`] queue.
pub(crate) type Key = u64;

#[derive(Debug)]
struct Entry {
    key: Key,
    task: Option<TaskId>,
    waker: Option<Waker>,
    /// Units asked for (semaphores and read-write locks; 1 elsewhere).
    want: usize,
    notified: bool,
}

/// A FIFO queue of waiters; see the module docs.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    entries: VecDeque<Entry>,
    next: Key,
}

/// Whether the task that owns an entry has a pending cancellation (state b).
fn cancel_requested(task: Option<TaskId>) -> bool {
    match task {
        Some(t) => try_with_core(|c| c.cancel_requested(t)).unwrap_or(false),
        None => false,
    }
}

impl Entry {
    #[inline]
    fn cancelled(&self) -> bool {
        !self.notified && cancel_requested(self.task)
    }
    #[inline]
    fn done(&self) -> bool {
        self.notified || cancel_requested(self.task)
    }
}

impl Waiters {
    /// Appends a blocked entry for the current task; returns its key.
    pub(crate) fn push(&mut self, want: usize, waker: &Waker) -> Key {
        let key = self.next;
        self.next += 1;
        let task = try_with_core(|c| c.current_task()).flatten();
        self.entries.push_back(Entry {
            key,
            task,
            waker: Some(waker.clone()),
            want,
            notified: false,
        });
        key
    }

    fn index(&self, key: Key) -> Option<usize> {
        self.entries.binary_search_by_key(&key, |e| e.key).ok()
    }

    /// `Some(notified)` while the entry is queued, `None` once removed.
    pub(crate) fn is_notified(&self, key: Key) -> Option<bool> {
        self.index(key).map(|i| self.entries[i].notified)
    }

    /// Stores the waker to use when the entry is notified.
    pub(crate) fn set_waker(&mut self, key: Key, waker: &Waker) {
        if let Some(i) = self.index(key) {
            let e = &mut self.entries[i];
            match &e.waker {
                Some(w) if w.will_wake(waker) => {}
                _ => e.waker = Some(waker.clone()),
            }
        }
    }

    /// Removes an entry; returns whether it had been notified (`None` if it was not queued).
    pub(crate) fn remove(&mut self, key: Key) -> Option<bool> {
        let i = self.index(key)?;
        self.entries.remove(i).map(|e| e.notified)
    }

    /// Number of entries, in every state.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// asyncio's `all(w.cancelled() for w in waiters)` (true when empty).
    #[inline]
    pub(crate) fn all_cancelled(&self) -> bool {
        self.entries.is_empty() || self.entries.iter().all(Entry::cancelled)
    }

    /// asyncio's `any(not w.cancelled() for w in waiters)`.
    #[inline]
    pub(crate) fn any_live(&self) -> bool {
        !self.all_cancelled()
    }

    /// Number of entries not yet done (blocked, state a).
    pub(crate) fn pending(&self) -> usize {
        self.entries.iter().filter(|e| !e.done()).count()
    }

    fn notify_at(&mut self, i: usize) -> Waker {
        let e = &mut self.entries[i];
        e.notified = true;
        e.waker.take().unwrap_or_else(noop_waker)
    }

    /// Lock's `_wake_up_first`: notifies the head only, and only if it is not done.
    #[inline]
    pub(crate) fn notify_head(&mut self) -> Option<Waker> {
        if self.entries.is_empty() {
            return None;
        }
        match self.entries.front() {
            Some(e) if !e.done() => Some(self.notify_at(0)),
            _ => None,
        }
    }

    /// Semaphore's `_wake_up_next`: the first entry that is not done, if it wants at most
    /// `available` units. Returns the units granted and the waker to call.
    #[inline]
    pub(crate) fn notify_first_fitting(&mut self, available: usize) -> Option<(usize, Waker)> {
        let i = self.entries.iter().position(|e| !e.done())?;
        let want = self.entries[i].want;
        if want > available {
            return None;
        }
        Some((want, self.notify_at(i)))
    }

    /// Notifies the first `n` entries that are not done, in FIFO order (Condition's `_notify`,
    /// Event's `set`, Queue's `_wakeup_next` with `n == 1`); returns their wakers.
    pub(crate) fn notify_n(&mut self, n: usize) -> Vec<Waker> {
        let mut out = Vec::new();
        for i in 0..self.entries.len() {
            if out.len() >= n {
                break;
            }
            if !self.entries[i].done() {
                out.push(self.notify_at(i));
            }
        }
        out
    }

    /// Notifies the first entry that is not done; returns its waker.
    pub(crate) fn notify_one(&mut self) -> Option<Waker> {
        let i = self.entries.iter().position(|e| !e.done())?;
        Some(self.notify_at(i))
    }
}

fn noop_waker() -> Waker {
    Waker::noop().clone()
}

/// Wakes every waker of `ws`.
pub(crate) fn wake_all(ws: Vec<Waker>) {
    for w in ws {
        w.wake();
    }
}

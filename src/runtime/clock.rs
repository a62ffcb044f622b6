//! The clock: simulated now, and the timer queue ordered by (deadline, insertion).
//!
//! Only the run loop moves the clock, and only when no task is runnable. Firing a timer removes it
//! and hands its waker back to the run loop, which wakes it with no borrow held.

use std::collections::BTreeMap;
use std::task::Waker;

use crate::base::Instant;

/// Identifies a pending timer: its deadline and insertion number, which is also its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct TimerKey {
    deadline: Instant,
    seq: u64,
}

#[derive(Debug, Default)]
pub(crate) struct Clock {
    now: Instant,
    seq: u64,
    timers: BTreeMap<TimerKey, Waker>,
}

impl Clock {
    pub(crate) fn now(&self) -> Instant {
        self.now
    }

    pub(crate) fn insert(&mut self, deadline: Instant, waker: Waker) -> TimerKey {
        let key = TimerKey {
            deadline,
            seq: self.seq,
        };
        self.seq += 1;
        self.timers.insert(key, waker);
        key
    }

    /// Whether any timer is pending.
    #[inline]
    pub(crate) fn has_timers(&self) -> bool {
        !self.timers.is_empty()
    }

    pub(crate) fn is_pending(&self, key: TimerKey) -> bool {
        self.timers.contains_key(&key)
    }

    pub(crate) fn update_waker(&mut self, key: TimerKey, waker: &Waker) {
        if let Some(w) = self.timers.get_mut(&key) {
            if !w.will_wake(waker) {
                *w = waker.clone();
            }
        }
    }

    pub(crate) fn cancel(&mut self, key: TimerKey) -> bool {
        self.timers.remove(&key).is_some()
    }

    /// The earliest deadline, if any timer is pending.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.timers.keys().next().map(|k| k.deadline)
    }

    /// Moves the clock forward to `to` (never backwards).
    pub(crate) fn advance_to(&mut self, to: Instant) {
        debug_assert!(to >= self.now);
        self.now = to;
    }

    /// Removes every pending timer (for shutdown); the time stays where it is.
    pub(crate) fn take_timers(&mut self) -> BTreeMap<TimerKey, Waker> {
        std::mem::take(&mut self.timers)
    }

    /// Removes the earliest timer if it is due, returning its deadline and waker.
    pub(crate) fn pop_due(&mut self) -> Option<(Instant, Waker)> {
        let first = self.timers.first_entry()?;
        if first.key().deadline <= self.now {
            let deadline = first.key().deadline;
            Some((deadline, first.remove()))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker;

    #[test]
    fn equal_deadlines_fire_in_insertion_order() {
        let mut c = Clock::default();
        let t = Instant::from_nanos(5);
        let a = c.insert(t, noop_waker());
        let b = c.insert(Instant::from_nanos(3), noop_waker());
        let d = c.insert(t, noop_waker());
        assert!(b < a && a < d);
        assert_eq!(c.next_deadline(), Some(Instant::from_nanos(3)));
        c.advance_to(t);
        let mut fired = Vec::new();
        while let Some((dl, _)) = c.pop_due() {
            fired.push(dl.as_nanos());
        }
        assert_eq!(fired, [3, 5, 5]);
        assert!(!c.is_pending(a) && !c.is_pending(d));
    }

    #[test]
    fn cancel_removes() {
        let mut c = Clock::default();
        let a = c.insert(Instant::from_nanos(1), noop_waker());
        assert!(c.cancel(a));
        assert!(!c.cancel(a));
        assert_eq!(c.next_deadline(), None);
    }
}

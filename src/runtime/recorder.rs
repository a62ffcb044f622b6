//! The event log of a recorded run: every event, or a ring of the last `n`.

use super::*;

/// The event log of a recorded run.
pub(super) enum Recorder {
    /// Every event (`Builder::record`): a plain vector, no per-event limit check.
    Full(Vec<Event>),
    /// The last `cap` events (`Builder::record_last(cap)`).
    Ring { buf: VecDeque<Event>, cap: usize },
}

impl Recorder {
    /// The most events a ring reserves up front (48 KiB).
    const RING_RESERVE: usize = 1024;

    /// A full recording starts empty and grows by doubling: reserving up front measured no
    /// faster, and with glibc a 1024-event start made every run of the spawn-heavy benchmark
    /// map fresh pages for its final buffer (12× the page faults, 1.8× the time).
    pub(super) fn new(limit: usize) -> Recorder {
        if limit == usize::MAX {
            Recorder::Full(Vec::new())
        } else {
            Recorder::Ring {
                buf: VecDeque::with_capacity(limit.min(Self::RING_RESERVE)),
                cap: limit,
            }
        }
    }

    #[inline]
    pub(super) fn push(&mut self, ev: Event) {
        match self {
            Recorder::Full(v) => v.push(ev),
            Recorder::Ring { buf, cap } => {
                if buf.len() == *cap {
                    if *cap == 0 {
                        return;
                    }
                    buf.pop_front();
                }
                buf.push_back(ev);
            }
        }
    }

    pub(super) fn into_events(self) -> Vec<Event> {
        match self {
            Recorder::Full(v) => v,
            Recorder::Ring { buf, .. } => buf.into(),
        }
    }
}

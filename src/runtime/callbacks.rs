//! Callbacks scheduled on the event loop (`detsim::event_loop`): small tasks that run one
//! closure, queued where asyncio queues the callback's handle.
//!
//! A `call_later`/`call_at` callback is a *parked* task: spawned without being queued, its waker
//! in a timer, so that it reaches the ready queue when the timer fires at the start of an
//! iteration — after the callbacks queued during the previous one, as asyncio moves due timer
//! handles to the tail of `_ready`. Spawning it costs no step.

use std::panic::Location;
use std::rc::Rc;

use super::{BoxFuture, Core, JoinSink, TaskKind, TimerKey};
use crate::base::{Instant, TaskId};

impl Core {
    /// Spawns a callback task that is not queued; it runs when the timer it is given to fires.
    /// Returns its id and the timer's key (none while the run shuts down: it never runs).
    pub(crate) fn spawn_timed(
        &self,
        name: Option<Rc<str>>,
        fut: BoxFuture,
        join: Rc<dyn JoinSink>,
        at: &'static Location<'static>,
        when: Instant,
    ) -> (TaskId, Option<TimerKey>) {
        let id = self.spawn(name, fut, join, at, TaskKind::Callback);
        if self.shutting_down.get() {
            return (id, None);
        }
        {
            // `spawn` queued it last; park it instead.
            let mut ready = self.ready.borrow_mut();
            let last = ready.len() - 1;
            let parked = ready.remove(last);
            debug_assert_eq!(parked, id);
        }
        let waker = {
            let mut tasks = self.tasks.borrow_mut();
            let slot = &mut tasks[id.index()];
            slot.queued = false;
            slot.run.as_ref().map(|(_, w)| w.clone())
        };
        (id, waker.map(|w| self.insert_timer(when, w)))
    }
}

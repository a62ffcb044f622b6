//! Lazy registration of a primitive with the run it is used in, for traces and deadlock reports.
//!
//! A primitive may be created before a run starts and used in several runs one after another, so
//! it registers on first use within a run and again in each later run (keyed by the run's id).
//! Outside a detsim run every method does nothing.

use std::cell::Cell;
use std::rc::Rc;

use crate::base::{Holders, TaskId};
use crate::runtime::{AwaitLink, Core, FAST, HolderChange, WaitOn, try_with_core};

#[derive(Debug)]
pub(crate) struct Resource {
    pub(crate) kind: &'static str,
    name: Option<Rc<str>>,
    /// (run id, resource id in that run).
    reg: Cell<Option<(u64, u32)>>,
    /// The tasks holding it, shared with the run's registry for deadlock reports. Updated here,
    /// on the primitive's own fast path, without going through the runtime.
    holders: Rc<Holders>,
}

impl Resource {
    pub(crate) fn new(kind: &'static str, name: Option<Rc<str>>) -> Resource {
        Resource {
            kind,
            name,
            reg: Cell::new(None),
            holders: Rc::new(Holders::default()),
        }
    }

    pub(crate) fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    #[inline]
    fn id(&self, core: &Core) -> u32 {
        let run = core.run_id();
        match self.reg.get() {
            Some((r, id)) if r == run => id,
            _ => {
                // A new run: holders left from an earlier run belong to it, not to this one.
                self.holders.clear();
                let id = core.register_resource(self.kind, self.name.clone(), self.holders.clone());
                self.reg.set(Some((run, id)));
                id
            }
        }
    }

    /// Records `op` and how it changes the holders; returns the current task. Without event
    /// recording this never touches the runtime: it reads the thread's run facts and updates the
    /// primitive's own holder list.
    ///
    /// The common case (registered in this run, not recording) is inlined into the primitive;
    /// registration and recording are out of line.
    #[inline]
    pub(crate) fn op(&self, op: &'static str, change: HolderChange) -> Option<TaskId> {
        let (run, task, recording) = FAST.with(|f| (f.run.get(), f.task.get(), f.recording.get()));
        if run == 0 {
            return None; // outside a detsim run: nothing to record
        }
        if recording || !matches!(self.reg.get(), Some((r, _)) if r == run) {
            return self.op_slow(op, change, run, task, recording);
        }
        Self::change_holders(&self.holders, change, task);
        task
    }

    #[inline]
    fn change_holders(holders: &Holders, change: HolderChange, task: Option<TaskId>) {
        match change {
            HolderChange::Add => {
                if let Some(t) = task {
                    holders.add(t);
                }
            }
            HolderChange::Remove(t) => holders.remove(t),
            HolderChange::None => {}
        }
    }

    #[cold]
    #[inline(never)]
    fn op_slow(
        &self,
        op: &'static str,
        change: HolderChange,
        run: u64,
        task: Option<TaskId>,
        recording: bool,
    ) -> Option<TaskId> {
        if !matches!(self.reg.get(), Some((r, _)) if r == run) {
            // First use in this run: clears holders left from an earlier run.
            try_with_core(|c| self.id(c));
        }
        Self::change_holders(&self.holders, change, task);
        if recording {
            try_with_core(|c| c.resource_event(self.id(c), op));
        }
        task
    }

    /// Records that the current task is about to block on this resource.
    #[inline]
    pub(crate) fn block(&self) {
        try_with_core(|c| c.set_waiting(WaitOn::Resource(self.id(c))));
    }

    /// Records that the current task is about to block on this resource, which `holders` hold
    /// (for a task group or a gather: the children it waits for).
    pub(crate) fn block_on_tasks(&self, holders: impl IntoIterator<Item = TaskId>) {
        // Register first: registering in a new run clears the holders.
        self.block();
        self.set_holders(holders);
    }

    /// [`block_on_tasks`](Resource::block_on_tasks) for an outer future that a cancellation of
    /// the blocked task cancels first (`link`; a gather), as asyncio's `_fut_waiter`.
    pub(crate) fn block_on_tasks_linked(
        &self,
        holders: impl IntoIterator<Item = TaskId>,
        link: &AwaitLink,
    ) {
        try_with_core(|c| c.set_await_link(self.id(c), link));
        self.set_holders(holders);
    }

    fn set_holders(&self, holders: impl IntoIterator<Item = TaskId>) {
        self.holders.set(holders);
    }
}

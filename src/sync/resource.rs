//! Lazy registration of a primitive with the run it is used in, for traces and deadlock reports.
//!
//! A primitive may be created before a run starts and used in several runs one after another, so
//! it registers on first use within a run and again in each later run (keyed by the run's id).
//! Outside a detsim run every method does nothing.

use std::cell::Cell;
use std::rc::Rc;

use crate::runtime::{Core, HolderChange, WaitOn, try_with_core};
use crate::task::TaskId;

#[derive(Debug)]
pub(crate) struct Resource {
    pub(crate) kind: &'static str,
    name: Option<Rc<str>>,
    /// (run id, resource id in that run).
    reg: Cell<Option<(u64, u32)>>,
}

impl Resource {
    pub(crate) fn new(kind: &'static str, name: Option<Rc<str>>) -> Resource {
        Resource {
            kind,
            name,
            reg: Cell::new(None),
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
                let id = core.register_resource(self.kind, self.name.clone());
                self.reg.set(Some((run, id)));
                id
            }
        }
    }

    /// Records `op` and how it changes the holders; returns the current task (one look-up of
    /// the runtime for both, on the hot path).
    #[inline]
    pub(crate) fn op(&self, op: &'static str, change: HolderChange) -> Option<TaskId> {
        try_with_core(|c| {
            c.resource_op(self.id(c), op, change);
            c.current_task()
        })
        .flatten()
    }

    /// Records that the current task is about to block on this resource.
    #[inline]
    pub(crate) fn block(&self) {
        try_with_core(|c| c.set_waiting(WaitOn::Resource(self.id(c))));
    }
}

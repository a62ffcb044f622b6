//! Nothing ends unseen: at the end of a run, the tasks still pending and the panicked tasks whose
//! error nobody read (asyncio's "Task was destroyed but it is pending!" and "Task exception was
//! never retrieved").
//!
//! # Invariants
//!
//! * Only a run whose main future returned is checked: a failed run already has a report.
//! * Only a user's tasks (and futures it holds, such as a shield) are listed; detsim's own done
//!   callbacks and timers are not.
//! * A pending task whose cancellation was requested is not listed: someone asked it to end, and
//!   the end of the run drops it, as asyncio's `run` cancels what is left.
//! * A panic counts as observed once a handle's result or error was read: awaiting a
//!   `JoinHandle`, `error()`, `result()`, a gather or task group collecting it.
//! * The list is in task id order, and each setting applies to its own kind of entry.

use std::rc::Rc;

use super::{Core, JoinSink, TaskKind};
use crate::base::TaskId;
use crate::failure::{FailureKind, UnobservedTask, Unseen};

/// What the end of a run does with a task that ended unseen.
///
/// ```
/// use detsim::OnUnseen;
/// let report = detsim::Builder::new()
///     .on_pending_at_end(OnUnseen::Warn) // the default
///     .run_report(async {
///         drop(detsim::spawn(detsim::time::sleep(detsim::time::Duration::from_secs(1))));
///     });
/// assert!(report.output.is_ok());
/// assert_eq!(report.unseen.len(), 1);
/// assert!(report.unseen[0].to_string().contains("still pending"), "{}", report.unseen[0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnUnseen {
    /// The run fails with [`FailureKind::Unobserved`].
    Fail,
    /// The task is listed in [`RunReport::unseen`](crate::RunReport::unseen); the run passes.
    Warn,
    /// Nothing.
    Ignore,
}

/// The two settings, kept in the run's configuration.
#[derive(Clone, Copy, Debug)]
pub(crate) struct UnseenPolicy {
    pub(crate) pending: OnUnseen,
    pub(crate) panicked: OnUnseen,
}

impl Default for UnseenPolicy {
    fn default() -> Self {
        UnseenPolicy {
            pending: OnUnseen::Warn,
            panicked: OnUnseen::Fail,
        }
    }
}

impl Core {
    /// Remembers a panicked task's outcome, to check at the end whether anyone read it.
    pub(super) fn note_panicked(&self, id: TaskId, kind: TaskKind, join: &Rc<dyn JoinSink>) {
        if kind.reported() && self.config.unseen.panicked != OnUnseen::Ignore {
            self.panicked.borrow_mut().push((id, join.clone()));
        }
    }

    /// The tasks that are still pending now (the main future has returned), before shutdown
    /// drops them.
    pub(super) fn pending_at_end(&self) -> Vec<UnobservedTask> {
        if self.config.unseen.pending == OnUnseen::Ignore {
            return Vec::new();
        }
        let tasks = self.tasks.borrow();
        // A plain loop: in the common case nothing is pushed and nothing is built.
        let mut pending = Vec::new();
        for (i, s) in tasks.iter().enumerate().skip(1) {
            if !s.done && !s.cancel && s.kind.reported() {
                pending.push(UnobservedTask {
                    task: crate::failure::TaskRef {
                        id: TaskId::from_u32(i as u32),
                        name: s.name.as_ref().map(|n| n.to_string()),
                    },
                    spawned_at: s.spawned_at.map(|l| l.to_string()),
                    what: Unseen::Pending,
                });
            }
        }
        pending
    }

    /// Sorts what ended unseen by the settings: the entries that fail the run (as a failure
    /// kind), and the entries only listed. Called once the run is over.
    pub(super) fn judge_unseen(
        &self,
        pending: Vec<UnobservedTask>,
    ) -> (Option<FailureKind>, Vec<UnobservedTask>) {
        if pending.is_empty() && self.panicked.borrow().is_empty() {
            return (None, pending); // the common case: nothing to judge, nothing allocated
        }
        let policy = self.config.unseen;
        let panicked = std::mem::take(&mut *self.panicked.borrow_mut());
        let mut all: Vec<(OnUnseen, UnobservedTask)> = Vec::new();
        for (id, sink) in panicked {
            if sink.observed() {
                continue;
            }
            let message = sink
                .peek_error()
                .and_then(|e| e.panic_message().map(str::to_owned))
                .unwrap_or_default();
            let at = self
                .tasks
                .borrow()
                .get(id.index())
                .and_then(|s| s.spawned_at);
            all.push((
                policy.panicked,
                UnobservedTask {
                    task: self.task_ref(id),
                    spawned_at: at.map(|l| l.to_string()),
                    what: Unseen::Panicked(message),
                },
            ));
        }
        all.extend(pending.into_iter().map(|t| (policy.pending, t)));
        all.sort_by_key(|(_, t)| t.task.id);
        let failing: Vec<UnobservedTask> = all
            .iter()
            .filter(|(a, _)| *a == OnUnseen::Fail)
            .map(|(_, t)| t.clone())
            .collect();
        let listed = all
            .into_iter()
            .filter(|(a, _)| *a != OnUnseen::Ignore)
            .map(|(_, t)| t)
            .collect();
        let failure = (!failing.is_empty()).then_some(FailureKind::Unobserved { tasks: failing });
        (failure, listed)
    }
}

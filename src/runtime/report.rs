//! What a run tells a person: the deadlock report's wait descriptions and the trace's name tables.

use super::*;

impl Core {
    pub(super) fn runnable_refs(&self) -> Vec<TaskRef> {
        let ids: Vec<TaskId> = self.ready.borrow().view().to_vec();
        ids.into_iter().map(|t| self.task_ref(t)).collect()
    }

    pub(super) fn describe_wait(&self, on: &WaitOn) -> (String, Vec<TaskRef>) {
        match on {
            WaitOn::Unknown => (
                "a future outside detsim (no resource recorded)".to_string(),
                Vec::new(),
            ),
            WaitOn::Sleep(t) => (format!("a timer at {t}"), Vec::new()),
            WaitOn::SleepForever(asked) => (describe_endless_sleep(*asked), Vec::new()),
            // The awaited task is named in the text; a join has no holder.
            WaitOn::Linked => ("a Promise".to_string(), Vec::new()),
            WaitOn::Join(t) | WaitOn::Watch(t) => {
                (format!("{} to finish", self.task_ref(*t)), Vec::new())
            }
            WaitOn::Resource(r) => {
                let rs = self.resources.borrow();
                let info = &rs[*r as usize];
                let what = match &info.name {
                    Some(n) => format!("{} {:?}", info.kind, n),
                    None => format!("{} #{}", info.kind, r),
                };
                let holders = info.holders.to_vec();
                drop(rs);
                (
                    what,
                    holders.into_iter().map(|t| self.task_ref(t)).collect(),
                )
            }
        }
    }

    /// Fails a run that finished with decisions of a replayed log left over: the log was
    /// recorded from a program that asked for more decisions, so this run is not its replay.
    pub(super) fn check_log_used_up(&self) {
        let left = self.scheduler.borrow().unused_decisions();
        if left == 0 {
            return;
        }
        let used = self.decisions.borrow().len();
        self.fail(FailureKind::Scheduler {
            message: format!(
                "replay diverged: the run finished at step {} (simulated time {}) after {used} \
                 decisions, but the schedule holds {left} more that the program never asked \
                 for; the program has changed since the schedule was recorded, so record a new \
                 one",
                self.step.get(),
                self.now()
            ),
        });
    }

    pub(super) fn deadlock_report(&self) -> Vec<BlockedTask> {
        let mut waits: Vec<(TaskId, WaitOn)> = Vec::new();
        for (i, s) in self.tasks.borrow().iter().enumerate() {
            if !s.done {
                waits.push((TaskId::from_u32(i as u32), s.waiting));
            }
        }
        waits
            .into_iter()
            .map(|(id, on)| {
                let (waiting_for, holders) = self.describe_wait(&on);
                BlockedTask {
                    task: self.task_ref(id),
                    waiting_for,
                    holders,
                }
            })
            .collect()
    }

    /// The names a trace needs: the task table and the resource table, empty when the run
    /// recorded nothing (so unrecorded runs pay nothing for them).
    pub(super) fn trace(&self, events: Vec<Event>) -> Trace {
        if !self.recording() {
            return Trace::default();
        }
        let tasks = self
            .tasks
            .borrow()
            .iter()
            .enumerate()
            .map(|(i, s)| TaskInfo {
                id: TaskId::from_u32(i as u32),
                name: s.name.as_deref().map(str::to_string),
                parent: s.parent,
            })
            .collect();
        let resources = self
            .resources
            .borrow()
            .iter()
            .enumerate()
            .map(|(i, r)| TraceResource {
                id: i as u32,
                kind: r.kind,
                name: r.name.as_deref().map(str::to_string),
            })
            .collect();
        Trace {
            events,
            tasks,
            resources,
        }
    }
}

/// A sleep whose deadline is [`Instant::MAX`], described as the program wrote it.
fn describe_endless_sleep(asked: Option<std::time::Duration>) -> String {
    match asked {
        Some(std::time::Duration::MAX) => "a sleep that never ends (Duration::MAX)".into(),
        Some(d) => {
            let frac = d.subsec_nanos();
            let len = if frac == 0 {
                format!("{}s", d.as_secs())
            } else {
                let f = format!("{frac:09}");
                format!("{}.{}s", d.as_secs(), f.trim_end_matches('0'))
            };
            format!(
                "a sleep of {len}, which reaches past the end of simulated time (Instant::MAX, \
                 about 584 years) and so saturated: it never ends"
            )
        }
        None => "a sleep until Instant::MAX, which never comes".into(),
    }
}

//! Failures the runtime detects, and the report a person reads.

use std::fmt;

use crate::base::Decision;
use crate::base::Instant;
use crate::base::TaskId;
use crate::trace::Trace;

/// A task as reports show it: `task 3 "transfer a->b"`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TaskRef {
    /// Its id (spawn order; the main future is task 0).
    pub id: TaskId,
    /// Its name, if it was given one.
    pub name: Option<String>,
}

impl fmt::Display for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            Some(n) => write!(f, "task {} {:?}", self.id, n),
            None => write!(f, "task {}", self.id),
        }
    }
}

/// A task that could not make progress when the run deadlocked, and what it waited for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockedTask {
    /// The blocked task.
    pub task: TaskRef,
    /// What it waits for, e.g. `Lock "account b"` or `task 4 to finish`.
    pub waiting_for: String,
    /// The tasks that hold what it waits for, where known (the edges of the wait-for graph).
    pub holders: Vec<TaskRef>,
}

impl fmt::Display for BlockedTask {
    /// `task 1 "a" waits for Lock "b" held by task 2 "c"`; a task waiting for another to finish
    /// is not said to be "held" by it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} waits for {}", self.task, self.waiting_for)?;
        let join = matches!(&self.holders[..], [t] if self.waiting_for == format!("{t} to finish"));
        if !self.holders.is_empty() && !join {
            let hs: Vec<String> = self.holders.iter().map(|h| h.to_string()).collect();
            write!(f, " held by {}", hs.join(", "))?;
        }
        Ok(())
    }
}

/// A task that ended unseen: still pending when the run ended, or finished with a panic whose
/// [`JoinError`](crate::JoinError) nobody looked at (asyncio's "Task was destroyed but it is
/// pending!" and "Task exception was never retrieved").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnobservedTask {
    /// The task.
    pub task: TaskRef,
    /// Where it was spawned (`file:line:column`), when known.
    pub spawned_at: Option<String>,
    /// What was not seen.
    pub what: Unseen,
}

/// What [`UnobservedTask`] describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unseen {
    /// The task had not finished when the main future returned; its future was dropped then.
    Pending,
    /// The task panicked with this message, and no handle's result or error was ever read.
    Panicked(String),
}

impl fmt::Display for UnobservedTask {
    /// `task 3 "reader" (spawned at tests/x.rs:10:5) was still pending when the run ended`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.task)?;
        if let Some(at) = &self.spawned_at {
            write!(f, " (spawned at {at})")?;
        }
        match &self.what {
            Unseen::Pending => write!(
                f,
                " was still pending when the main future returned (its future was dropped \
                 unfinished)"
            ),
            Unseen::Panicked(m) => write!(
                f,
                " panicked and nobody read its error (await its JoinHandle or call error()): {m}"
            ),
        }
    }
}

/// What went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureKind {
    /// No task could run, no timer was pending, and the main future had not finished.
    Deadlock {
        /// Every task that was still alive, with what it waited for.
        blocked: Vec<BlockedTask>,
    },
    /// The run took more steps than [`Builder::max_steps`](crate::Builder::max_steps) allows.
    StepLimit {
        /// The limit.
        max_steps: u64,
        /// The tasks that were still runnable when it was reached.
        runnable: Vec<TaskRef>,
    },
    /// A task (or the main future) panicked.
    Panic {
        /// The task.
        task: TaskRef,
        /// The panic message.
        message: String,
        /// `file:line:column`, when detsim's panic hook saw it.
        location: Option<String>,
    },
    /// A waker of this run was invoked from another OS thread, which makes the run
    /// nondeterministic.
    ForeignWake {
        /// The task whose waker it was.
        task: TaskRef,
    },
    /// The scheduler returned an invalid choice or refused to continue (for example a replayed
    /// schedule that no longer fits the program).
    Scheduler {
        /// What it said.
        message: String,
    },
    /// The same schedule, run twice, did different things: the program reads something detsim
    /// does not control (a `HashMap`'s iteration order, the wall clock, a thread, a global).
    Nondeterminism {
        /// The first difference between the two runs.
        message: String,
    },
    /// The main task was cancelled (through `detsim::task::current()`), as `asyncio.run` raises
    /// `CancelledError` when its main task is cancelled.
    MainCancelled {
        /// The cancellation's message, if it had one.
        message: Option<String>,
    },
    /// Tasks ended unseen, and the run's settings make that a failure (see
    /// [`Builder::on_unobserved_panic`](crate::Builder::on_unobserved_panic) and
    /// [`Builder::on_pending_at_end`](crate::Builder::on_pending_at_end)).
    Unobserved {
        /// Each such task, in id order.
        tasks: Vec<UnobservedTask>,
    },
}

impl FailureKind {
    /// A short name for the kind: `deadlock`, `step limit`, `panic`, `foreign wake`, `scheduler`,
    /// `nondeterminism`, `main cancelled`, `unobserved task`.
    pub fn name(&self) -> &'static str {
        match self {
            FailureKind::Deadlock { .. } => "deadlock",
            FailureKind::StepLimit { .. } => "step limit",
            FailureKind::Panic { .. } => "panic",
            FailureKind::ForeignWake { .. } => "foreign wake",
            FailureKind::Scheduler { .. } => "scheduler",
            FailureKind::Nondeterminism { .. } => "nondeterminism",
            FailureKind::MainCancelled { .. } => "main cancelled",
            FailureKind::Unobserved { .. } => "unobserved task",
        }
    }
}

/// A failed run: what happened, and everything needed to reproduce it.
///
/// Its `Display` is the report a person reads top to bottom.
///
/// ```
/// let failure = detsim::Builder::new().seed(9).run(async {
///     let lock = std::rc::Rc::new(futures::lock::Mutex::new(()));
///     let _held = lock.lock().await;
///     let l2 = lock.clone();
///     detsim::spawn(async move { let _g = l2.lock().await; }).await.unwrap();
/// }).unwrap_err();
/// let report = failure.to_string();
/// assert!(report.contains("deadlock"), "{report}");
/// assert!(report.contains("seed: 9"), "{report}");
/// ```
#[derive(Clone, Debug)]
pub struct Failure {
    /// What went wrong.
    pub kind: FailureKind,
    /// The run's seed.
    pub seed: u64,
    /// The scheduler's name.
    pub scheduler: String,
    /// The decision log up to the failure.
    pub decisions: Vec<Decision>,
    /// Steps taken.
    pub steps: u64,
    /// Simulated time at the failure.
    pub time: Instant,
    /// The recorded events (empty unless recording was on; the tail, if it was a ring) with the
    /// task and resource tables that name them; see [`crate::trace`].
    pub trace: Trace,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_report(f, true)
    }
}

impl Failure {
    /// The report, with or without the seed: a run replayed from a schedule string involves no
    /// seed, so an exploration's report leaves it out there rather than show one that replays
    /// nothing.
    pub(crate) fn render(&self, show_seed: bool) -> String {
        struct Shown<'a>(&'a Failure, bool);
        impl fmt::Display for Shown<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.write_report(f, self.1)
            }
        }
        Shown(self, show_seed).to_string()
    }

    fn write_report(&self, f: &mut fmt::Formatter<'_>, show_seed: bool) -> fmt::Result {
        writeln!(
            f,
            "detsim: {} at step {}, simulated time {}",
            self.kind.name(),
            self.steps,
            self.time
        )?;
        match &self.kind {
            FailureKind::Deadlock { blocked } => {
                writeln!(
                    f,
                    "  no task can run and no timer is pending, but the main future has not finished"
                )?;
                for b in blocked {
                    writeln!(f, "    {b}")?;
                }
                if let Some(cycle) = wait_cycle(blocked) {
                    let names: Vec<String> = cycle.iter().map(|t| t.to_string()).collect();
                    writeln!(f, "  wait-for cycle: {}", names.join(" -> "))?;
                }
                self.explain_waits(f, blocked)?;
            }
            FailureKind::StepLimit {
                max_steps,
                runnable,
            } => {
                writeln!(
                    f,
                    "  the run exceeded {max_steps} steps: a livelock, or a task that never \
                     finishes (raise the limit with Builder::max_steps if the work is real)"
                )?;
                let rs: Vec<String> = runnable.iter().map(|t| t.to_string()).collect();
                writeln!(f, "  still runnable: {}", rs.join(", "))?;
            }
            FailureKind::Panic {
                task,
                message,
                location,
            } => {
                write!(f, "  {task} panicked")?;
                if let Some(l) = location {
                    write!(f, " at {l}")?;
                }
                writeln!(f, ":")?;
                for line in message.lines() {
                    writeln!(f, "    {line}")?;
                }
            }
            FailureKind::ForeignWake { task } => {
                writeln!(
                    f,
                    "  the waker of {task} was invoked from another OS thread; detsim runs every \
                     task on one thread, so the run would not be reproducible. Keep threads, \
                     thread pools and other runtimes' I/O out of code under test, or use detsim's \
                     primitives in their place"
                )?;
            }
            FailureKind::Scheduler { message } => writeln!(f, "  {message}")?,
            FailureKind::Nondeterminism { message } => {
                writeln!(
                    f,
                    "  the same schedule, run twice, did different things: the program depends on \
                     something detsim does not control (HashMap iteration order, the wall clock \
                     such as std::time::Instant, OS threads, global state left over from an \
                     earlier run, or tokio::select! from the real tokio crate, whose branch order \
                     is tokio's own random draw: build with detsim-tokio under --cfg detsim)"
                )?;
                for line in message.lines() {
                    writeln!(f, "    {line}")?;
                }
            }
            FailureKind::MainCancelled { message } => match message {
                Some(m) => writeln!(f, "  the main task was cancelled: {m}")?,
                None => writeln!(f, "  the main task was cancelled")?,
            },
            FailureKind::Unobserved { tasks } => {
                writeln!(
                    f,
                    "  tasks ended unseen (choose what this does with Builder::on_unobserved_panic \
                     and Builder::on_pending_at_end):"
                )?;
                for t in tasks {
                    writeln!(f, "    {t}")?;
                }
            }
        }
        if show_seed {
            writeln!(f, "  seed: {}   scheduler: {}", self.seed, self.scheduler)?;
        } else {
            writeln!(f, "  scheduler: {}", self.scheduler)?;
        }
        let shown: Vec<String> = self.decisions.iter().map(|d| d.to_string()).collect();
        writeln!(f, "  decisions ({}): {}", shown.len(), shown.join(" "))?;
        if !self.trace.events.is_empty() {
            writeln!(f, "  last {} events:", self.trace.events.len())?;
            for line in self.trace.render().lines() {
                writeln!(f, "    {line}")?;
            }
        }
        Ok(())
    }

    /// For a recorded deadlock: the events that made each blocked task wait (its last poll up to
    /// its block, after the other task's last operation on the resource it waits for).
    fn explain_waits(&self, f: &mut fmt::Formatter<'_>, blocked: &[BlockedTask]) -> fmt::Result {
        let mut header = false;
        for b in blocked {
            let why = self.trace.why_blocked(b.task.id);
            if why.is_empty() {
                continue;
            }
            if !header {
                writeln!(f, "  how each blocked task came to wait:")?;
                header = true;
            }
            writeln!(f, "    {}:", b.task)?;
            for line in self.trace.render_events(why).lines() {
                writeln!(f, "      {line}")?;
            }
        }
        Ok(())
    }
}

/// The first cycle of the wait-for graph (task -> the holders of what it waits for), in the
/// order of `blocked`, closed by repeating its first task; `None` if the waits form no cycle.
fn wait_cycle(blocked: &[BlockedTask]) -> Option<Vec<&TaskRef>> {
    let next = |t: &TaskRef| {
        blocked
            .iter()
            .find(|b| b.task.id == t.id)
            .and_then(|b| b.holders.first())
    };
    for start in blocked {
        let mut path: Vec<&TaskRef> = vec![&start.task];
        while let Some(n) = next(path[path.len() - 1]) {
            if let Some(i) = path.iter().position(|p| p.id == n.id) {
                let mut cycle = path.split_off(i);
                cycle.push(cycle[0]);
                return Some(cycle);
            }
            if path.len() > blocked.len() {
                break;
            }
            path.push(n);
        }
    }
    None
}

impl std::error::Error for Failure {}

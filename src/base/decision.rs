//! [`Decision`]: one entry of a run's decision log.

use std::fmt;

use super::TaskId;

/// One entry of a run's decision log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// A task choice among `runnable` tasks: the task at `index` in ready-queue order, `task`, ran.
    Task {
        /// The task that was chosen.
        task: TaskId,
        /// Its index in the runnable list (0 is the FIFO choice).
        index: u32,
        /// How many tasks were runnable.
        runnable: u32,
    },
    /// A random value handed to user code.
    Random(u64),
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Task {
                task,
                index,
                runnable,
            } => write!(f, "t{}({}/{})", task.as_u32(), index, runnable),
            Decision::Random(v) => write!(f, "r{v}"),
        }
    }
}

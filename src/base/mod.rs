//! The ground floor: the vocabulary every layer shares — task ids, simulated instants, decisions
//! and their schedule strings, events, the ready queue the scheduler chooses from, and why a task
//! produced no output.
//!
//! # Invariants
//!
//! * Nothing here imports any other module of the crate: every layer above (scheduler, runtime,
//!   trace, failure, task, time, sync, explore) may depend on this floor, and the layers run one
//!   way, from the top down.
//! * Nothing here reads the wall clock, an address or a hash order: these types are what decisions,
//!   traces and reports are made of, so they must be as deterministic as the run.
//!
//! The public items are re-exported where users look for them (`detsim::TaskId`,
//! `detsim::time::Instant`, `detsim::scheduler::Decision`, `detsim::explore::Schedule`,
//! `detsim::event`).

mod decision;
pub mod event;
pub(crate) mod holders;
mod instant;
pub(crate) mod ready;
mod schedule;
mod task;

pub use decision::Decision;
pub(crate) use holders::Holders;
pub use instant::Instant;
pub use ready::Runnable;
pub use schedule::{Schedule, ScheduleParseError};
pub use task::{JoinError, TaskId};

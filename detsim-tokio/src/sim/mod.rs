//! tokio's runtime-facing API on detsim: what the crate root re-exports under `--cfg detsim`.
//!
//! The module is compiled in every build (and usable directly, as `detsim_tokio::sim`), so that
//! programs can be run on real tokio and on the simulation side by side: the differential tests
//! do exactly that.
//!
//! # Invariants
//!
//! * Nothing here reads the wall clock or OS randomness: time is detsim's simulated clock, and the
//!   only choice made here (the branch order of an unbiased `select!`) is a decision drawn from
//!   detsim's scheduler.
//! * Every item keeps tokio's signature (or a looser one: no `Send` bound is required) and tokio's
//!   documented semantics; where detsim cannot honour one, the item's docs say so.
//! * Every function that needs a run panics outside one with a message naming the function.

pub mod runtime;
pub mod task;
pub mod time;

mod macros;
pub(crate) mod rt;
mod unsupported;

pub use macros::select_start;
pub use unsupported::{fs, net, process, signal};

/// tokio's own synchronisation primitives: they need no runtime and run on detsim unchanged.
#[cfg(feature = "sync")]
pub use tokio::sync;

/// tokio's own I/O traits and pure utilities (`io::duplex`, `AsyncReadExt`, … with `io-util`):
/// they need no reactor and run on detsim unchanged. Use `io::duplex` in place of sockets in
/// tests.
pub use tokio::io;

pub use task::spawn;

/// `#[tokio::test]` under detsim: the test body explored as [`detsim::check`] does.
///
/// Accepts tokio's arguments — `flavor = "current_thread" | "multi_thread" | "local"`,
/// `worker_threads = N`, `start_paused = true | false` — and `crate = "path"` for a renamed
/// dependency. Every flavour runs on detsim's one thread, and time is always simulated (as with
/// `start_paused = true`). The exploration honours every `DETSIM_*` variable
/// (`DETSIM_ITERATIONS`, `DETSIM_STRATEGY`, `DETSIM_SEED`, `DETSIM_SCHEDULE`, `DETSIM_JOBS`, …),
/// and a failure panics with detsim's report, whose replay lines name the test. A panic in a
/// spawned task is that task's `JoinError`, as in tokio; a panic (or an `Err`) in the test body
/// fails the schedule.
pub use detsim_macros::tokio_test as test;

/// `#[tokio::main]` under detsim: the body as one detsim run in asyncio's (FIFO) order, in
/// simulated time. A failure of the run (a panic, a deadlock) panics with detsim's report.
pub use detsim_macros::tokio_main as main;

/// `tokio::join!`: tokio's own macro (it needs no runtime).
pub use tokio::join;
/// `tokio::pin!`: tokio's own macro.
pub use tokio::pin;
/// `tokio::task_local!`: tokio's own macro (it needs no runtime).
pub use tokio::task_local;
/// `tokio::try_join!`: tokio's own macro (it needs no runtime).
pub use tokio::try_join;

/// `tokio::select!`, with the branch order of an unbiased `select!` drawn from detsim.
///
/// tokio polls the branches of a `select!` starting at a random branch, drawn from its own
/// OS-seeded generator on every poll. Here that start is a **decision** of detsim's scheduler
/// ([`detsim::random_below`]): recorded, explored, replayed exactly and shrunk towards 0, which
/// is declaration order — the order `biased;` gives. Everything else is tokio's expansion
/// unchanged: `biased;`, `if` preconditions, `else`, patterns that disable a branch when they do
/// not match, and the futures dropped before the handler runs.
///
/// ```
/// use detsim_tokio::sim::{select, time::{sleep, Duration}};
/// detsim::run(async {
///     let winner = select! {
///         _ = sleep(Duration::from_millis(20)) => "slow",
///         _ = sleep(Duration::from_millis(10)) => "fast",
///     };
///     assert_eq!(winner, "fast");
/// });
/// ```
#[doc(inline)]
pub use crate::__sim_select as select;

//! # detsim-tokio — a drop-in `tokio` that detsim can explore
//!
//! Depend on it under the name `tokio` and change no source:
//!
//! ```toml
//! [dependencies]
//! tokio = { package = "detsim-tokio", version = "0.1", features = ["full"] }
//!
//! [lints.rust]
//! unexpected_cfgs = { level = "warn", check-cfg = ['cfg(detsim)'] }
//! ```
//!
//! * **Built normally** it *is* tokio: every item is a re-export of the real crate, and its
//!   features (`full`, `rt`, `rt-multi-thread`, `macros`, `time`, `sync`, `test-util`,
//!   `io-util`, `net`, `fs`, …) are forwarded to it. Behaviour and cost are tokio's.
//! * **Built with `RUSTFLAGS="--cfg detsim"`** the runtime-facing API runs on detsim, with
//!   tokio's signatures and documented semantics, and every `#[tokio::test]` becomes a detsim
//!   exploration: run under many schedules, a failure reported with a seed and a shrunk schedule
//!   that replay it (`DETSIM_SEED=…`, `DETSIM_SCHEDULE=…`), honouring every `DETSIM_*` variable.
//!
//! ```sh
//! cargo test                                                         # real tokio
//! RUSTFLAGS="--cfg detsim" cargo test --target-dir target/detsim    # explored by detsim
//! ```
//!
//! (A separate target directory keeps the two builds from invalidating each other. The
//! `[lints.rust]` line above tells rustc that `cfg(detsim)` is expected.)
//!
//! ## What runs on detsim under `--cfg detsim`
//!
//! The items of [`sim`], re-exported at the crate root:
//!
//! * `task`: `spawn` (no `Send` needed), `JoinHandle`, `AbortHandle`, `JoinError`, `JoinSet`,
//!   `LocalSet`, `spawn_local`, `spawn_blocking` (the closure runs as one step of a simulated
//!   task), `yield_now`, `id`/`try_id`, `task_local!` (tokio's own, which needs no runtime).
//! * `time`: `sleep`, `sleep_until`, `Sleep`, `timeout`, `timeout_at`, `interval`, `interval_at`,
//!   `Interval`, `MissedTickBehavior`, a simulated `Instant`, `pause`/`resume`/`advance`, with
//!   tokio's rules (millisecond timer granularity, an interval's first tick at once, `timeout`
//!   polling its future before its deadline).
//! * macros: `select!` — when not `biased;`, its branch order is a **recorded decision** of
//!   detsim's scheduler (explored, replayed, shrunk towards declaration order); `join!`,
//!   `try_join!` and `pin!` are tokio's own; `#[tokio::test]` and `#[tokio::main]`.
//! * `runtime`: `Builder`, `Runtime`, `Handle`. A multi-thread runtime runs on detsim's one
//!   thread: every flavour and `worker_threads` value is accepted and means the same.
//! * `sync` and `io` are tokio's own: they need no reactor and already run on detsim.
//! * `net`, `fs`, `process` and `signal` are not simulated: their entry points fail with a
//!   message that names the API and suggests `tokio::io::duplex` for tests.
//!
//! ## What still leaks nondeterminism
//!
//! Nothing in this crate reads the wall clock or OS randomness. Code under test still can:
//! `std::time::Instant::now()` and `SystemTime` (use `tokio::time::Instant`), `HashMap`'s
//! `RandomState` iteration order, OS threads (`std::thread::spawn`, a waker sent to another thread
//! ends the run with a `ForeignWake` failure), and `tokio::select!` reached through the real
//! `tokio` crate rather than this one. detsim's determinism self-check replays every failure and
//! names the first event that differs when one of these leaks in.
//!
//! ## Differences from tokio under detsim
//!
//! * A panic in a spawned task becomes its `JoinError` (tokio's rule) and does not fail the
//!   schedule by itself; a panic in the test body does.
//! * The test body is itself a task (detsim's task 0), so `task::try_id()` inside it is `Some`,
//!   and it takes its turn in the ready queue like any task, where tokio polls a `block_on`
//!   future only when its run queue is empty. Exploration covers both orders (and more).
//! * Time is always simulated and always auto-advances when every task is idle (tokio's
//!   `start_paused = true`); `resume()` cannot bring back the wall clock and is a no-op.
//! * `Runtime::spawn` and `Handle::spawn` work inside `block_on` (the run); called before it,
//!   they panic with a message saying so. `LocalSet::spawn_local` likewise starts its task at
//!   once, inside the run.
//!
//! Not provided under `--cfg detsim` (a use is a compile error or, for tokio's own modules, tokio's
//! "no reactor running" panic): `Instant::from_std`/`into_std` (a simulated instant has no wall
//! clock counterpart), `task::unconstrained` and the coop budget, runtime metrics, `io::stdin` /
//! `stdout` (`io-std`, which needs tokio's blocking pool), and the parts of `net`, `fs`, `process`
//! and `signal` beyond their common entry points.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod sim;

#[cfg(not(detsim))]
pub use tokio::*;

#[cfg(all(detsim, feature = "sync"))]
pub use sim::sync;
#[cfg(detsim)]
pub use sim::{fs, net, process, signal};
#[cfg(detsim)]
pub use sim::{io, main, runtime, spawn, task, test, time};
#[cfg(detsim)]
pub use sim::{join, pin, select, task_local, try_join};

/// Items the macros expand to; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use detsim;
    pub use tokio as real;

    pub use crate::sim::rt::{main, test};
}

//! # detsim — deterministic testing of concurrent async code
//!
//! detsim runs async Rust on a **seeded, single-threaded executor with simulated time**, with
//! Python asyncio's concurrency model: tasks that start when the spawner yields, a FIFO ready
//! queue, cancellation that takes effect when the task would next run, and time that jumps to the
//! next deadline when nothing can run.
//!
//! Every choice the runtime makes — which runnable task to poll next, every random value handed to
//! user code — is a **decision** drawn from one [`Scheduler`](scheduler::Scheduler) and recorded in
//! the run's decision log. Under [`Fifo`](scheduler::Fifo) a run follows asyncio's order exactly;
//! under [`Random`](scheduler::Random) the seed picks one of the many legal orders; under
//! [`Replay`](scheduler::Replay) a recorded log reproduces a run exactly. Exploring many schedules,
//! shrinking a failing one, and fuzzing are all ways of producing that log.
//!
//! A run ends when the main future finishes. The runtime itself detects and reports, with the seed
//! and the decision log: a **deadlock** (nothing can run, no timer is pending, main has not
//! finished), a run over its **step limit**, a **panic** in any task, and a waker invoked from
//! **another OS thread**.
//!
//! ```
//! use std::{cell::RefCell, rc::Rc};
//! use detsim::{Builder, scheduler::Random, time::{sleep, now, Duration}};
//!
//! // Two tasks append to a shared log; the order depends on the schedule.
//! async fn program() -> (Vec<&'static str>, String) {
//!     let log = Rc::new(RefCell::new(Vec::new()));
//!     let (a, b) = (log.clone(), log.clone());
//!     let colour = detsim::task::Builder::new().name("colour").spawn(async move {
//!         a.borrow_mut().push("colour 1");
//!         detsim::yield_now().await;
//!         a.borrow_mut().push("colour 2");
//!     });
//!     let read = detsim::task::Builder::new().name("read").spawn(async move {
//!         b.borrow_mut().push("read 1");
//!         sleep(Duration::from_millis(500)).await;
//!         b.borrow_mut().push("read 2");
//!     });
//!     colour.await.unwrap();
//!     read.await.unwrap();
//!     (log.take(), now().to_string())
//! }
//!
//! // asyncio's order, and half a simulated second that costs nothing.
//! let (log, t) = detsim::run(program());
//! assert_eq!(log, ["colour 1", "read 1", "colour 2", "read 2"]);
//! assert_eq!(t, "0.5s");
//!
//! // A seeded random schedule: the same seed always gives the same run.
//! let run = |seed| Builder::new().seed(seed).scheduler(Random::new()).run(program()).unwrap();
//! assert_eq!(run(7), run(7));
//! ```
//!
//! ## Exploring schedules
//!
//! A test hands [`check`] a closure that builds the program; detsim runs it under many schedules
//! (a portfolio of random, PCT and uniform-walk strategies by default), stops at the first
//! failure, shrinks it, and panics with a report that holds the seed, the shrunk schedule and the
//! `DETSIM_SEED=…` / `DETSIM_SCHEDULE=…` lines that replay it:
//!
//! ```
//! use detsim::sync::Lock;
//! let found = detsim::Builder::new().ignore_env().explore(|| async {
//!     let (a, b) = (Lock::named("a"), Lock::named("b"));
//!     let (a2, b2) = (a.clone(), b.clone());
//!     let t = detsim::spawn(async move {
//!         let _x = a2.acquire().await;
//!         detsim::yield_now().await;
//!         let _y = b2.acquire().await;
//!     });
//!     let _y = b.acquire().await;
//!     detsim::yield_now().await;
//!     let _x = a.acquire().await; // ABBA: a deadlock under some schedules
//!     drop((_x, _y));
//!     t.await.unwrap();
//! }).unwrap_err();
//! assert!(found.to_string().contains(r#"waits for Lock "a""#));
//! ```
//!
//! ## What detsim can and cannot find
//!
//! detsim runs every task on one OS thread and switches tasks **only at `.await` points** where a
//! future returns `Pending`, as asyncio does. It explores the orders in which tasks resume there,
//! the random values user code draws, and (through its decisions) nothing else. So:
//!
//! * **It finds** races between awaits: a read, an `.await`, a write (a lost update); locks taken
//!   in opposite orders (deadlocks); an event cleared, a condition checked with `if`, a permit
//!   leaked on cancellation; timeouts that fire between two steps, in simulated time.
//! * **It cannot find** a race with no `.await` inside it. A check-then-act such as
//!   `if !map.contains_key(k) { map.insert(k, v) }` runs atomically here, because no other task
//!   can run until this one awaits. Under OS-thread parallelism (a multi-threaded tokio runtime,
//!   `std::thread`, atomics) two threads can interleave *inside* it; detsim never sees that. Use
//!   [loom](https://docs.rs/loom) (exhaustive, with the C11 memory model, for lock-free code and
//!   small thread protocols) or [shuttle](https://docs.rs/shuttle) (randomized, for larger
//!   threaded programs) for those.
//!
//! ```
//! use std::{cell::Cell, rc::Rc};
//! // Check-then-act without an await: atomic on detsim's one thread, so every schedule passes.
//! let summary = detsim::Builder::new().ignore_env().schedules(200).explore(|| async {
//!     let claimed = Rc::new(Cell::new(false));
//!     let winners = Rc::new(Cell::new(0));
//!     let hs: Vec<_> = (0..3).map(|_| {
//!         let (claimed, winners) = (claimed.clone(), winners.clone());
//!         detsim::spawn(async move {
//!             detsim::yield_now().await;
//!             if !claimed.get() { claimed.set(true); winners.set(winners.get() + 1); }
//!         })
//!     }).collect();
//!     for h in hs { h.await.unwrap(); }
//!     assert_eq!(winners.get(), 1);
//! });
//! assert!(summary.is_ok());
//! ```
//!
//! **What leaks determinism.** A schedule replays exactly only if every input of the program is
//! a detsim decision. These are not:
//!
//! * `std::time::Instant` / `SystemTime`: use [`detsim::time`](time) (simulated, and it moves only
//!   when nothing can run);
//! * `HashMap` / `HashSet` with the default `RandomState`, whose iteration order changes from run
//!   to run: use `BTreeMap`, or a fixed hasher;
//! * `rand::thread_rng()` and other outside randomness: use [`random_u64`] and friends, which
//!   are decisions;
//! * OS threads, thread pools, `spawn_blocking`, another runtime's I/O: a waker invoked from
//!   another thread fails the run with [`FailureKind::ForeignWake`];
//! * `tokio::select!` from the real tokio crate without `biased;`: it picks the branch to poll
//!   first with tokio's own random generator, not with detsim's (use detsim-tokio under
//!   `--cfg detsim`, whose `select!` makes that order a decision, or add `biased;`);
//! * global state (`static`s, thread-locals) that one run leaves behind for the next.
//!
//! **How detsim reports it.** Every failing schedule is replayed twice with recording on and the
//! event sequences compared: the report says `determinism: the failing schedule replayed twice
//! with identical events`, or `NOT deterministic` with the first event that differs between the
//! two runs. `DETSIM_CHECK_DETERMINISM=1` (or [`Builder::check_determinism`]) does the same for
//! every schedule, passing ones included, and fails with [`FailureKind::Nondeterminism`]:
//!
//! ```
//! use std::collections::HashMap;
//! let found = detsim::Builder::new().ignore_env().check_determinism(true).schedules(50).explore(|| async {
//!     // The default hasher: the first key differs between runs, and so does the work done.
//!     let map: HashMap<u32, ()> = (1..=8).map(|k| (k, ())).collect();
//!     let first = *map.keys().next().unwrap();
//!     for _ in 0..first { detsim::yield_now().await; }
//! }).unwrap_err();
//! assert!(matches!(found.failure.kind, detsim::FailureKind::Nondeterminism { .. }));
//! assert!(found.to_string().contains("NOT deterministic"));
//! ```
//!
//! ## Modules
//!
//! * [`task`]: spawning, names, [`JoinHandle`], cancellation, [`yield_now`].
//! * [`sync`]: Lock, Mutex, RwLock, Semaphore, BoundedSemaphore, Event, Condition, Queues,
//!   Barrier — asyncio's primitives on one fair waiter queue.
//! * [`explore`]: [`check`], strategies, schedule strings, shrinking, the `DETSIM_*` variables.
//! * [`time`]: simulated [`Instant`](time::Instant), `sleep`, `timeout`, `interval`.
//! * [`scheduler`]: the [`Scheduler`](scheduler::Scheduler) trait and its strategies.
//! * [`promise`]: [`Promise`](promise::Promise), asyncio's one-shot `Future`.
//! * [`combinators`]: [`gather()`], [`try_gather`], `wait`, `as_completed`, `shield`.
//! * [`event_loop`]: `call_soon`, `call_later`, `call_at` with cancellable handles.
//! * [`task_group`]: structured concurrency, asyncio's `TaskGroup`.
//! * [`event`]: the events a run records.
//! * [`trace`]: recorded events with names: text, filters, snapshots, logs, timelines.
//! * `proptest` (feature `proptest`): schedules as proptest values, shrunk with the test's inputs.
//! * [`Builder`], [`run`], [`Failure`]: starting runs and reading their failures.
//! * [`macro@test`]: `#[detsim::test] async fn name() { … }`, a test explored like [`check`].
//!
//! For code written against tokio, the `detsim-tokio` crate is a drop-in `tokio` that runs on
//! detsim under `RUSTFLAGS="--cfg detsim"`, its `#[tokio::test]`s explored the same way.

#![forbid(unsafe_code)]
#![deny(missing_docs)]
// A `Failure` is returned at most once per run, on the cold path; boxing it would only make the
// report's fields harder to reach.
#![allow(clippy::result_large_err)]

mod base;
pub mod combinators;
pub mod event_loop;
pub mod explore;
mod failure;
pub mod promise;
#[cfg(feature = "proptest")]
pub mod proptest;
mod random;
mod runtime;
pub mod scheduler;
pub mod sync;
pub mod task;
pub mod task_group;
pub mod time;
pub mod trace;

/// Re-exports used by detsim's macros; not part of the API.
#[doc(hidden)]
pub mod __private {
    #[cfg(feature = "snapshots")]
    pub use insta;

    /// What a test body may return: `()`, or a `Result` whose `Err` fails the test.
    pub trait TestOutput {
        /// Panics (failing the schedule) on an `Err`.
        fn check(self);
    }

    impl TestOutput for () {
        fn check(self) {}
    }

    impl<T, E: std::fmt::Debug> TestOutput for Result<T, E> {
        #[track_caller]
        fn check(self) {
            if let Err(e) = self {
                panic!("the test returned Err: {e:?}");
            }
        }
    }

    /// `#[detsim::test(strategy = "...")]`: the strategy, or a panic naming the argument.
    pub fn strategy_argument(s: &str) -> crate::explore::Strategy {
        s.parse().unwrap_or_else(|forms| {
            panic!("#[detsim::test(strategy = {s:?})]: not a strategy; write {forms}")
        })
    }
}

/// Explores an `async fn` test under many schedules: `#[detsim::test] async fn name() { … }` is a
/// `#[test]` whose body runs under [`check`], honouring every `DETSIM_*` variable.
///
/// Optional arguments set the exploration, as the [`Builder`] methods of the same names do:
/// `schedules = N`, `strategy = "portfolio|random|fifo|pct[:depth]|urw|dfs[:bound]|delays[:bound]"`,
/// `seed = N` (the base seed), `max_steps = N`, `jobs = N`; `crate = "path"` names detsim when the
/// dependency is renamed. A body that returns a `Result` fails the schedule on `Err`. A failure
/// panics with detsim's report, whose replay lines name this test.
///
/// ```
/// # mod wrap {
/// use std::{cell::Cell, rc::Rc};
///
/// #[detsim::test(schedules = 200, strategy = "pct:3")]
/// async fn counter_is_atomic_without_awaits() {
///     let n = Rc::new(Cell::new(0));
///     let hs: Vec<_> = (0..3)
///         .map(|_| {
///             let n = n.clone();
///             detsim::spawn(async move { n.set(n.get() + 1) })
///         })
///         .collect();
///     for h in hs {
///         h.await.unwrap();
///     }
///     assert_eq!(n.get(), 3);
/// }
///
/// #[detsim::test]
/// async fn returns_a_result() -> Result<(), String> {
///     detsim::yield_now().await;
///     Ok(())
/// }
/// # }
/// ```
///
/// A non-async function, an argument or generics on the function, or an unknown attribute argument
/// is a compile error that says what to write:
///
/// ```compile_fail
/// #[detsim::test]
/// fn not_async() {}
/// ```
///
/// ```compile_fail
/// #[detsim::test(iterations = 5)] // unknown: the budget is `schedules`
/// async fn t() {}
/// ```
pub use detsim_macros::test;

pub use base::event;
pub use combinators::{gather, try_gather};
pub use explore::check;
pub use failure::{BlockedTask, Failure, FailureKind, TaskRef, UnobservedTask, Unseen};
pub use random::{random_below, random_bool, random_u64};
pub use runtime::{Builder, OnUnseen, RunReport, run};
pub use task::{JoinError, JoinHandle, TaskId, spawn, yield_now};

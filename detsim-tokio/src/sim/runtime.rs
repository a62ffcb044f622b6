//! `tokio::runtime` on detsim: [`Builder`], [`Runtime`] and [`Handle`] for code that builds its
//! runtime by hand.
//!
//! A runtime is a recipe for one detsim run: [`Runtime::block_on`] runs its future as one run in
//! asyncio's (FIFO) order, in simulated time. Every flavour, including the multi-thread one, runs
//! on detsim's one thread: `worker_threads` and the other thread settings are accepted and have
//! no effect, and a program that needs two tasks to run truly in parallel (one blocking on the
//! other) deadlocks, which detsim reports.

use std::fmt;
use std::future::Future;
use std::io;

use crate::sim::task::{JoinHandle, in_run};

/// Configures a [`Runtime`]: tokio's `runtime::Builder`. Every setting is accepted; none changes
/// how detsim runs (one thread, simulated time).
#[derive(Debug)]
pub struct Builder {
    flavor: RuntimeFlavor,
}

/// The flavour a runtime was built as: tokio's `runtime::RuntimeFlavor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RuntimeFlavor {
    /// `new_current_thread`.
    CurrentThread,
    /// `new_multi_thread` (runs on detsim's one thread all the same).
    MultiThread,
}

impl Builder {
    /// A current-thread runtime.
    pub fn new_current_thread() -> Builder {
        Builder {
            flavor: RuntimeFlavor::CurrentThread,
        }
    }

    /// A multi-thread runtime; under detsim it runs on one thread.
    pub fn new_multi_thread() -> Builder {
        Builder {
            flavor: RuntimeFlavor::MultiThread,
        }
    }

    /// Enables the I/O and time drivers (time is always simulated).
    pub fn enable_all(&mut self) -> &mut Builder {
        self
    }

    /// Enables the time driver (time is always simulated).
    pub fn enable_time(&mut self) -> &mut Builder {
        self
    }

    /// Enables the I/O driver (`net` is not simulated; see the crate docs).
    pub fn enable_io(&mut self) -> &mut Builder {
        self
    }

    /// Starts with time paused: under detsim time is always simulated and auto-advancing.
    pub fn start_paused(&mut self, _paused: bool) -> &mut Builder {
        self
    }

    /// Accepted; detsim runs every task on one thread.
    pub fn worker_threads(&mut self, _n: usize) -> &mut Builder {
        self
    }

    /// Accepted; there are no blocking threads (`spawn_blocking` runs as a task step).
    pub fn max_blocking_threads(&mut self, _n: usize) -> &mut Builder {
        self
    }

    /// Accepted; detsim starts no threads.
    pub fn thread_name(&mut self, _name: impl Into<String>) -> &mut Builder {
        self
    }

    /// Accepted; detsim starts no threads.
    pub fn thread_stack_size(&mut self, _size: usize) -> &mut Builder {
        self
    }

    /// Accepted; detsim's scheduler, not a poll interval, decides the order.
    pub fn event_interval(&mut self, _n: u32) -> &mut Builder {
        self
    }

    /// Builds the runtime (never fails under detsim).
    pub fn build(&mut self) -> io::Result<Runtime> {
        Ok(Runtime {
            flavor: self.flavor,
        })
    }
}

/// A runtime: tokio's `Runtime`. [`Runtime::block_on`] is one detsim run.
///
/// ```
/// use detsim_tokio::sim::{runtime::Builder, time::{sleep, Duration, Instant}};
/// let rt = Builder::new_multi_thread().enable_all().build().unwrap();
/// let slept = rt.block_on(async {
///     let start = Instant::now();
///     let h = rt.spawn(sleep(Duration::from_secs(3600)));
///     h.await.unwrap();
///     start.elapsed()
/// });
/// assert_eq!(slept.as_secs(), 3600); // simulated: instant
/// ```
#[derive(Debug)]
pub struct Runtime {
    flavor: RuntimeFlavor,
}

impl Runtime {
    /// A runtime, as tokio's `Runtime::new` (multi-thread; under detsim, one thread).
    pub fn new() -> io::Result<Runtime> {
        Builder::new_multi_thread().build()
    }

    /// Runs `future` to completion as one detsim run (FIFO order, simulated time). A spawned
    /// task's panic becomes its `JoinError`, as in tokio.
    ///
    /// # Panics
    ///
    /// With detsim's report if the run fails (a panic in `future`, a deadlock…), and inside
    /// another run: runs do not nest.
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        crate::sim::rt::main(future)
    }

    /// Spawns a task on the run in progress.
    ///
    /// # Panics
    ///
    /// Outside `block_on`: under detsim a task exists only inside a run.
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        in_run("tokio::runtime::Runtime::spawn (under detsim, spawn inside block_on)");
        crate::sim::task::spawn(future)
    }

    /// tokio's `spawn_blocking`; see [`crate::sim::task::spawn_blocking`].
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + 'static,
        R: 'static,
    {
        crate::sim::task::spawn_blocking(f)
    }

    /// A handle to this runtime.
    pub fn handle(&self) -> Handle {
        Handle {
            flavor: self.flavor,
        }
    }
}

/// A handle to the runtime: tokio's `runtime::Handle`.
#[derive(Clone, Debug)]
pub struct Handle {
    flavor: RuntimeFlavor,
}

/// Returned by [`Handle::try_current`] outside a run.
#[derive(Debug)]
pub struct TryCurrentError(());

impl fmt::Display for TryCurrentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "there is no reactor running, must be called from the context of a Tokio 1.x runtime",
        )
    }
}

impl std::error::Error for TryCurrentError {}

impl Handle {
    /// The handle of the run in progress.
    ///
    /// # Panics
    ///
    /// Outside a detsim run.
    #[track_caller]
    pub fn current() -> Handle {
        in_run("tokio::runtime::Handle::current");
        Handle {
            flavor: RuntimeFlavor::CurrentThread,
        }
    }

    /// The handle of the run in progress, or an error outside one.
    pub fn try_current() -> Result<Handle, TryCurrentError> {
        match detsim::time::try_now() {
            Some(_) => Ok(Handle {
                flavor: RuntimeFlavor::CurrentThread,
            }),
            None => Err(TryCurrentError(())),
        }
    }

    /// Spawns a task on the run in progress; see [`Runtime::spawn`].
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        in_run("tokio::runtime::Handle::spawn (under detsim, spawn inside block_on)");
        crate::sim::task::spawn(future)
    }

    /// Runs `future` as one detsim run; see [`Runtime::block_on`].
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        crate::sim::rt::main(future)
    }

    /// The flavour the runtime was built as.
    pub fn runtime_flavor(&self) -> RuntimeFlavor {
        self.flavor
    }
}

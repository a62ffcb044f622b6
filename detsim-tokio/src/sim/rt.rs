//! What `#[tokio::test]` and `#[tokio::main]` expand to under detsim.

use std::future::Future;

/// Explores a `#[tokio::test]` body: [`detsim::check`] with tokio's panic rule (a spawned task's
/// panic is its `JoinError`), honouring every `DETSIM_*` variable.
pub fn test<F, Fut>(make: F)
where
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = ()>,
{
    detsim::Builder::new().fail_on_task_panic(false).check(make);
}

/// Runs a `#[tokio::main]` body (or `Runtime::block_on`) as one detsim run, FIFO order.
///
/// # Panics
///
/// With detsim's report if the run fails, and inside another detsim run (tokio: "Cannot start a
/// runtime from within a runtime").
pub fn main<F: Future>(fut: F) -> F::Output {
    if detsim::time::try_now().is_some() {
        panic!(
            "Cannot start a runtime from within a runtime. This happens because a function \
             (like `block_on`) attempted to block the current thread while the thread is being \
             used to drive asynchronous tasks (detsim-tokio: runs do not nest)."
        );
    }
    match detsim::Builder::new().fail_on_task_panic(false).run(fut) {
        Ok(v) => v,
        Err(failure) => panic!("{failure}"),
    }
}

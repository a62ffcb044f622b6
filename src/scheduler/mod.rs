//! The decision point: which runnable task runs next, and every random value user code draws.
//!
//! Every choice the runtime makes goes through one [`Scheduler`]. The runtime asks it
//!
//! * [`Scheduler::choose_task`] at every step where **two or more** tasks are runnable (with one
//!   runnable task there is nothing to decide and nothing is recorded), and
//! * [`Scheduler::next_u64`] whenever user code draws a random value ([`crate::random_u64`] and
//!   friends),
//!
//! and records each answer as a [`Decision`] in the run's decision log. Replay, shrinking, PCT,
//! exhaustive search, proptest and fuzzing are all producers or consumers of that log; none of them
//! needs anything from the runtime beyond this trait.
//!
//! # Strategies
//!
//! * [`Fifo`]: asyncio's order. [`Replay`]: a recorded decision log.
//! * [`Choices`]: a plain sequence of numbers (proptest, shrinking). [`FuzzBytes`]: a fuzzer's
//!   bytes. Both are total: any input is a valid schedule.
//! * [`Random`]: uniform among the runnable tasks at every choice.
//! * [`Pct`]: random priorities with `depth − 1` change points (probabilistic guarantees for bugs
//!   of small depth).
//! * [`Urw`]: a random walk weighted by estimated remaining steps (near-uniform interleavings).
//! * [`Dfs`]: every schedule within a preemption or delay bound, exactly once.
//! * [`Portfolio`]: the default mix — the seed picks Random, Pct of depth 2 or 3, or Urw.
//!
//! The learning strategies (Pct without a pinned step estimate, Urw, Dfs) carry state from one
//! run to the next: their decisions depend on the seed *and* the runs this value made before.
//!
//! # Invariants
//!
//! * The runnable slice handed to [`Scheduler::choose_task`] is in **ready-queue order**: index 0 is
//!   what asyncio would run next. A scheduler that always answers 0 *is* [`Fifo`]; shrinking pushes
//!   choices towards 0.
//! * A scheduler sees only task ids (spawn order), step numbers and simulated time: never addresses,
//!   wall-clock time or hash order. Its answers depend only on its own state and the seed handed to
//!   [`Scheduler::begin_run`].
//! * Ties between timers with equal deadlines are not a separate decision: the woken tasks become
//!   runnable together and the next task choice orders them.
//! * An answer out of range, or a refusal ([`ScheduleError`]), ends the run with a clear
//!   [`FailureKind::Scheduler`](crate::FailureKind::Scheduler) failure; it never panics inside the
//!   runtime.

mod bytes;
mod choices;
mod dfs;
mod fifo;
mod pct;
mod portfolio;
mod random;
mod replay;
mod urw;

pub use crate::base::{Decision, Runnable};
pub use bytes::FuzzBytes;
pub use choices::Choices;
pub use dfs::{BoundKind, Dfs};
pub use fifo::Fifo;
pub use pct::Pct;
pub use portfolio::Portfolio;
pub use random::Random;
pub use replay::Replay;
pub use urw::Urw;

use std::fmt;

use crate::base::Instant;
use crate::base::TaskId;

/// What the runtime tells a [`Scheduler`] when it must choose the next task.
#[derive(Debug)]
pub struct TaskChoice<'a> {
    /// The runnable tasks in ready-queue (FIFO) order; always at least two.
    pub runnable: Runnable<'a>,
    /// The number of the step about to run (the first step of a run is 1).
    pub step: u64,
    /// The task that ran in the previous step, if any. It is in `runnable` when it yielded or was
    /// woken again during its own step; choosing another task then is a *preemption* in the sense
    /// of CHESS-style bounded search.
    pub previous: Option<TaskId>,
    /// The current simulated time.
    pub now: Instant,
}

/// A scheduler's refusal to answer: a replayed schedule that no longer fits the program, an
/// exhausted input, or any other reason the run cannot continue under this scheduler.
///
/// The runtime ends the run with [`FailureKind::Scheduler`](crate::FailureKind::Scheduler)
/// carrying this message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleError {
    message: String,
}

impl ScheduleError {
    /// A refusal with a message that tells the user what went wrong and what to do.
    ///
    /// ```
    /// let e = detsim::scheduler::ScheduleError::new("schedule exhausted");
    /// assert_eq!(e.to_string(), "schedule exhausted");
    /// ```
    pub fn new(message: impl Into<String>) -> Self {
        ScheduleError {
            message: message.into(),
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScheduleError {}

/// The source of every decision a run makes.
///
/// Implement it to drive detsim from a new source of choices (a search strategy, fuzzer bytes,
/// proptest values). One scheduler value may serve many runs in a row: the runtime calls
/// [`begin_run`](Scheduler::begin_run) before each and [`end_run`](Scheduler::end_run) after.
///
/// ```
/// use detsim::scheduler::{Scheduler, ScheduleError, TaskChoice};
///
/// /// Always runs the most recently queued task (LIFO).
/// struct Lifo;
///
/// impl Scheduler for Lifo {
///     fn name(&self) -> String { "Lifo".into() }
///     fn choose_task(&mut self, c: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
///         Ok(c.runnable.len() - 1)
///     }
///     fn next_u64(&mut self) -> Result<u64, ScheduleError> { Ok(4) }
/// }
///
/// let order = detsim::Builder::new().scheduler(Lifo).run(async {
///     let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
///     let hs: Vec<_> = (0..3).map(|i| {
///         let log = log.clone();
///         detsim::spawn(async move { log.borrow_mut().push(i) })
///     }).collect();
///     for h in hs { h.await.unwrap(); }
///     log.take()
/// }).unwrap();
/// assert_eq!(order, vec![2, 1, 0]);
/// ```
pub trait Scheduler {
    /// A short name for reports, e.g. `Random` or `Pct { depth: 3 }`.
    fn name(&self) -> String;

    /// Called before each run with the run's seed. Seeded schedulers reset their generator here,
    /// so that the seed alone determines the run.
    fn begin_run(&mut self, seed: u64) {
        let _ = seed;
    }

    /// Chooses the next task to poll: an index into `choice.runnable` (which holds at least two
    /// tasks, in ready-queue order; index 0 is the FIFO choice).
    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError>;

    /// Produces a random value for user code.
    fn next_u64(&mut self) -> Result<u64, ScheduleError>;

    /// Called after each run with its decision log and whether it failed.
    fn end_run(&mut self, decisions: &[Decision], failed: bool) {
        let _ = (decisions, failed);
    }

    /// How many decisions of a fixed log the run that just ended never asked for (a replay of a
    /// schedule recorded from a different program). The run fails with a divergence when this is
    /// not 0 after its main future finished. Defaults to 0: a scheduler that makes decisions up
    /// has none left over.
    fn unused_decisions(&self) -> usize {
        0
    }

    /// Whether the scheduler has no new schedule left to offer (an exhaustive search that has
    /// covered its space). An exploration stops when this turns `true`. Defaults to `false`.
    fn exhausted(&self) -> bool {
        false
    }

    /// A copy of this scheduler in its current (learned) state, so that each schedule of an
    /// exploration can run on its own copy: its run then depends only on its seed, which makes
    /// `DETSIM_SEED` replay exact and parallel jobs find what one thread finds. `None` (the
    /// default) for a scheduler whose runs depend on the order of earlier runs by design, such as
    /// an exhaustive search; explorations run those sequentially on one instance.
    ///
    /// A fork that learns nothing more (its [`learns`](Scheduler::learns) is `false`, as for
    /// detsim's `Pct` and `Urw`, whose forks keep the estimates they were forked with) is reused
    /// for the next schedule, since [`begin_run`](Scheduler::begin_run) resets it to the same
    /// state; a fork that still learns is used for one schedule only.
    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        None
    }

    /// Whether the scheduler learns from earlier runs (through [`end_run`](Scheduler::end_run) or
    /// its own bookkeeping). An exploration warms a learning, forkable scheduler up before
    /// forking its schedules from it. Defaults to `false`.
    fn learns(&self) -> bool {
        false
    }

    /// What the scheduler has covered, for the end-of-exploration summary (an exhaustive search
    /// says which bound it completed). Defaults to `None`.
    fn coverage(&self) -> Option<String> {
        None
    }
}

impl<S: Scheduler + ?Sized> Scheduler for Box<S> {
    fn name(&self) -> String {
        (**self).name()
    }
    fn begin_run(&mut self, seed: u64) {
        (**self).begin_run(seed)
    }
    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        (**self).choose_task(choice)
    }
    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        (**self).next_u64()
    }
    fn end_run(&mut self, decisions: &[Decision], failed: bool) {
        (**self).end_run(decisions, failed)
    }
    fn unused_decisions(&self) -> usize {
        (**self).unused_decisions()
    }
    fn exhausted(&self) -> bool {
        (**self).exhausted()
    }
    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        (**self).fork()
    }
    fn coverage(&self) -> Option<String> {
        (**self).coverage()
    }
    fn learns(&self) -> bool {
        (**self).learns()
    }
}

/// Maps a raw 64-bit value uniformly onto `0..n` (`n > 0`) by multiply-shift.
///
/// This mapping is detsim's own, so a new version of `rand` can never change what a seed means.
///
/// ```
/// assert_eq!(detsim::scheduler::index_below(0, 3), 0);
/// assert_eq!(detsim::scheduler::index_below(u64::MAX, 3), 2);
/// ```
pub fn index_below(raw: u64, n: u64) -> u64 {
    assert!(n > 0, "index_below: n must be positive");
    ((raw as u128 * n as u128) >> 64) as u64
}

/// A ChaCha8 generator seeded from a `u64` by detsim's own expansion (SplitMix64), so that the
/// meaning of a seed depends on no other crate's seeding code.
pub(crate) fn chacha_from_seed(seed: u64) -> rand_chacha::ChaCha8Rng {
    use rand_chacha::rand_core::SeedableRng;
    let mut state = seed;
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        chunk.copy_from_slice(&z.to_le_bytes());
    }
    rand_chacha::ChaCha8Rng::from_seed(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::Rng;

    #[test]
    fn index_below_covers_range() {
        for n in 1..20u64 {
            assert_eq!(index_below(0, n), 0);
            assert_eq!(index_below(u64::MAX, n), n - 1);
        }
    }

    #[test]
    fn seed_expansion_is_pinned() {
        // If this changes, every recorded seed changes meaning: never update it casually.
        let mut r = chacha_from_seed(0);
        let first = r.next_u64();
        let mut r2 = chacha_from_seed(0);
        assert_eq!(first, r2.next_u64());
        assert_ne!(first, chacha_from_seed(1).next_u64());
    }
}

//! proptest integration (feature `proptest`): generate schedules as proptest values, so that one
//! `proptest!` test shrinks its inputs *and* the interleaving together.
//!
//! [`schedule`] is a [`Strategy`] of [`Interleaving`]s: choice sequences run by the total
//! [`Choices`] scheduler (a task choice takes the number as an index into the runnable tasks in
//! FIFO order, clamped; a random draw takes it as the value; past the end every choice is 0, which
//! is asyncio's FIFO order). Most generated choices are 0 — a few preemptions find most bugs —
//! and proptest shrinks the sequence towards shorter and smaller, which is towards FIFO: the
//! shrunk interleaving has few preemptions left, each one needed for the failure.
//!
//! [`run`] runs one program under an interleaving and turns a detsim failure (a panic in any
//! task, a deadlock, the step limit) into a [`TestCaseError`] whose message is detsim's report
//! plus the `ds1.` schedule string of the failing run.
//!
//! ```
//! use std::{cell::Cell, rc::Rc};
//! use proptest::prelude::*;
//!
//! proptest! {
//!     // A correct counter: no await between read and write. Every interleaving passes.
//!     // (In a test file, put `#[test]` on the function.)
//!     fn counter_is_exact(n in 1usize..4, s in detsim::proptest::schedule()) {
//!         let total = detsim::proptest::run(&s, async move {
//!             let c = Rc::new(Cell::new(0));
//!             let hs: Vec<_> = (0..n).map(|_| {
//!                 let c = c.clone();
//!                 detsim::spawn(async move {
//!                     detsim::yield_now().await;
//!                     c.set(c.get() + 1);
//!                 })
//!             }).collect();
//!             for h in hs { h.await.unwrap(); }
//!             c.get()
//!         })?;
//!         prop_assert_eq!(total, n);
//!     }
//! }
//! # counter_is_exact();
//! ```
//!
//! # Replaying a failure
//!
//! proptest persists the seed of a failing case in its regressions file
//! (`proptest-regressions/<test file>.txt`, or `<test file>.proptest-regressions` for integration
//! tests); commit it, and every later run replays that case — inputs and interleaving — before
//! any new one. The `ds1.` string in the failure message replays the same interleaving in a
//! [`check`](crate::check)-based test through `DETSIM_SCHEDULE`, or in code through
//! [`Builder::replay_schedule`](crate::Builder::replay_schedule). See
//! `examples/proptest_bounded_buffer.rs` for a bug found, shrunk and printed.

use std::fmt;
use std::future::Future;

use ::proptest::prelude::*;
use ::proptest::test_runner::TestCaseError;

use crate::explore::Schedule;
use crate::runtime::Builder;
use crate::scheduler::Choices;
use crate::{Failure, RunReport};

/// How many decisions [`schedule`] generates at most.
pub const DEFAULT_DECISIONS: usize = 64;

/// A schedule as proptest generates and shrinks it: a choice sequence for [`Choices`].
///
/// Its `Debug` form (what proptest prints for a failing case) is the sequence with trailing
/// zeros left out.
///
/// ```
/// let s = detsim::proptest::Interleaving::new(vec![0, 2, 0, 0]);
/// assert_eq!(format!("{s:?}"), "Interleaving[0, 2]");
/// assert_eq!(s.choices(), [0, 2, 0, 0]);
/// ```
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Interleaving {
    choices: Vec<u64>,
}

impl Interleaving {
    /// The interleaving that follows `choices`.
    pub fn new(choices: Vec<u64>) -> Interleaving {
        Interleaving { choices }
    }

    /// The choice sequence.
    pub fn choices(&self) -> &[u64] {
        &self.choices
    }

    /// A scheduler that follows it, for a [`Builder`] of your own (seed, step limit, panic
    /// policy, recording).
    ///
    /// ```
    /// let s = detsim::proptest::Interleaving::new(vec![1]);
    /// let out = detsim::Builder::new().scheduler(s.scheduler()).max_steps(100).run(async {
    ///     let a = detsim::spawn(async { 'a' });
    ///     let b = detsim::spawn(async { 'b' });
    ///     (a.await.unwrap(), b.await.unwrap())
    /// });
    /// assert_eq!(out.unwrap(), ('a', 'b'));
    /// ```
    pub fn scheduler(&self) -> Choices {
        Choices::new(self.choices.clone())
    }

    /// How many choices are not 0 (not asyncio's choice, for a task choice).
    pub fn preemptions(&self) -> usize {
        self.choices.iter().filter(|c| **c != 0).count()
    }
}

impl fmt::Debug for Interleaving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self
            .choices
            .iter()
            .rposition(|c| *c != 0)
            .map_or(0, |i| i + 1);
        write!(f, "Interleaving{:?}", &self.choices[..end])
    }
}

/// A strategy of [`Interleaving`]s of up to [`DEFAULT_DECISIONS`] choices; see
/// [`schedule_up_to`].
pub fn schedule() -> impl Strategy<Value = Interleaving> {
    schedule_up_to(DEFAULT_DECISIONS)
}

/// A strategy of [`Interleaving`]s of up to `max_decisions` choices (decisions past them are
/// FIFO). About two choices in three are 0 (asyncio's choice), most others small indices, a few
/// any `u64` (random values for user code); it shrinks towards shorter sequences of smaller
/// numbers, that is towards FIFO.
///
/// ```
/// use proptest::strategy::{Strategy, ValueTree};
/// let mut runner = proptest::test_runner::TestRunner::deterministic();
/// let s = detsim::proptest::schedule_up_to(8).new_tree(&mut runner).unwrap().current();
/// assert!(s.choices().len() <= 8);
/// ```
pub fn schedule_up_to(max_decisions: usize) -> impl Strategy<Value = Interleaving> {
    let choice = prop_oneof![
        8 => Just(0u64),
        3 => 1u64..4,
        1 => any::<u64>(),
    ];
    ::proptest::collection::vec(choice, 0..=max_decisions).prop_map(Interleaving::new)
}

/// Runs `main` under `schedule` (seed 0, detsim's default step limit, task panics failing the
/// run) and returns its output, or a [`TestCaseError`] with detsim's failure report and the
/// `ds1.` schedule string of the failing run.
///
/// ```
/// use detsim::proptest::{Interleaving, run};
/// // A lost update: read, yield, write back.
/// let body = || async {
///     let n = std::rc::Rc::new(std::cell::Cell::new(0));
///     let hs: Vec<_> = (0..2).map(|_| {
///         let n = n.clone();
///         detsim::spawn(async move {
///             let v = n.get();
///             detsim::yield_now().await;
///             n.set(v + 1);
///         })
///     }).collect();
///     for h in hs { h.await.unwrap(); }
///     assert_eq!(n.get(), 2, "lost update");
/// };
/// // FIFO interleaves the two tasks at their yields: the update is already lost.
/// let err = run(&Interleaving::default(), body()).unwrap_err().to_string();
/// assert!(err.contains("lost update") && err.contains("schedule: ds1."), "{err}");
/// // Choice 1 at the second decision runs the first task again before the second one reads.
/// assert!(run(&Interleaving::new(vec![0, 1]), body()).is_ok());
/// ```
pub fn run<Fut: Future>(schedule: &Interleaving, main: Fut) -> Result<Fut::Output, TestCaseError> {
    report_to_result(
        Builder::new()
            .scheduler(schedule.scheduler())
            .record_last(30)
            .run_report(main),
    )
}

/// Turns a run's report into what a proptest body returns: the output, or a [`TestCaseError`]
/// carrying the failure report and the `ds1.` schedule string. Use it with a [`Builder`] of your
/// own and [`Interleaving::scheduler`].
pub fn report_to_result<T>(report: RunReport<T>) -> Result<T, TestCaseError> {
    report.output.map_err(|f| TestCaseError::fail(describe(&f)))
}

fn describe(failure: &Failure) -> String {
    let schedule = Schedule::from_decisions(&failure.decisions);
    format!(
        "{failure}\n  schedule: {schedule} (replays the interleaving: DETSIM_SCHEDULE={schedule} \
         for a detsim::check test, or Builder::replay_schedule)"
    )
}

//! `Portfolio`: the default exploration strategy, a seed-indexed mix of the others.
//!
//! # Invariants
//!
//! * Seed `s` runs member `s % members` (with seed `s`), so consecutive seeds cycle through the
//!   members. Which member runs depends on the seed alone; what it does depends on the seed and
//!   that member's own history (only the member that ran sees a run's
//!   [`end_run`](Scheduler::end_run)).

use super::{Decision, Pct, Random, ScheduleError, Scheduler, TaskChoice, Urw};

/// A mix of strategies with different strengths, chosen per run by the seed: the default for
/// explorations, so that a fixed budget of seeds has a good chance against every bug shape.
///
/// [`Portfolio::new`] cycles through [`Random`], [`Pct`] of depth 2, [`Pct`] of depth 3 and
/// [`Urw`]: seed `s` runs member `s % 4`. A naive random walk catches bugs that need one or two
/// unlucky switches anywhere; PCT the ones that need a task to run long uninterrupted, or a
/// switch at one specific point; URW the ones hidden by unequal step counts. Each member keeps its
/// own history (PCT's step estimate, URW's step counts), learnt from the runs it made.
///
/// [`name`](Scheduler::name) tells which member made the latest run, e.g.
/// `Portfolio/Pct { depth: 3 }`, so a failure report says which strategy found it; a failure
/// replays from its decision log like any other.
///
/// # Finds well / badly
///
/// Each bug shape gets about a quarter of the budget of its best member: a bug that one member
/// finds in `n` runs takes the portfolio about `4n`. Nothing here is exhaustive; use
/// [`Dfs`](super::Dfs) to show that no schedule within a bound fails.
///
/// ```
/// use detsim::{Builder, scheduler::{Portfolio, Scheduler}};
/// let total = |seed| Builder::new().seed(seed).scheduler(Portfolio::new()).run(async {
///     let hs: Vec<_> = (0..3u64).map(|i| detsim::spawn(async move { i })).collect();
///     let mut sum = 0;
///     for h in hs { sum += h.await.unwrap(); }
///     sum
/// }).unwrap();
/// assert_eq!(total(2), 3);
/// let mut p = Portfolio::new();
/// p.begin_run(2);
/// assert_eq!(p.name(), "Portfolio/Pct { depth: 3 }");
/// ```
pub struct Portfolio {
    members: Vec<Box<dyn Scheduler>>,
    current: Option<usize>,
}

impl std::fmt::Debug for Portfolio {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.members.iter().map(|m| m.name()).collect();
        f.debug_struct("Portfolio")
            .field("members", &names)
            .field("current", &self.current)
            .finish()
    }
}

impl Portfolio {
    /// Random, Pct { depth: 2 }, Pct { depth: 3 }, Urw.
    pub fn new() -> Self {
        Portfolio::with_members(vec![
            Box::new(Random::new()),
            Box::new(Pct::new(2)),
            Box::new(Pct::new(3)),
            Box::new(Urw::new()),
        ])
    }

    /// A portfolio of `members`: seed `s` runs `members[s % members.len()]`.
    ///
    /// # Panics
    ///
    /// If `members` is empty.
    pub fn with_members(members: Vec<Box<dyn Scheduler>>) -> Self {
        assert!(
            !members.is_empty(),
            "Portfolio::with_members: a portfolio needs at least one member scheduler"
        );
        Portfolio {
            members,
            current: None,
        }
    }

    /// The member a run with `seed` uses.
    pub fn member_for(&self, seed: u64) -> usize {
        (seed % self.members.len() as u64) as usize
    }

    fn member(&mut self) -> Result<&mut Box<dyn Scheduler>, ScheduleError> {
        match self.current {
            Some(i) => Ok(&mut self.members[i]),
            None => Err(ScheduleError::new(
                "Portfolio: asked for a decision before begin_run chose a member",
            )),
        }
    }
}

impl Default for Portfolio {
    fn default() -> Self {
        Portfolio::new()
    }
}

impl Scheduler for Portfolio {
    fn learns(&self) -> bool {
        self.members.iter().any(|m| m.learns())
    }

    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        let members: Option<Vec<_>> = self.members.iter().map(|m| m.fork()).collect();
        let mut copy = Portfolio::with_members(members?);
        copy.current = self.current;
        Some(Box::new(copy))
    }

    fn name(&self) -> String {
        match self.current {
            Some(i) => format!("Portfolio/{}", self.members[i].name()),
            None => "Portfolio".into(),
        }
    }

    fn begin_run(&mut self, seed: u64) {
        let i = self.member_for(seed);
        self.current = Some(i);
        self.members[i].begin_run(seed);
    }

    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        self.member()?.choose_task(choice)
    }

    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        self.member()?.next_u64()
    }

    fn end_run(&mut self, decisions: &[Decision], failed: bool) {
        if let Ok(m) = self.member() {
            m.end_run(decisions, failed);
        }
    }

    fn exhausted(&self) -> bool {
        self.members.iter().all(|m| m.exhausted())
    }
}

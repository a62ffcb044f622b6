//! `Dfs`: bounded exhaustive search over the decision tree, by increasing preemption (or delay)
//! bound.
//!
//! # Algorithm
//!
//! Iterative context bounding as in CHESS (Musuvathi and Qadeer, "Iterative context bounding for
//! systematic testing of multithreaded programs", PLDI 2007), stateless: every run replays a
//! *prefix* of task choices and then continues depth-first. Each branch has a cost (see
//! [`BoundKind`]). A work item of bound `b` is a prefix of cost exactly `b`; below it the search
//! takes only cost-0 branches, depth first, one run per leaf, and every branch of cost `c > 0` it
//! passes becomes a work item of bound `b + c` (dropped if that exceeds the maximum bound). All
//! items of bound `b` are done before any of bound `b + 1`, so when bound `b` completes every
//! schedule of cost `≤ b` has run exactly once — no schedule is run twice.
//!
//! # Invariants
//!
//! * Deterministic: the order of runs depends only on the program's answers (which tasks are
//!   runnable), never on seeds, hash order, addresses or the wall clock. The seed is ignored.
//! * The program must be deterministic given the decisions: a replayed prefix that asks for a
//!   task that is not runnable ends the run with a [`ScheduleError`] naming the place.
//! * Random values for user code are always 0 (the value shrinking also tends to): `Dfs` explores
//!   schedules, not data.

use std::collections::VecDeque;
use std::fmt::Write as _;

use super::{Decision, ScheduleError, Scheduler, TaskChoice};
use crate::base::TaskId;

/// What a [`Dfs`] bound counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BoundKind {
    /// Preemptions: a choice of a task other than [`TaskChoice::previous`] while `previous` is
    /// still runnable costs 1; every other choice is free.
    ///
    /// In this runtime a task is still runnable after its step only when it *yielded*
    /// (`yield_now`, `sleep(ZERO)`, or woke itself): every step is one poll, and a poll that
    /// blocks leaves the task not runnable. So, unlike CHESS, switching away from a yielding task
    /// **counts** as a preemption — await points are the only places a switch can happen at
    /// all, and if switches at yields were free every schedule would cost 0. Switches after a
    /// task blocks or finishes are free, as in CHESS. The cost-0 schedules are thus "every task
    /// runs until it blocks", with every order of the blocked-point choices.
    ///
    /// Caveat: a task that spins on a yield (`while !flag { yield_now().await }`) is continued
    /// for free, so with a low bound such a run spins until the step limit. Use
    /// [`BoundKind::Delays`] for such programs.
    Preemptions,
    /// Delays (Emmi, Qadeer and Rakamarić, "Delay-bounded scheduling", POPL 2011) relative to
    /// asyncio's FIFO order: choosing the task at index `i` of the ready queue costs `i`. Bound 0
    /// is exactly the [`Fifo`](super::Fifo) run; every bound is fair, so yield-spinning programs
    /// terminate. Suits event-driven code, where "asyncio's order plus a few deviations" is the
    /// natural neighbourhood to search.
    Delays,
}

/// A node of the current depth-first path (below the work item's prefix).
#[derive(Debug)]
struct Node {
    chosen: TaskId,
    /// Cost-0 alternatives not yet explored, last to explore first.
    untried: Vec<TaskId>,
}

/// Bounded exhaustive search: every schedule within a preemption (or delay) bound, bound 0 first,
/// then 1, 2, … up to a maximum, each schedule exactly once.
///
/// Each run replays the current prefix and then takes the first untried branch;
/// [`end_run`](Scheduler::end_run) backtracks, and [`exhausted`](Scheduler::exhausted) turns
/// `true` when every schedule within the maximum bound (default 2) has run, or when
/// [`max_schedules`](Dfs::max_schedules) runs have been made. See [`BoundKind`] for what a bound
/// counts and the module docs for the algorithm. The seed is ignored; random values for user code
/// are always 0.
///
/// The exploration driver holds a `Dfs` as `Box<dyn Scheduler>`; to read the outcome, keep a typed
/// handle and call [`summary`](Dfs::summary), [`schedules_explored`](Dfs::schedules_explored),
/// [`completed_bound`](Dfs::completed_bound) and [`space_covered`](Dfs::space_covered).
///
/// # Finds well / badly
///
/// * Well: bugs that need few preemptions in small programs (most real concurrency bugs need
///   ≤ 2); and it *proves* their absence within the bound ("all 412 schedules within 2
///   preemptions explored, no failure"), which no random strategy can.
/// * Badly: long programs (the number of schedules within bound `b` grows like `steps^b`, and
///   like the product of choices at blocking points even at bound 0), bugs needing a deep bound,
///   and bugs that depend on random values (always 0 here). Tree prefixes are kept in memory:
///   memory grows with the number of pending schedules.
///
/// ```
/// use detsim::{Builder, scheduler::{Dfs, Scheduler}};
///
/// // Two tasks, each: step, yield, step. Explore every schedule within 1 preemption.
/// let mut dfs = Box::new(Dfs::new().max_preemptions(1)) as Box<dyn Scheduler>;
/// let mut runs = 0;
/// while !dfs.exhausted() {
///     let (out, back) = run(dfs);
///     dfs = back;
///     runs += 1;
///     assert!(out);
/// }
/// assert_eq!(runs, 7);
///
/// // A tiny driver: one run under `s`, handing the scheduler back.
/// fn run(s: Box<dyn Scheduler>) -> (bool, Box<dyn Scheduler>) {
///     let shared = std::rc::Rc::new(std::cell::RefCell::new(s));
///     let r = Builder::new().scheduler(Handle(shared.clone())).run(async {
///         let a = detsim::spawn(async { detsim::yield_now().await });
///         let b = detsim::spawn(async { detsim::yield_now().await });
///         a.await.unwrap();
///         b.await.unwrap();
///     });
///     let s = std::rc::Rc::try_unwrap(shared).ok().unwrap().into_inner();
///     (r.is_ok(), s)
/// }
/// struct Handle(std::rc::Rc<std::cell::RefCell<Box<dyn Scheduler>>>);
/// impl Scheduler for Handle {
///     fn name(&self) -> String { self.0.borrow().name() }
///     fn begin_run(&mut self, seed: u64) { self.0.borrow_mut().begin_run(seed) }
///     fn choose_task(&mut self, c: &detsim::scheduler::TaskChoice<'_>)
///         -> Result<usize, detsim::scheduler::ScheduleError> { self.0.borrow_mut().choose_task(c) }
///     fn next_u64(&mut self) -> Result<u64, detsim::scheduler::ScheduleError> {
///         self.0.borrow_mut().next_u64()
///     }
///     fn end_run(&mut self, d: &[detsim::scheduler::Decision], failed: bool) {
///         self.0.borrow_mut().end_run(d, failed)
///     }
/// }
/// ```
#[derive(Debug)]
pub struct Dfs {
    kind: BoundKind,
    max_bound: u32,
    max_schedules: Option<u64>,
    /// Pending work items (prefixes) by bound.
    buckets: Vec<VecDeque<Vec<TaskId>>>,
    bound: u32,
    prefix: Vec<TaskId>,
    stack: Vec<Node>,
    pos: usize,
    explored: u64,
    per_bound: Vec<u64>,
    failures: u64,
    first_failure_bound: Option<u32>,
    completed: Option<u32>,
    finished: bool,
    pruned: bool,
}

impl Dfs {
    /// Preemption bounding, bounds 0, 1, 2, no limit on the number of schedules.
    pub fn new() -> Self {
        Dfs {
            kind: BoundKind::Preemptions,
            max_bound: 2,
            max_schedules: None,
            buckets: Vec::new(),
            bound: 0,
            prefix: Vec::new(),
            stack: Vec::new(),
            pos: 0,
            explored: 0,
            per_bound: Vec::new(),
            failures: 0,
            first_failure_bound: None,
            completed: None,
            finished: false,
            pruned: false,
        }
    }

    /// Preemption bounding up to `n` preemptions ([`BoundKind::Preemptions`]).
    pub fn max_preemptions(mut self, n: u32) -> Self {
        self.kind = BoundKind::Preemptions;
        self.max_bound = n;
        self
    }

    /// Delay bounding up to `n` delays ([`BoundKind::Delays`]).
    pub fn max_delays(mut self, n: u32) -> Self {
        self.kind = BoundKind::Delays;
        self.max_bound = n;
        self
    }

    /// Stops after `n` runs (the search is then [`exhausted`](Scheduler::exhausted) without
    /// having covered its bound).
    pub fn max_schedules(mut self, n: u64) -> Self {
        self.max_schedules = Some(n);
        self
    }

    /// What the bound counts.
    pub fn bound_kind(&self) -> BoundKind {
        self.kind
    }

    /// The maximum bound.
    pub fn max_bound(&self) -> u32 {
        self.max_bound
    }

    /// Runs made so far (each a distinct schedule).
    pub fn schedules_explored(&self) -> u64 {
        self.explored
    }

    /// Runs made so far whose schedule costs exactly `b`.
    pub fn schedules_at_bound(&self, b: u32) -> u64 {
        self.per_bound.get(b as usize).copied().unwrap_or(0)
    }

    /// The bound of the schedules being explored now (the cost of the next run).
    pub fn current_bound(&self) -> u32 {
        self.bound
    }

    /// The largest `b` such that every schedule of cost `≤ b` has run, if bound 0 is complete.
    pub fn completed_bound(&self) -> Option<u32> {
        self.completed
    }

    /// Whether the search ran every schedule of the program: it finished and never dropped a
    /// branch for exceeding the maximum bound.
    pub fn space_covered(&self) -> bool {
        self.finished && !self.pruned
    }

    /// Runs that failed so far.
    pub fn failures(&self) -> u64 {
        self.failures
    }

    /// The bound of the first failing run, if any.
    pub fn first_failure_bound(&self) -> Option<u32> {
        self.first_failure_bound
    }

    /// A one-paragraph account for reports, e.g. `Dfs (preemption bound): all 7 schedules within
    /// 1 preemption explored (bound 0: 3, bound 1: 4), no failure`.
    pub fn summary(&self) -> String {
        let unit = match self.kind {
            BoundKind::Preemptions => "preemption",
            BoundKind::Delays => "delay",
        };
        let plural = |n: u32| if n == 1 { "" } else { "s" };
        let mut s = format!("Dfs ({unit} bound): ");
        let within: u64 = match self.completed {
            Some(b) => (0..=b.min(self.per_bound.len() as u32))
                .map(|i| self.schedules_at_bound(i))
                .sum(),
            None => 0,
        };
        if self.space_covered() {
            let _ = write!(
                s,
                "all {} schedules of the program explored (the whole schedule space)",
                self.explored
            );
        } else if let Some(b) = self.completed {
            let _ = write!(
                s,
                "all {within} schedules within {b} {unit}{} explored",
                plural(b)
            );
            if self.explored > within {
                let _ = write!(
                    s,
                    ", plus {} of bound {}",
                    self.explored - within,
                    self.bound
                );
            }
        } else {
            let _ = write!(
                s,
                "{} schedules explored; bound 0 not yet complete",
                self.explored
            );
        }
        let per: Vec<String> = self
            .per_bound
            .iter()
            .enumerate()
            .map(|(b, n)| format!("bound {b}: {n}"))
            .collect();
        if !per.is_empty() {
            let _ = write!(s, " ({})", per.join(", "));
        }
        if !self.finished && self.exhausted() {
            let _ = write!(s, "; stopped at the limit of {} schedules", self.explored);
        }
        match (self.failures, self.first_failure_bound) {
            (0, _) => s.push_str(", no failure"),
            (n, Some(b)) => {
                let _ = write!(s, ", {n} failed (first at bound {b})");
            }
            (n, None) => {
                let _ = write!(s, ", {n} failed");
            }
        }
        s
    }

    /// Takes the next work item, moving to the next bound when this one is done.
    fn advance(&mut self) {
        self.stack.clear();
        self.prefix.clear();
        loop {
            let b = self.bound as usize;
            if let Some(p) = self.buckets.get_mut(b).and_then(|q| q.pop_front()) {
                self.prefix = p;
                return;
            }
            if self.buckets.iter().skip(b + 1).all(|q| q.is_empty()) {
                self.completed = Some(self.max_bound);
                self.finished = true;
                return;
            }
            self.completed = Some(self.bound);
            self.bound += 1;
        }
    }

    fn enqueue(&mut self, cost: u32, branch: TaskId) {
        let b = self.bound.saturating_add(cost);
        if b > self.max_bound || cost == 0 {
            self.pruned |= cost > 0;
            return;
        }
        let mut item = Vec::with_capacity(self.prefix.len() + self.stack.len() + 1);
        item.extend_from_slice(&self.prefix);
        item.extend(self.stack.iter().map(|n| n.chosen));
        item.push(branch);
        let b = b as usize;
        if self.buckets.len() <= b {
            self.buckets.resize_with(b + 1, VecDeque::new);
        }
        self.buckets[b].push_back(item);
    }
}

impl Default for Dfs {
    fn default() -> Self {
        Dfs::new()
    }
}

fn find(choice: &TaskChoice<'_>, t: TaskId, at: usize) -> Result<usize, ScheduleError> {
    choice.runnable.iter().position(|r| *r == t).ok_or_else(|| {
        let list: Vec<String> = choice.runnable.iter().map(|t| t.to_string()).collect();
        ScheduleError::new(format!(
            "Dfs: the program is not deterministic: at task choice {at} (step {}) the explored \
             schedule expects task {t}, which is not runnable (runnable: {}). Exhaustive search \
             needs a program whose behaviour depends only on detsim's decisions: no wall clock, \
             no thread_rng, no state kept between runs",
            choice.step,
            list.join(", ")
        ))
    })
}

impl Scheduler for Dfs {
    fn coverage(&self) -> Option<String> {
        Some(self.summary())
    }

    fn name(&self) -> String {
        match self.kind {
            BoundKind::Preemptions => format!("Dfs {{ max_preemptions: {} }}", self.max_bound),
            BoundKind::Delays => format!("Dfs {{ max_delays: {} }}", self.max_bound),
        }
    }

    fn begin_run(&mut self, _seed: u64) {
        self.pos = 0;
    }

    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        let at = self.pos;
        self.pos += 1;
        if at < self.prefix.len() {
            return find(choice, self.prefix[at], at);
        }
        let depth = at - self.prefix.len();
        if depth < self.stack.len() {
            return find(choice, self.stack[depth].chosen, at);
        }
        let runnable = choice.runnable;
        if self.finished {
            return Ok(0);
        }
        let prev = choice.previous.filter(|p| runnable.contains(p));
        let (default, untried) = match (self.kind, prev) {
            (BoundKind::Preemptions, Some(p)) => {
                for t in runnable.iter().filter(|t| **t != p) {
                    self.enqueue(1, *t);
                }
                (p, Vec::new())
            }
            (BoundKind::Preemptions, None) => {
                let mut rest: Vec<TaskId> = runnable.iter().skip(1).copied().collect();
                rest.reverse();
                (runnable[0], rest)
            }
            (BoundKind::Delays, _) => {
                for (i, t) in runnable.iter().enumerate().skip(1) {
                    self.enqueue(u32::try_from(i).unwrap_or(u32::MAX), *t);
                }
                (runnable[0], Vec::new())
            }
        };
        self.stack.push(Node {
            chosen: default,
            untried,
        });
        find(choice, default, at)
    }

    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        Ok(0)
    }

    fn end_run(&mut self, _decisions: &[Decision], failed: bool) {
        if self.finished {
            return;
        }
        self.explored += 1;
        let b = self.bound as usize;
        if self.per_bound.len() <= b {
            self.per_bound.resize(b + 1, 0);
        }
        self.per_bound[b] += 1;
        if failed {
            self.failures += 1;
            self.first_failure_bound.get_or_insert(self.bound);
        }
        // A run that stopped early (a failure) only visited part of the path.
        let visited = self.pos.saturating_sub(self.prefix.len());
        self.stack.truncate(visited);
        while let Some(top) = self.stack.last_mut() {
            if let Some(next) = top.untried.pop() {
                top.chosen = next;
                return;
            }
            self.stack.pop();
        }
        self.advance();
    }

    fn exhausted(&self) -> bool {
        self.finished || self.max_schedules.is_some_and(|m| self.explored >= m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: u32) -> TaskId {
        TaskId::from_u32(n)
    }

    fn choose(d: &mut Dfs, runnable: &[TaskId], previous: Option<TaskId>) -> TaskId {
        let i = d
            .choose_task(&TaskChoice {
                runnable: runnable.into(),
                step: 1,
                previous,
                now: crate::base::Instant::ZERO,
            })
            .unwrap();
        runnable[i]
    }

    /// One choice among three tasks, nobody previous: three schedules, all at bound 0.
    #[test]
    fn free_choices_are_bound_zero() {
        let mut d = Dfs::new();
        let mut seen = Vec::new();
        while !d.exhausted() {
            d.begin_run(0);
            seen.push(choose(&mut d, &[t(1), t(2), t(3)], None));
            d.end_run(&[], false);
        }
        assert_eq!(seen, [t(1), t(2), t(3)]);
        assert_eq!(d.schedules_at_bound(0), 3);
        assert!(d.space_covered());
    }

    /// One choice where task 1 yielded: continuing it is free, switching costs a preemption.
    #[test]
    fn switching_away_from_a_yielder_is_a_preemption() {
        let mut d = Dfs::new().max_preemptions(1);
        let mut seen = Vec::new();
        while !d.exhausted() {
            d.begin_run(0);
            seen.push(choose(&mut d, &[t(2), t(1)], Some(t(1))));
            d.end_run(&[], false);
        }
        assert_eq!(seen, [t(1), t(2)]);
        assert_eq!((d.schedules_at_bound(0), d.schedules_at_bound(1)), (1, 1));

        let mut d = Dfs::new().max_preemptions(0);
        d.begin_run(0);
        choose(&mut d, &[t(2), t(1)], Some(t(1)));
        d.end_run(&[], false);
        assert!(d.exhausted());
        assert!(!d.space_covered());
        assert_eq!(d.completed_bound(), Some(0));
    }

    #[test]
    fn delays_cost_the_ready_queue_index() {
        let mut d = Dfs::new().max_delays(1);
        let mut seen = Vec::new();
        while !d.exhausted() {
            d.begin_run(0);
            seen.push(choose(&mut d, &[t(1), t(2), t(3)], None));
            d.end_run(&[], false);
        }
        assert_eq!(seen, [t(1), t(2)]);
        assert!(!d.space_covered());
    }

    #[test]
    fn nondeterminism_is_reported() {
        let mut d = Dfs::new();
        d.begin_run(0);
        choose(&mut d, &[t(1), t(2)], None);
        d.end_run(&[], false);
        d.begin_run(0);
        let e = d
            .choose_task(&TaskChoice {
                runnable: (&[t(1), t(3)][..]).into(),
                step: 4,
                previous: None,
                now: crate::base::Instant::ZERO,
            })
            .unwrap_err();
        assert!(e.message().contains("not deterministic"), "{e}");
        assert!(e.message().contains("expects task 2"), "{e}");
    }
}

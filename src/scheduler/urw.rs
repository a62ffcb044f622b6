//! `Urw`: selectively uniform random walk, weighting each task by its estimated remaining steps.
//!
//! # Invariants
//!
//! * A run's choices depend only on its seed and on the step estimates, which are learnt from the
//!   decision logs of earlier runs of this scheduler value: same seed + same history = same run.
//!   Before any run has finished every weight is 1 and `Urw` is exactly a uniform random walk.
//! * Tasks are identified across runs by [`TaskId`] (spawn order). State lives in vectors indexed
//!   by task id; nothing depends on hash order, addresses or the wall clock.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;

use super::{Decision, ScheduleError, Scheduler, TaskChoice, chacha_from_seed, index_below};
use crate::base::TaskId;

/// Selectively uniform random walk (URW), after Zhao, Wolff, Mathur and Roychoudhury,
/// ["Selectively Uniform Concurrency Testing"][urw] (ASPLOS 2025), as in shuttle 0.9.
///
/// A naive random walk picks uniformly among the runnable tasks, which strongly favours
/// interleavings where a short task finishes early: with a task of 20 steps and one of 1 step,
/// the 1-step task runs last with probability 2⁻²⁰. URW instead picks a task with probability
/// proportional to the number of steps it has left, which samples the interleavings of the tasks'
/// steps *uniformly* (the 1-step task runs last with probability 1/21) when the counts are exact.
///
/// The counts are estimates learnt from earlier runs: a task's own count is the largest number of
/// steps attributed to it in any earlier run — the task choices it won, plus the steps that ran
/// without a choice (one runnable task) just before a choice whose
/// [`previous`](super::TaskChoice::previous) it was; steps after a run's last choice are not
/// seen — and its *event count* adds the event counts of the
/// tasks it spawns (a child is attributed to the task that ran just before the child was first
/// seen runnable). When a child appears, its event count moves from the parent to the child. The
/// first run, with no estimates, is a uniform random walk. A task's count never drops below 1
/// while it is runnable.
///
/// Tasks are matched across runs by [`TaskId`] (spawn order). Shuttle matches them by a spawn
/// *signature* (spawn site and parent), which stays stable when schedule-dependent spawning
/// reorders ids; the [`Scheduler`] trait gives only ids, so programs whose spawn order depends on
/// the schedule get rougher estimates (still a valid random walk, just less uniform).
///
/// # Finds well / badly
///
/// * Well: bugs that need a *short* task to run late relative to a *long* one, or any bug whose
///   interleaving is rare under a naive walk only because step counts are unequal (e.g. a
///   one-step reader observing a writer's state in the middle of a long sequence). Also a good
///   general-purpose sampler for lost updates and ABBA orders.
/// * Badly: bugs needing a long *run* of one task without interruption (a priority scheduler,
///   [`Pct`](super::Pct), reaches those far more often); programs whose step counts vary a lot
///   from run to run (the estimates are then poor).
///
/// [urw]: https://dl.acm.org/doi/abs/10.1145/3669940.3707214
///
/// ```
/// use detsim::{Builder, scheduler::Urw};
/// let out = |seed| Builder::new().seed(seed).scheduler(Urw::new()).run(async {
///     let a = detsim::spawn(async { for _ in 0..3 { detsim::yield_now().await } 'a' });
///     let b = detsim::spawn(async { 'b' });
///     (a.await.unwrap(), b.await.unwrap())
/// }).unwrap();
/// assert_eq!(out(1), ('a', 'b'));
/// ```
#[derive(Clone, Debug)]
pub struct Urw {
    rng: ChaCha8Rng,
    /// Per task id: the most task choices it won in any earlier run.
    own: Vec<u64>,
    /// Per task id: the task that spawned it, as first inferred.
    parent: Vec<Option<TaskId>>,
    /// Per task id: own count plus the event counts of its children (fixed for a run).
    events: Vec<u64>,
    /// Per task id, this run: remaining events, once the task has been seen.
    remaining: Vec<Option<u64>>,
    /// Parents inferred in this run.
    run_parent: Vec<Option<TaskId>>,
    /// Per task id, this run: steps attributed to it (choices won plus unchosen steps it ran).
    run_steps: Vec<u64>,
    /// The step of the latest task choice in this run.
    last_step: u64,
    /// A fork: it keeps the estimates it was forked with and learns nothing more, so one fork
    /// can run schedule after schedule (see [`Scheduler::fork`]).
    frozen: bool,
}

impl Urw {
    /// A URW scheduler with no estimates yet.
    pub fn new() -> Self {
        Urw {
            rng: chacha_from_seed(0),
            own: Vec::new(),
            parent: Vec::new(),
            events: Vec::new(),
            remaining: Vec::new(),
            run_parent: Vec::new(),
            run_steps: Vec::new(),
            last_step: 0,
            frozen: false,
        }
    }

    /// The estimated event count of task `t` (its steps plus those of the tasks it spawns), as the
    /// next run will use it; 1 for a task never seen.
    pub fn estimate(&self, t: TaskId) -> u64 {
        self.events.get(t.as_u32() as usize).copied().unwrap_or(1)
    }

    fn recompute_events(&mut self) {
        let n = self.own.len().max(self.parent.len());
        self.events = (0..n)
            .map(|i| self.own.get(i).copied().unwrap_or(0).max(1))
            .collect();
        // A parent's id is always below its child's, so one pass from the highest id down adds
        // grandchildren before children are added to their parents.
        for i in (0..n).rev() {
            if let Some(Some(p)) = self.parent.get(i) {
                let add = self.events[i];
                let p = p.as_u32() as usize;
                self.events[p] = self.events[p].saturating_add(add);
            }
        }
    }

    fn add_steps(&mut self, t: TaskId, n: u64) {
        let i = t.as_u32() as usize;
        if self.run_steps.len() <= i {
            self.run_steps.resize(i + 1, 0);
        }
        self.run_steps[i] += n;
    }

    /// Registers `t` the first time this run sees it; returns its slot.
    fn see(&mut self, t: TaskId, previous: Option<TaskId>) -> usize {
        let i = t.as_u32() as usize;
        if self.remaining.len() <= i {
            self.remaining.resize(i + 1, None);
            self.run_parent.resize(i + 1, None);
        }
        if self.remaining[i].is_none() {
            let ev = self.estimate(t).max(1);
            self.remaining[i] = Some(ev);
            let parent = previous.filter(|p| *p < t);
            self.run_parent[i] = parent;
            if let Some(p) = parent {
                if let Some(Some(r)) = self.remaining.get_mut(p.as_u32() as usize) {
                    *r = r.saturating_sub(ev).max(1);
                }
            }
        }
        i
    }
}

impl Default for Urw {
    fn default() -> Self {
        Urw::new()
    }
}

impl Scheduler for Urw {
    fn learns(&self) -> bool {
        !self.frozen
    }

    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        Some(Box::new(Urw {
            frozen: true,
            ..self.clone()
        }))
    }

    fn name(&self) -> String {
        "Urw".into()
    }

    fn begin_run(&mut self, seed: u64) {
        self.rng = chacha_from_seed(seed);
        self.remaining.clear();
        self.run_parent.clear();
        self.run_steps.clear();
        self.last_step = 0;
        self.recompute_events();
    }

    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        // Steps since the previous choice ran without one (a single runnable task): count them for
        // the task that ran just before this choice, usually the one that kept running alone.
        let gap = choice.step.saturating_sub(self.last_step + 1);
        if let (Some(p), true) = (choice.previous, self.last_step > 0) {
            self.add_steps(p, gap);
        }
        self.last_step = choice.step;
        let mut total: u64 = 0;
        let mut weights = Vec::with_capacity(choice.runnable.len());
        for t in choice.runnable {
            let i = self.see(*t, choice.previous);
            let w = self.remaining[i].unwrap_or(1).max(1);
            weights.push(w);
            total = total.saturating_add(w);
        }
        let mut r = index_below(self.rng.next_u64(), total);
        let mut pick = weights.len() - 1;
        for (k, w) in weights.iter().enumerate() {
            if r < *w {
                pick = k;
                break;
            }
            r -= w;
        }
        self.add_steps(choice.runnable[pick], 1);
        let slot = choice.runnable[pick].as_u32() as usize;
        if let Some(rem) = self.remaining[slot].as_mut() {
            *rem = rem.saturating_sub(1).max(1);
        }
        Ok(pick)
    }

    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        Ok(self.rng.next_u64())
    }

    fn end_run(&mut self, decisions: &[Decision], _failed: bool) {
        if self.frozen {
            return;
        }
        // The choices each task won (from the log), or more if it was also seen running alone.
        let mut won: Vec<u64> = Vec::new();
        for d in decisions {
            if let Decision::Task { task, .. } = d {
                let i = task.as_u32() as usize;
                if won.len() <= i {
                    won.resize(i + 1, 0);
                }
                won[i] += 1;
            }
        }
        if won.len() < self.run_steps.len() {
            won.resize(self.run_steps.len(), 0);
        }
        for (w, s) in won.iter_mut().zip(&self.run_steps) {
            *w = (*w).max(*s);
        }
        if self.own.len() < won.len() {
            self.own.resize(won.len(), 0);
        }
        for (i, w) in won.into_iter().enumerate() {
            self.own[i] = self.own[i].max(w);
        }
        if self.parent.len() < self.run_parent.len() {
            self.parent.resize(self.run_parent.len(), None);
        }
        for (i, p) in self.run_parent.iter().enumerate() {
            if self.parent[i].is_none() {
                self.parent[i] = *p;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(n: u32) -> TaskId {
        TaskId::from_u32(n)
    }

    fn won(task: u32) -> Decision {
        Decision::Task {
            task: t(task),
            index: 0,
            runnable: 2,
        }
    }

    fn choice(runnable: &[TaskId], previous: Option<TaskId>) -> TaskChoice<'_> {
        TaskChoice {
            runnable: runnable.into(),
            step: 1,
            previous,
            now: crate::base::Instant::ZERO,
        }
    }

    #[test]
    fn estimates_include_children() {
        let mut u = Urw::new();
        u.begin_run(0);
        // Task 1 seen after main (0) ran: main is its parent; task 2 seen after task 1 ran.
        u.choose_task(&choice(&[t(0), t(1)], Some(t(0)))).unwrap();
        u.choose_task(&choice(&[t(1), t(2)], Some(t(1)))).unwrap();
        u.end_run(&[won(1), won(1), won(1), won(2), won(0)], false);
        u.begin_run(1);
        assert_eq!(u.estimate(t(2)), 1);
        assert_eq!(u.estimate(t(1)), 4);
        assert_eq!(u.estimate(t(0)), 5);
        assert_eq!(u.estimate(t(9)), 1);
    }

    #[test]
    fn weights_follow_remaining_steps() {
        // Task 1 is estimated at 9 steps, task 2 at 1: task 1 should win about 90% of first picks.
        let mut u = Urw::new();
        let mut log = vec![won(1); 9];
        log.push(won(2));
        u.end_run(&log, false);
        let runnable = [t(1), t(2)];
        let mut ones = 0;
        for seed in 0..1000 {
            u.begin_run(seed);
            let i = u.choose_task(&choice(&runnable, None)).unwrap();
            ones += usize::from(i == 0);
        }
        assert!(
            (850..950).contains(&ones),
            "task 1 chosen {ones} times of 1000"
        );
    }
}

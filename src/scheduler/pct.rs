//! `Pct`: probabilistic concurrency testing (random priorities plus a few priority change points).
//!
//! # Invariants
//!
//! * A run's choices depend only on the run's seed, the configured depth and the step estimate
//!   `k`. `k` is either pinned ([`Pct::with_steps`]) or the largest number of task choices any
//!   earlier run of this value made, so without a pin a seed's schedule also depends on the runs
//!   that came before it in the same exploration (its *history*). Same seed + same history = same
//!   schedule.
//! * Priorities are compared as `(band, key, task id)`; nothing depends on addresses, hash order
//!   or the wall clock.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;

use super::{
    Decision, Runnable, ScheduleError, Scheduler, TaskChoice, chacha_from_seed, index_below,
};
use crate::base::TaskId;

/// The step estimate used before any run has finished (when `k` is not pinned).
const DEFAULT_STEPS: u64 = 32;

/// PCT, the randomized priority scheduler of Burckhardt, Kothari, Musuvathi and Nagarakatte,
/// ["A randomized scheduler with probabilistic guarantees of finding bugs"][pct] (ASPLOS 2010).
///
/// Every task gets a random priority the first time the scheduler sees it runnable (a uniformly
/// random key, so the tasks seen so far are in uniformly random priority order, however many
/// appear later). `depth − 1` *change points* are drawn uniformly among the first `k` task
/// choices of the run; at the `i`-th one the task about to run drops to priority `depth − i`,
/// below every task that was never lowered. At every choice the highest-priority runnable task
/// runs.
///
/// A bug of *depth* `d` (one that needs `d` ordering constraints to hold, for example "B runs
/// between A's read and A's write" is depth 2) is found by a single run with probability at least
/// `1 / (n · k^(d−1))` for `n` tasks and `k` steps, independently of how long the program is
/// in between.
///
/// # The step estimate `k`
///
/// `k` counts task choices (the steps with two or more runnable tasks, which are the decisions the
/// log records). Unless pinned with [`Pct::with_steps`], `k` is the largest number of task
/// choices an earlier run of this scheduler value made (32 before the first run ends). So the
/// schedule of a seed depends on the runs before it in the same exploration; to make a seed replay
/// on its own, pin `k` — or replay the failing run's decision log with
/// [`Replay`](super::Replay), which needs nothing from PCT.
///
/// # Finds well / badly
///
/// * Well: ordering bugs that need a few specific constraints in a long run — a task that must
///   run completely before (or after) all others (depth 1), a switch at one particular yield
///   (depth 2: lost updates, check-then-act across an `await`), two such switches (depth 3).
///   The guarantee does not weaken with the number of unimportant steps in between.
/// * Badly: bugs that need many switches (depth > 3 or so), and programs where a yielding task
///   is waiting for another to make progress (`while !flag { yield_now().await }`): the spinner
///   keeps the highest priority until a change point lowers it, so such a run may spin until the
///   step limit. Random values for user code are plain ChaCha8 draws; PCT gives them no special
///   treatment.
///
/// [pct]: https://www.microsoft.com/en-us/research/publication/a-randomized-scheduler-with-probabilistic-guarantees-of-finding-bugs/
///
/// ```
/// use detsim::{Builder, scheduler::Pct};
/// use std::{cell::Cell, rc::Rc};
///
/// // A lost update: read, yield, write back, in two tasks without a lock.
/// let lost_update = |seed| Builder::new().seed(seed).scheduler(Pct::new(2).with_steps(8)).run(async {
///     let n = Rc::new(Cell::new(0));
///     let hs: Vec<_> = (0..2).map(|_| {
///         let n = n.clone();
///         detsim::spawn(async move {
///             let v = n.get();
///             detsim::yield_now().await;
///             n.set(v + 1);
///         })
///     }).collect();
///     for h in hs { h.await.unwrap(); }
///     n.get()
/// }).unwrap();
/// assert!((0..50).any(|seed| lost_update(seed) == 1)); // some seed loses an update
/// assert_eq!(lost_update(3), lost_update(3)); // with k pinned, a seed replays alone
/// ```
#[derive(Clone, Debug)]
pub struct Pct {
    depth: u32,
    pinned_steps: Option<u64>,
    max_seen: Option<u64>,
    /// A fork: it keeps the learned estimate it was forked with and learns nothing more, so one
    /// fork can run schedule after schedule (see [`Scheduler::fork`]).
    frozen: bool,
    rng: ChaCha8Rng,
    /// Per task id: `(band, key)` as [`packed`] makes it ([`UNSET`] before the task is seen); band 1
    /// is "never lowered", band 0 "lowered at a change point".
    prio: Vec<u128>,
    /// `(choice number, lowered priority)`, sorted by choice number.
    change_points: Vec<(u64, u64)>,
    next_change: usize,
    choices: u64,
    /// The task chosen last, and how many contested choices in a row it won right after its own
    /// step (it yielded and was chosen again): a spinning task.
    streak: (Option<TaskId>, u32),
}

/// A task chosen this many contested times in a row, right after its own step, is spinning
/// (`while !ready { yield_now().await }`) and is lowered below every other task; otherwise PCT
/// would let it spin until the step limit.
const SPIN_LIMIT: u32 = 32;

impl Pct {
    /// PCT looking for bugs of depth `depth` (≥ 1): `depth − 1` priority change points per run.
    ///
    /// # Panics
    ///
    /// If `depth` is 0.
    pub fn new(depth: u32) -> Self {
        assert!(
            depth >= 1,
            "Pct::new(0): the depth is the number of ordering constraints a bug needs; use 1 or more \
             (2 or 3 find most bugs)"
        );
        Pct {
            depth,
            pinned_steps: None,
            max_seen: None,
            frozen: false,
            rng: chacha_from_seed(0),
            prio: Vec::new(),
            change_points: Vec::new(),
            next_change: 0,
            choices: 0,
            streak: (None, 0),
        }
    }

    /// Pins the step estimate `k` (task choices per run) instead of learning it from earlier runs,
    /// so that a seed's schedule depends on the seed alone.
    ///
    /// # Panics
    ///
    /// If `k` is 0.
    pub fn with_steps(mut self, k: u64) -> Self {
        assert!(k > 0, "Pct::with_steps(0): k must be at least 1");
        self.pinned_steps = Some(k);
        self
    }

    /// The depth.
    pub fn depth(&self) -> u32 {
        self.depth
    }

    /// The step estimate `k` the next run will use.
    pub fn steps_estimate(&self) -> u64 {
        self.pinned_steps
            .or(self.max_seen.filter(|k| *k > 0))
            .unwrap_or(DEFAULT_STEPS)
    }

    #[inline]
    fn priority(&mut self, t: TaskId) -> u128 {
        match self.prio.get(t.as_u32() as usize) {
            Some(&p) if p != UNSET => p,
            _ => self.first_priority(t),
        }
    }

    /// A task seen for the first time gets a random key in band 1.
    #[inline(never)]
    fn first_priority(&mut self, t: TaskId) -> u128 {
        let i = t.as_u32() as usize;
        if self.prio.len() <= i {
            self.prio.resize((i + 1).max(8), UNSET);
        }
        let p = packed(1, self.rng.next_u64());
        self.prio[i] = p;
        p
    }

    /// Index of the highest-priority runnable task (ties, which need equal 64-bit keys, go to the
    /// lower task id). Tasks seen for the first time get their priority here, in ready-queue
    /// order.
    fn top(&mut self, runnable: Runnable<'_>) -> usize {
        match runnable.as_slice() {
            Some(s) => self.top_of(s.iter().copied()),
            None => self.top_of(runnable.iter().copied()),
        }
    }

    #[inline]
    fn top_of(&mut self, tasks: impl Iterator<Item = TaskId>) -> usize {
        // `(band, key, Reverse(task id))`, highest first: the packed priority, then the lower id.
        let (mut best, mut best_p, mut best_t) = (0, 0u128, TaskId::from_u32(u32::MAX));
        for (i, t) in tasks.enumerate() {
            let p = self.priority(t);
            if i == 0 || p > best_p || (p == best_p && t < best_t) {
                (best, best_p, best_t) = (i, p, t);
            }
        }
        best
    }
}

/// A task with no priority yet.
const UNSET: u128 = 0;

/// Priority `(band, key)` as one number ordered as the pair: `1 + (band·2⁶⁴ + key)`, above
/// [`UNSET`].
#[inline]
fn packed(band: u8, key: u64) -> u128 {
    1 + (u128::from(band) << 64 | u128::from(key))
}

impl Scheduler for Pct {
    fn learns(&self) -> bool {
        !self.frozen
    }

    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        Some(Box::new(Pct {
            frozen: true,
            ..self.clone()
        }))
    }

    fn name(&self) -> String {
        format!("Pct {{ depth: {} }}", self.depth)
    }

    fn begin_run(&mut self, seed: u64) {
        self.rng = chacha_from_seed(seed);
        self.prio.clear();
        self.choices = 0;
        self.next_change = 0;
        self.streak = (None, 0);
        let k = self.steps_estimate();
        let want = u64::from(self.depth - 1);
        // The i-th change point drawn (i = 1, 2, ...) lowers to priority depth − i. Drawn into the
        // buffer of the previous run's points, which the draw order does not depend on.
        let depth = u64::from(self.depth);
        let points = &mut self.change_points;
        points.clear();
        if want >= k {
            points.extend((1..=k).enumerate().map(|(i, p)| (p, depth - 1 - i as u64)));
        } else {
            // Distinct draws in draw order. A few points are checked by a scan (no allocation
            // per run); many by a set, so that the draw is O(depth log depth), not O(depth²)
            // (pct:200000 spent minutes here). Both keep the same draws.
            let mut seen = std::collections::BTreeSet::new();
            let few = want <= 16;
            while (points.len() as u64) < want {
                let p = 1 + index_below(self.rng.next_u64(), k);
                let new = if few {
                    !points.iter().any(|c| c.0 == p)
                } else {
                    seen.insert(p)
                };
                if new {
                    let i = points.len() as u64;
                    points.push((p, depth - 1 - i));
                }
            }
        }
        points.sort_unstable();
    }

    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        self.choices += 1;
        // Tasks seen for the first time get their priority in ready-queue order, as `top` meets
        // them.
        let mut i = self.top(choice.runnable);
        if let Some(&(at, low)) = self.change_points.get(self.next_change) {
            if at == self.choices {
                self.next_change += 1;
                let t = choice.runnable[i];
                self.prio[t.as_u32() as usize] = packed(0, low);
                i = self.top(choice.runnable);
            }
        }
        let t = match choice.runnable.as_slice() {
            Some(s) => s[i],
            None => choice.runnable[i],
        };
        let spinning = self.streak.0 == Some(t) && choice.previous == Some(t);
        self.streak = (Some(t), if spinning { self.streak.1 + 1 } else { 1 });
        if self.streak.1 > SPIN_LIMIT {
            // Below every other task, lowered ones included (their keys are >= 0 in band 0).
            self.prio[t.as_u32() as usize] = packed(0, 0);
            self.streak = (None, 0);
            i = self.top(choice.runnable);
        }
        Ok(i)
    }

    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        Ok(self.rng.next_u64())
    }

    fn end_run(&mut self, decisions: &[Decision], _failed: bool) {
        if self.frozen {
            return;
        }
        let k = decisions
            .iter()
            .filter(|d| matches!(d, Decision::Task { .. }))
            .count() as u64;
        self.max_seen = Some(self.max_seen.map_or(k, |m| m.max(k)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The change points of the quadratic draw this replaced, for the test below.
    fn change_points_by_scan(depth: u32, k: u64, seed: u64) -> Vec<(u64, u64)> {
        let mut rng = chacha_from_seed(seed);
        let want = u64::from(depth - 1);
        let mut points: Vec<u64> = Vec::new();
        if want >= k {
            points.extend(1..=k);
        } else {
            while (points.len() as u64) < want {
                let p = 1 + index_below(rng.next_u64(), k);
                if !points.contains(&p) {
                    points.push(p);
                }
            }
        }
        let mut v: Vec<(u64, u64)> = points
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p, u64::from(depth) - 1 - i as u64))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn change_points_are_drawn_as_before_in_near_linear_time() {
        // Same draws, so every seed keeps its schedule.
        for (depth, k) in [(2, 32), (3, 10), (5, 6), (8, 7), (40, 100)] {
            for seed in 0..20 {
                let mut p = Pct::new(depth).with_steps(k);
                p.begin_run(seed);
                assert_eq!(p.change_points, change_points_by_scan(depth, k, seed));
            }
        }
        // An absurd depth on a long run: 200,000 change points among 400,000 choices. The scan
        // cost 2·10^10 comparisons per schedule.
        let mut p = Pct::new(200_001).with_steps(400_000);
        p.begin_run(7);
        assert_eq!(p.change_points.len(), 200_000);
        assert!(p.change_points.windows(2).all(|w| w[0].0 < w[1].0));
    }

    /// A task that spins on `yield_now` waiting for another is lowered after a streak, so the
    /// other task runs and the run ends long before any step limit.
    #[test]
    fn a_spinning_task_does_not_starve_the_others() {
        use std::cell::Cell;
        use std::rc::Rc;
        for seed in 0..50 {
            let report = crate::Builder::new()
                .seed(seed)
                .scheduler(Pct::new(2).with_steps(10))
                .max_steps(10_000)
                .run_report(async {
                    let flag = Rc::new(Cell::new(false));
                    let f = flag.clone();
                    let spinner = crate::spawn(async move {
                        while !f.get() {
                            crate::yield_now().await;
                        }
                    });
                    let setter = crate::spawn(async move { flag.set(true) });
                    spinner.await.unwrap();
                    setter.await.unwrap();
                });
            if let Err(f) = &report.output {
                panic!("seed {seed}: {}", f.kind.name());
            }
            assert!(report.steps < 200, "seed {seed}: {} steps", report.steps);
        }
    }

    fn ids(v: &[u32]) -> Vec<TaskId> {
        v.iter().map(|i| TaskId::from_u32(*i)).collect()
    }

    fn choose(p: &mut Pct, runnable: &[TaskId], step: u64) -> usize {
        p.choose_task(&TaskChoice {
            runnable: runnable.into(),
            step,
            previous: None,
            now: crate::base::Instant::ZERO,
        })
        .unwrap()
    }

    #[test]
    fn depth_one_always_runs_the_same_top_task() {
        let mut p = Pct::new(1).with_steps(10);
        p.begin_run(5);
        let r = ids(&[1, 2, 3]);
        let first = choose(&mut p, &r, 1);
        for s in 2..20 {
            assert_eq!(choose(&mut p, &r, s), first);
        }
    }

    #[test]
    fn change_point_lowers_the_running_task() {
        // depth 2 with k = 1: the only change point is the first choice.
        let mut p = Pct::new(2).with_steps(1);
        let r = ids(&[1, 2]);
        let mut q = Pct::new(1).with_steps(1);
        for seed in 0..20 {
            p.begin_run(seed);
            q.begin_run(seed);
            // Same stream for the task keys: depth 1 shows who would have run.
            let unlowered = choose(&mut q, &r, 1);
            assert_eq!(choose(&mut p, &r, 1), 1 - unlowered);
            assert_eq!(choose(&mut p, &r, 2), 1 - unlowered);
        }
    }

    #[test]
    fn learns_k_from_the_longest_run() {
        let mut p = Pct::new(3);
        assert_eq!(p.steps_estimate(), DEFAULT_STEPS);
        let d = |n| Decision::Task {
            task: TaskId::from_u32(n),
            index: 0,
            runnable: 2,
        };
        p.end_run(&[d(1), Decision::Random(3), d(2)], false);
        assert_eq!(p.steps_estimate(), 2);
        p.end_run(&[d(1)], false);
        assert_eq!(p.steps_estimate(), 2);
        assert_eq!(Pct::new(3).with_steps(7).steps_estimate(), 7);
    }
}

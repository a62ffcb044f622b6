//! `Random`: a uniform choice among the runnable tasks at every step.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;

use super::{ScheduleError, Scheduler, TaskChoice, chacha_from_seed, index_below};

/// Picks uniformly among the runnable tasks at every step, from a ChaCha8 stream seeded by the
/// run's seed.
///
/// Good at bugs that need one or two unlucky switches anywhere in a short run (lost updates,
/// ABBA deadlocks); weaker when the bug needs a long, specific prefix, which [PCT-style] priority
/// schedules reach more often.
///
/// [PCT-style]: https://www.microsoft.com/en-us/research/publication/a-randomized-scheduler-with-probabilistic-guarantees-of-finding-bugs/
///
/// ```
/// use detsim::scheduler::Random;
/// let order = |seed| detsim::Builder::new().seed(seed).scheduler(Random::new()).run(async {
///     let log = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
///     let hs: Vec<_> = "abc".chars().map(|c| {
///         let log = log.clone();
///         detsim::spawn(async move { log.borrow_mut().push(c) })
///     }).collect();
///     for h in hs { h.await.unwrap(); }
///     log.take()
/// }).unwrap();
/// assert_eq!(order(7), order(7)); // same seed, same run
/// ```
#[derive(Clone, Debug)]
pub struct Random {
    rng: ChaCha8Rng,
}

impl Random {
    /// A random scheduler; the run's seed (see [`Builder::seed`](crate::Builder::seed)) seeds it.
    pub fn new() -> Self {
        Random {
            rng: chacha_from_seed(0),
        }
    }
}

impl Default for Random {
    fn default() -> Self {
        Random::new()
    }
}

impl Scheduler for Random {
    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        Some(Box::new(self.clone()))
    }

    fn name(&self) -> String {
        "Random".into()
    }

    fn begin_run(&mut self, seed: u64) {
        self.rng = chacha_from_seed(seed);
    }

    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        let n = choice.runnable.len() as u64;
        Ok(index_below(self.rng.next_u64(), n) as usize)
    }

    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        Ok(self.rng.next_u64())
    }
}

//! `Choices`: drive a run from a plain sequence of numbers.

use super::{Decision, ScheduleError, Scheduler, TaskChoice};

/// Drives a run from a sequence of numbers, one per decision: a task choice takes the number as
/// an index into the runnable list (clamped to the last task), a random draw takes it as the value.
/// Past the end of the sequence every choice is 0: FIFO order, and random values of 0.
///
/// It is *total*: any sequence is a valid schedule, which is what shrinking (Hypothesis-style,
/// over the choice sequence), proptest and fuzzers need. A shorter sequence, or smaller numbers,
/// mean a schedule closer to asyncio's FIFO order.
///
/// ```
/// use detsim::scheduler::Choices;
/// let order = |choices: Vec<u64>| detsim::Builder::new().scheduler(Choices::new(choices)).run(async {
///     let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
///     let hs: Vec<_> = (0..3).map(|i| {
///         let log = log.clone();
///         detsim::spawn(async move { log.borrow_mut().push(i) })
///     }).collect();
///     for h in hs { h.await.unwrap(); }
///     log.take()
/// }).unwrap();
/// assert_eq!(order(vec![]), [0, 1, 2]);         // FIFO
/// assert_eq!(order(vec![3, 99]), [2, 1, 0]); // clamped indices
/// ```
#[derive(Clone, Debug, Default)]
pub struct Choices {
    choices: Vec<u64>,
    pos: usize,
}

impl Choices {
    /// A scheduler that follows `choices`.
    pub fn new(choices: Vec<u64>) -> Choices {
        Choices { choices, pos: 0 }
    }

    /// The choice sequence that reproduces a recorded decision log: task indices and random values.
    pub fn from_decisions(decisions: &[Decision]) -> Vec<u64> {
        decisions
            .iter()
            .map(|d| match *d {
                Decision::Task { index, .. } => u64::from(index),
                Decision::Random(v) => v,
            })
            .collect()
    }

    fn next(&mut self) -> u64 {
        let v = self.choices.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }
}

impl Scheduler for Choices {
    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        Some(Box::new(self.clone()))
    }

    fn name(&self) -> String {
        "Choices".into()
    }

    fn begin_run(&mut self, _seed: u64) {
        self.pos = 0;
    }

    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        let n = choice.runnable.len() as u64;
        Ok(self.next().min(n - 1) as usize)
    }

    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        Ok(self.next())
    }
}

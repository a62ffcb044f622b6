//! `Replay`: drive a run from a recorded decision log.

use super::{Decision, ScheduleError, Scheduler, TaskChoice};

/// Replays a recorded decision log: the same task choices (by task id) and the same random values.
///
/// A log that no longer fits the program is reported where it diverges, for example "at decision
/// 12 (step 30) the schedule chose task 4, which is not runnable (runnable: 1, 3)", instead of
/// silently running something else. Past the end of the log the run continues in FIFO order with
/// random values of 0, so a *prefix* of a log is itself a valid schedule (shrinking relies on it).
/// A run that finishes with decisions of the log left over has diverged too (the program asks for
/// fewer decisions than the one recorded) and fails, saying where it ended.
///
/// ```
/// use detsim::scheduler::{Random, Replay};
/// let body = || async {
///     let hs: Vec<_> = (0..4).map(|i| detsim::spawn(async move { detsim::random_u64() ^ i })).collect();
///     let mut v = Vec::new();
///     for h in hs { v.push(h.await.unwrap()); }
///     v
/// };
/// let first = detsim::Builder::new().seed(3).scheduler(Random::new()).run_report(body());
/// let log = first.decisions.clone();
/// let again = detsim::Builder::new().scheduler(Replay::new(log)).run(body()).unwrap();
/// assert_eq!(first.output.unwrap(), again);
/// ```
#[derive(Clone, Debug)]
pub struct Replay {
    log: Vec<Decision>,
    pos: usize,
}

impl Replay {
    /// A scheduler that replays `log`.
    pub fn new(log: Vec<Decision>) -> Self {
        Replay { log, pos: 0 }
    }

    /// The log being replayed.
    pub fn log(&self) -> &[Decision] {
        &self.log
    }
}

impl Scheduler for Replay {
    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        Some(Box::new(self.clone()))
    }

    fn name(&self) -> String {
        "Replay".into()
    }

    fn begin_run(&mut self, _seed: u64) {
        self.pos = 0;
    }

    fn unused_decisions(&self) -> usize {
        self.log.len().saturating_sub(self.pos)
    }

    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        let at = self.pos;
        let Some(d) = self.log.get(at) else {
            return Ok(0);
        };
        self.pos += 1;
        match *d {
            Decision::Task { task, .. } => {
                choice.runnable.iter().position(|t| *t == task).ok_or_else(|| {
                    let list: Vec<String> = choice.runnable.iter().map(|t| t.to_string()).collect();
                    ScheduleError::new(format!(
                        "replay diverged: at decision {at} (step {}) the schedule chose task {task}, \
                         which is not runnable (runnable: {}); the program has changed since the \
                         schedule was recorded, so record a new one",
                        choice.step,
                        list.join(", ")
                    ))
                })
            }
            Decision::Random(_) => Err(ScheduleError::new(format!(
                "replay diverged: at decision {at} (step {}) the schedule holds a random value but \
                 the program chose between tasks {}; the program has changed since the schedule \
                 was recorded, so record a new one",
                choice.step,
                choice
                    .runnable
                    .iter()
                    .map(|t| t.to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        let at = self.pos;
        let Some(d) = self.log.get(at) else {
            return Ok(0);
        };
        self.pos += 1;
        match *d {
            Decision::Random(v) => Ok(v),
            Decision::Task { task, .. } => Err(ScheduleError::new(format!(
                "replay diverged: at decision {at} the schedule chose task {task} but the program \
                 drew a random value; the program has changed since the schedule was recorded, so \
                 record a new one"
            ))),
        }
    }
}

//! `Fifo`: asyncio's ready-queue order.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::Rng;

use super::{ScheduleError, Scheduler, TaskChoice, chacha_from_seed};

/// Runs tasks in exactly the order asyncio's event loop would: always the head of the ready queue.
///
/// Random values for user code still come from a ChaCha8 stream seeded by the run's seed, so a
/// FIFO run that draws random numbers is as reproducible as any other.
///
/// ```
/// let out = detsim::Builder::new().scheduler(detsim::scheduler::Fifo::new()).run(async {
///     let a = detsim::spawn(async { 1 });
///     let b = detsim::spawn(async { 2 });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(out.unwrap(), 3);
/// ```
#[derive(Clone, Debug)]
pub struct Fifo {
    rng: ChaCha8Rng,
}

impl Fifo {
    /// A FIFO scheduler.
    pub fn new() -> Self {
        Fifo {
            rng: chacha_from_seed(0),
        }
    }
}

impl Default for Fifo {
    fn default() -> Self {
        Fifo::new()
    }
}

impl Scheduler for Fifo {
    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        Some(Box::new(self.clone()))
    }

    fn name(&self) -> String {
        "Fifo".into()
    }

    fn begin_run(&mut self, seed: u64) {
        self.rng = chacha_from_seed(seed);
    }

    fn choose_task(&mut self, _choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        Ok(0)
    }

    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        Ok(self.rng.next_u64())
    }
}

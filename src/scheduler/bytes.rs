//! `FuzzBytes`: drive a run from a fuzzer's byte string.

use super::{ScheduleError, Scheduler, TaskChoice};

/// Drives a run from a byte string, as a fuzzer hands it over: a task choice reads one byte and
/// takes it modulo the number of runnable tasks, a random value reads the next eight bytes
/// (little-endian). Past the end of the input every byte reads as 0: FIFO order, and random
/// values of 0.
///
/// It is *total* — every byte string is a valid schedule — and deterministic: the same bytes give
/// the same run, whatever the seed. A fuzzer's mutations of the bytes are mutations of the
/// interleaving; libFuzzer's minimisation (shorter inputs, bytes towards 0) moves a schedule
/// towards asyncio's FIFO order. The run's decision log converts to a `DETSIM_SCHEDULE` string
/// with [`Schedule::from_decisions`](crate::explore::Schedule::from_decisions), so a crash found
/// by a fuzzer replays in an ordinary `cargo test`.
///
/// ```
/// use detsim::{Builder, explore::Schedule, scheduler::FuzzBytes};
/// let program = || async {
///     let log = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
///     let hs: Vec<_> = (0..3).map(|i| {
///         let log = log.clone();
///         detsim::spawn(async move { log.borrow_mut().push(i) })
///     }).collect();
///     for h in hs { h.await.unwrap(); }
///     log.take()
/// };
/// let run = |bytes: &[u8]| Builder::new().scheduler(FuzzBytes::new(bytes)).run_report(program());
/// assert_eq!(run(&[]).output.unwrap(), [0, 1, 2]); // FIFO
/// let report = run(&[2, 7]);
/// assert_eq!(report.output.unwrap(), [2, 1, 0]); // 2 % 3 runnable tasks, then 7 % 2
/// // The same run as a schedule string, for DETSIM_SCHEDULE:
/// let s = Schedule::from_decisions(&report.decisions);
/// assert!(s.to_string().starts_with("ds1."));
/// ```
#[derive(Clone, Debug, Default)]
pub struct FuzzBytes {
    bytes: Vec<u8>,
    pos: usize,
}

impl FuzzBytes {
    /// A scheduler that reads its decisions from `bytes`.
    pub fn new(bytes: impl Into<Vec<u8>>) -> FuzzBytes {
        FuzzBytes {
            bytes: bytes.into(),
            pos: 0,
        }
    }

    /// How many bytes the current (or last) run has read, counting reads past the end.
    ///
    /// ```
    /// let mut s = detsim::scheduler::FuzzBytes::new(vec![1, 2, 3]);
    /// use detsim::scheduler::Scheduler;
    /// s.next_u64().unwrap();
    /// assert_eq!(s.consumed(), 8);
    /// ```
    pub fn consumed(&self) -> usize {
        self.pos
    }

    fn byte(&mut self) -> u8 {
        let b = self.bytes.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
}

impl Scheduler for FuzzBytes {
    fn name(&self) -> String {
        "FuzzBytes".into()
    }

    fn begin_run(&mut self, _seed: u64) {
        self.pos = 0;
    }

    fn choose_task(&mut self, choice: &TaskChoice<'_>) -> Result<usize, ScheduleError> {
        Ok(usize::from(self.byte()) % choice.runnable.len())
    }

    fn next_u64(&mut self) -> Result<u64, ScheduleError> {
        let mut v = [0u8; 8];
        for b in &mut v {
            *b = self.byte();
        }
        Ok(u64::from_le_bytes(v))
    }

    fn fork(&self) -> Option<Box<dyn Scheduler>> {
        Some(Box::new(self.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::Instant;
    use crate::base::TaskId;

    #[test]
    fn total_and_modular() {
        let ids = [
            TaskId::from_u32(0),
            TaskId::from_u32(1),
            TaskId::from_u32(2),
        ];
        let c = TaskChoice {
            runnable: (&ids[..]).into(),
            step: 1,
            previous: None,
            now: Instant::default(),
        };
        let mut s = FuzzBytes::new(vec![5, 255]);
        assert_eq!(s.choose_task(&c).unwrap(), 2);
        assert_eq!(s.choose_task(&c).unwrap(), 0);
        assert_eq!(s.choose_task(&c).unwrap(), 0); // past the end
        s.begin_run(9);
        assert_eq!(s.choose_task(&c).unwrap(), 2);
    }
}

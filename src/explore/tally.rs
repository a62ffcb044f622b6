//! What an exploration has done so far, for the person watching: the tally of schedules run,
//! distinct schedules and steps, and the one summary line printed when an exploration ends.
//!
//! # Invariants
//!
//! * The tally only counts: nothing here is read by a scheduler, a report that snapshots compare
//!   ([`Summary`](super::Summary)'s `Display`, [`Found`](super::Found)'s `Display`) or anything
//!   that steers a run.
//! * Wall-clock time appears only in the summary line, which goes to stderr.

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Duration;

use std::future::Future;

use super::progress::{Progress, plural, seconds, thousands};
use super::{Explorer, Found, Ran, Summary};
use crate::base::Decision;

/// Schedules run, distinct decision logs among them, and steps; and the progress printer.
#[derive(Default)]
pub(super) struct Tally {
    pub(super) runs: u64,
    pub(super) steps: u64,
    /// A 64-bit hash of each distinct decision log (only counted, never iterated).
    logs: HashSet<u64, BuildHasherDefault<Premixed>>,
    progress: Option<Progress>,
}

impl Tally {
    pub(super) fn new(progress: Option<Progress>) -> Tally {
        Tally {
            progress,
            ..Tally::default()
        }
    }

    pub(super) fn count(&mut self, decisions: &[Decision], steps: u64) {
        self.runs += 1;
        self.steps += steps;
        self.logs.insert(log_hash(decisions));
        if let Some(p) = &mut self.progress {
            p.tick(self.runs);
        }
    }

    /// Ends the progress display (clears a line left on a terminal).
    pub(super) fn finish(&mut self) {
        if let Some(p) = &mut self.progress {
            p.finish();
        }
    }

    pub(super) fn distinct(&self) -> u64 {
        self.logs.len() as u64
    }
}

impl<'a, F, Fut> Explorer<'a, F>
where
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = ()>,
{
    /// Counts a schedule of the campaign (not a calibration, shrinking or determinism replay).
    pub(super) fn count(&self, ran: &Ran) {
        self.tally.lock().unwrap().count(&ran.decisions, ran.steps);
    }

    /// A summary of the campaign, with the tally's counts.
    pub(super) fn summary(
        &self,
        schedules: u64,
        strategy: String,
        exhausted: bool,
        coverage: Option<String>,
    ) -> Summary {
        let tally = self.tally.lock().unwrap();
        Summary {
            schedules,
            strategy,
            exhausted,
            coverage,
            distinct: tally.distinct(),
            steps: tally.steps,
        }
    }

    /// The line printed at the end of an exploration: strategy, schedules run and distinct,
    /// steps, the outcome, and the wall time (only here: it is for the person reading).
    pub(super) fn summary_line(
        &self,
        campaign: &str, // the strategy, or what is replayed
        result: &Result<Summary, Box<Found>>,
        wall: std::time::Duration,
    ) -> String {
        let tally = self.tally.lock().unwrap();
        let outcome = match result {
            // An exhaustive search says what it covered ("all N schedules within b preemptions
            // explored…, no failure").
            Ok(s) => s
                .coverage
                .clone()
                .unwrap_or_else(|| "no failure".to_string()),
            Err(f) if f.given_schedule => format!("the replayed schedule fails ({})", f.found_in),
            Err(f) => format!("a failure in {}", f.found_in),
        };
        line(campaign, &tally, &outcome, wall)
    }
}

/// A 64-bit hash of a decision log: a multiply-rotate mix per decision, a few instructions each
/// (SipHash through `#[derive(Hash)]` cost as much as a fifth of a short schedule). With 64 bits,
/// two of a million distinct logs collide with a probability below 10⁻⁷; a collision would only
/// make the distinct count one lower.
fn log_hash(decisions: &[Decision]) -> u64 {
    const K: u64 = 0x517c_c1b7_2722_0a95;
    let mut h = (decisions.len() as u64).wrapping_mul(K);
    for d in decisions {
        let v = match *d {
            Decision::Task { task, index, .. } => {
                (u64::from(task.as_u32()) << 32 | u64::from(index)) ^ 0x9e37_79b9_7f4a_7c15
            }
            Decision::Random(v) => v,
        };
        h = (h.rotate_left(5) ^ v).wrapping_mul(K);
    }
    h ^ (h >> 29)
}

/// The hasher of a set of values that are hashes already: it passes them through.
#[derive(Default)]
struct Premixed(u64);

impl Hasher for Premixed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8 | u64::from(*b)).rotate_left(3);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// `detsim: portfolio: 1001 schedules run (998 distinct), 41,230 steps, no failure [0.41s]`.
pub(super) fn line(strategy: &str, tally: &Tally, outcome: &str, wall: Duration) -> String {
    format!(
        "detsim: {strategy}: {} run ({} distinct), {} steps, {outcome} [{}]",
        plural(tally.runs, "schedule"),
        thousands(tally.distinct()),
        thousands(tally.steps),
        seconds(wall)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_runs_distinct_logs_and_steps() {
        let mut t = Tally::default();
        let a = [Decision::Random(1)];
        t.count(&a, 10);
        t.count(&a, 10);
        t.count(&[], 5);
        assert_eq!((t.runs, t.distinct(), t.steps), (3, 2, 25));
        // Logs that differ in one choice, or only in length, count as distinct.
        let task = |id, index| Decision::Task {
            task: crate::base::TaskId::from_u32(id),
            index,
            runnable: 2,
        };
        t.count(&[task(1, 0), task(2, 0)], 1);
        t.count(&[task(2, 1), task(1, 1)], 1);
        t.count(&[task(1, 0), task(2, 0), task(1, 0)], 1);
        t.count(&[task(1, 0), task(2, 0)], 1);
        assert_eq!(t.distinct(), 5);
        let l = line("random", &t, "no failure", Duration::from_millis(1234));
        assert_eq!(
            l,
            "detsim: random: 7 schedules run (5 distinct), 29 steps, no failure [1.23s]"
        );
    }

    #[test]
    fn numbers_read_easily() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(plural(1, "schedule"), "1 schedule");
        assert_eq!(seconds(Duration::from_secs(125)), "2m05s");
        assert_eq!(seconds(Duration::from_millis(12_340)), "12.3s");
    }
}

//! From a failing run to its report: shrinking the failing schedule, the determinism
//! self-check, and the [`Found`] that holds everything needed to replay it.
//!
//! # Invariants
//!
//! * Shrinking and the determinism check only replay: they never change what was found, and the
//!   shrunk schedule string always replays a failure of the same kind (else the report falls back
//!   to the original schedule).
//! * A replay (of a given seed or schedule) is not shrunk unless asked; a find is.

use std::future::Future;

use super::report::{Determinism, Found, first_difference, test_command};
use super::{Explorer, Ran, Schedule, shrink};
use crate::failure::{Failure, FailureKind};
use crate::scheduler::{Choices, Decision, Replay};

/// Two failures are "the same" for shrinking: the same kind, and for a panic the same location
/// (or, without one, the same message).
pub(crate) fn same_failure(a: &FailureKind, b: &FailureKind) -> bool {
    match (a, b) {
        (
            FailureKind::Panic {
                message: m1,
                location: l1,
                ..
            },
            FailureKind::Panic {
                message: m2,
                location: l2,
                ..
            },
        ) => match (l1, l2) {
            (Some(x), Some(y)) => x == y,
            _ => m1 == m2,
        },
        _ => std::mem::discriminant(a) == std::mem::discriminant(b),
    }
}

/// Shrinking spends at most about this many steps in all (but at least [`MIN_SHRINK_RUNS`] runs).
const SHRINK_STEP_BUDGET: u64 = 20_000_000;
/// The fewest replays shrinking gets, however long the failing run.
const MIN_SHRINK_RUNS: u64 = 8;
/// A run with more decisions than this is "long": its determinism check keeps only the last
/// [`RING_FOR_LONG_RUNS`] events (and compares the full decision logs).
const LONG_RUN_DECISIONS: usize = 200_000;
const RING_FOR_LONG_RUNS: usize = 10_000;

/// Where a failing run came from, for its report.
pub(super) struct Origin {
    pub(super) strategy: String,
    pub(super) index: Option<u64>,
    pub(super) schedules_run: u64,
    pub(super) seed: u64,
    pub(super) seed_replays: bool,
    pub(super) found_in: String,
    /// A replay of a given seed or schedule, not a find.
    pub(super) replayed: bool,
    pub(super) given_schedule: bool,
}

impl Origin {
    /// Schedule `index` of the campaign.
    pub(super) fn schedule(strategy: String, index: u64, schedules_run: u64, seed: u64) -> Origin {
        Origin {
            strategy,
            index: Some(index),
            schedules_run,
            seed,
            seed_replays: true,
            found_in: format!("schedule #{index}"),
            replayed: false,
            given_schedule: false,
        }
    }
}

impl<'a, F, Fut> Explorer<'a, F>
where
    F: Fn() -> Fut + Sync,
    Fut: Future<Output = ()>,
{
    /// Runs `choices` under the lenient choice scheduler.
    fn run_choices(&self, choices: &[u64], record: Option<usize>) -> Ran {
        let (ran, _) = self.run_with(
            Box::new(Choices::new(choices.to_vec())),
            self.config.seed,
            record,
        );
        ran
    }

    /// Replays `decisions` twice with recording and compares; `Some(difference)` if they differ.
    fn replay_differs(
        &self,
        decisions: &[Decision],
        expect: Option<&FailureKind>,
    ) -> Option<String> {
        // Keep every event of an ordinary run; of a very long one (a livelock at the step
        // limit), the last RING_FOR_LONG_RUNS, with the decision logs compared in full.
        let record = if decisions.len() > LONG_RUN_DECISIONS {
            RING_FOR_LONG_RUNS
        } else {
            usize::MAX
        };
        let run = || {
            self.run_with(
                Box::new(Replay::new(decisions.to_vec())),
                self.config.seed,
                Some(record),
            )
            .0
        };
        let (a, b) = (run(), run());
        if a.decisions != b.decisions {
            let i = a
                .decisions
                .iter()
                .zip(&b.decisions)
                .take_while(|(x, y)| x == y)
                .count();
            return Some(format!(
                "the decision logs differ at decision {i}: {:?} then {:?}",
                a.decisions.get(i),
                b.decisions.get(i)
            ));
        }
        if let Some(diff) = first_difference(&a.trace, &b.trace) {
            return Some(diff);
        }
        // What the failure report prints (messages, names, step, time) must agree as well.
        let report = |r: &Ran| r.failure.as_ref().map(|f| f.to_string());
        if let (Some(x), Some(y)) = (report(&a), report(&b)) {
            if x != y {
                return Some(format!(
                    "the failure reports differ:\n  first run:  {}\n  second run: {}",
                    x.replace('\n', "\n    "),
                    y.replace('\n', "\n    ")
                ));
            }
        }
        if let Some(kind) = expect {
            let again = a.failure.as_ref().map(|f| &f.kind);
            if !again.is_some_and(|k| same_failure(k, kind)) {
                return Some(format!(
                    "the failing schedule did not fail the same way when replayed: first {}, then {}",
                    kind.name(),
                    again.map_or("no failure", |k| k.name())
                ));
            }
        }
        None
    }

    pub(super) fn determinism_each(
        &self,
        ran: &Ran,
        seed: u64,
        name: &str,
        index: Option<u64>,
        count: u64,
    ) -> Option<Box<Found>> {
        let diff = self.replay_differs(&ran.decisions, None)?;
        let failure = Failure {
            kind: FailureKind::Nondeterminism {
                message: diff.clone(),
            },
            seed,
            scheduler: name.to_string(),
            decisions: ran.decisions.clone(),
            steps: 0,
            time: crate::base::Instant::ZERO,
            trace: crate::trace::Trace::default(),
        };
        let schedule = Schedule::from_decisions(&ran.decisions);
        Some(Box::new(Found {
            failure: failure.clone(),
            original: failure,
            strategy: name.to_string(),
            index,
            schedules_run: count,
            seed,
            seed_replays: index.is_some()
                && self.strategy().is_none_or(|s| s.build().fork().is_some()),
            schedule: schedule.clone(),
            shrunk: schedule,
            shrink_runs: 0,
            shrank: false,
            replayed: false,
            given_schedule: false,
            determinism: Determinism::Differs(diff),
            test_command: test_command(),
            found_in: index.map_or_else(
                || "asyncio's own order (run first)".to_string(),
                |i| format!("schedule #{i}"),
            ),
            called_at: None,
        }))
    }

    pub(super) fn found(
        &self,
        original: Failure,
        decisions: Vec<Decision>,
        origin: Origin,
    ) -> Box<Found> {
        let kind = original.kind.clone();
        let initial = Choices::from_decisions(&decisions);
        let shrank = self.shrinks(origin.replayed);
        let (mut final_run, shrunk_schedule, shrink_runs) = if shrank {
            self.shrink(&original, &decisions, &initial)
        } else {
            let tail = Some(self.settings.trace_tail);
            let run = self.run_with(
                Box::new(Replay::new(decisions.clone())),
                self.config.seed,
                tail,
            );
            (run.0, Schedule::from_decisions(&decisions), 0)
        };
        let mut failure = final_run.failure.take().unwrap_or_else(|| original.clone());
        let strategy = origin.strategy;
        // The shown run is a replay: say so rather than name the internal choice scheduler.
        failure.seed = origin.seed;
        failure.scheduler = if origin.given_schedule {
            strategy.clone()
        } else if shrank {
            format!("{strategy}, replaying the shrunk schedule")
        } else {
            format!("{strategy}, replayed")
        };
        let determinism = match self.replay_differs(&decisions, Some(&kind)) {
            None => Determinism::Confirmed,
            Some(d) => Determinism::Differs(d),
        };
        Box::new(Found {
            failure,
            original: Failure {
                scheduler: strategy.clone(),
                ..original
            },
            strategy,
            index: origin.index,
            schedules_run: origin.schedules_run,
            seed: origin.seed,
            seed_replays: origin.seed_replays,
            schedule: Schedule::from_decisions(&decisions),
            shrunk: shrunk_schedule,
            shrink_runs,
            shrank,
            replayed: origin.replayed,
            given_schedule: origin.given_schedule,
            determinism,
            test_command: test_command(),
            found_in: origin.found_in,
            called_at: None,
        })
    }

    /// Shrinks a failing run's choices: the shrunk run (recorded, with the trace tail), its
    /// schedule, and the replays spent.
    fn shrink(
        &self,
        original: &Failure,
        decisions: &[Decision],
        initial: &[u64],
    ) -> (Ran, Schedule, usize) {
        let kind = &original.kind;
        // Shrinking replays the program up to `shrink_runs` times; for a very long failing run (a
        // livelock at the step limit) that would take minutes, so spend at most about
        // SHRINK_STEP_BUDGET steps in all.
        let steps = original.steps.max(1);
        let budget = self
            .settings
            .shrink_runs
            .min((SHRINK_STEP_BUDGET / steps).max(MIN_SHRINK_RUNS) as usize);
        let shrunk = shrink::shrink(initial.to_vec(), budget, |cand| {
            let ran = self.run_choices(cand, None);
            match &ran.failure {
                Some(f) if same_failure(&f.kind, kind) => {
                    Some(shrink::normalise(Choices::from_decisions(&ran.decisions)))
                }
                _ => None,
            }
        });
        // Replay the shrunk choices with recording to get its exact log and trace tail.
        let tail = Some(self.settings.trace_tail);
        let mut final_run = self.run_choices(&shrunk.choices, tail);
        let mut shrunk_schedule = Schedule::from_decisions(&final_run.decisions);
        // The shrunk schedule string must replay the failure; if it somehow does not, fall back.
        let (check, _) = self.run_with(
            Box::new(Replay::new(shrunk_schedule.decisions().to_vec())),
            self.config.seed,
            None,
        );
        let replays = check
            .failure
            .as_ref()
            .is_some_and(|f| same_failure(&f.kind, kind));
        if !replays || final_run.failure.is_none() {
            final_run = self.run_choices(initial, tail);
            shrunk_schedule = Schedule::from_decisions(decisions);
        }
        (final_run, shrunk_schedule, shrunk.runs)
    }
}

//! A livelock fails at the step limit; shrinking and the determinism check must not turn that
//! into minutes of replays.

use detsim::{Builder, FailureKind};

#[test]
fn a_livelock_is_reported_without_endless_shrinking() {
    let found = Builder::new()
        .ignore_env()
        .max_steps(200_000)
        .explore(|| async {
            let spin = detsim::spawn(async {
                loop {
                    detsim::yield_now().await;
                }
            });
            spin.await.unwrap();
        })
        .unwrap_err();
    assert!(matches!(found.original.kind, FailureKind::StepLimit { .. }));
    // About 20 million steps of shrinking at most: 100 replays of a 200,000-step run.
    assert!(found.shrink_runs <= 100, "{} replays", found.shrink_runs);
    assert!(
        found.to_string().contains("the run exceeded 200000 steps"),
        "{found}"
    );
}

/// Two tasks spinning on each other's flag (the README's livelock): every step is a decision, so
/// the failing log is as long as the step limit. Shrinking used to copy that log once per
/// position of every pass, budget spent or not: minutes at 100,000 steps, hours at the default.
#[test]
fn two_spinners_with_a_decision_per_step_are_reported_promptly() {
    use std::{cell::Cell, rc::Rc};
    let found = Builder::new()
        .ignore_env()
        .max_steps(100_000)
        .shrink_runs(4)
        .explore(|| async {
            let flag = Rc::new(Cell::new(false));
            let spin = |flag: Rc<Cell<bool>>| async move {
                while !flag.get() {
                    detsim::yield_now().await;
                }
            };
            let a = detsim::spawn(spin(flag.clone()));
            let b = detsim::spawn(spin(flag.clone()));
            a.await.unwrap();
            b.await.unwrap();
        })
        .unwrap_err();
    assert!(matches!(found.original.kind, FailureKind::StepLimit { .. }));
    assert!(found.original.decisions.len() > 90_000);
    assert!(found.shrink_runs <= 4, "{} replays", found.shrink_runs);
}

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

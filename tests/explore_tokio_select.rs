//! Real `tokio::select!` (not detsim-tokio's) draws its branch order from tokio's own
//! OS-seeded generator: a side channel detsim does not see. The determinism self-check catches
//! the difference and its report names `tokio::select!` and the fix.

use detsim::{Builder, FailureKind};

#[test]
fn real_tokio_select_is_reported_as_nondeterminism_with_the_fix() {
    let found = Builder::new()
        .ignore_env()
        .schedules(1)
        .check_determinism(true)
        .explore(|| async {
            // Twenty selects between two ready branches; one branch yields, the other sleeps a
            // millisecond, so each select's outcome shows in the events at its own position and
            // two runs agree only if all twenty outcomes do (2^-20). (Counting yields alone would
            // not do: two runs with the same number of yields record the same events.)
            for _ in 0..20 {
                let yields = tokio::select! {
                    _ = std::future::ready(()) => true,
                    _ = std::future::ready(()) => false,
                };
                if yields {
                    detsim::yield_now().await;
                } else {
                    detsim::time::sleep(detsim::time::Duration::from_millis(1)).await;
                }
            }
        })
        .unwrap_err();
    assert!(
        matches!(found.failure.kind, FailureKind::Nondeterminism { .. }),
        "{found}"
    );
    let report = found.to_string();
    assert!(report.contains("tokio::select!"), "{report}");
    assert!(report.contains("--cfg detsim"), "{report}");
}

//! Exploration at the edges of its settings: campaigns of any size, shards of them, and runs
//! whose report must say what really happened. Failures that abort or hang the process are
//! checked from a child process (this test binary run again with `DETSIM_TEST_CHILD` set), with a
//! guard that kills a child that hangs.

use std::time::Duration;

#[path = "common/child.rs"]
mod child;
#[path = "common/lost_update.rs"]
mod lost_update;
use child::{is_child, run_child};
use lost_update::lost_update;

/// The child side: explores only when a parent test asks (it fails by design).
#[test]
fn child_explore_lost_update() {
    if !is_child() {
        return;
    }
    detsim::check(lost_update);
}

fn assert_found_lost_update(vars: &[(&str, &str)]) {
    let out = run_child("child_explore_lost_update", vars, Duration::from_secs(120));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{vars:?} passed:\n{stderr}");
    assert!(
        stderr.contains("detsim found a failure") && stderr.contains("lost update"),
        "{vars:?}: no report\n{stderr}"
    );
}

#[test]
fn a_trillion_iterations_run_in_constant_memory() {
    // Used to allocate the list of every schedule index up front: 8 TB, and the process aborted.
    assert_found_lost_update(&[("DETSIM_ITERATIONS", "1000000000000")]);
    assert_found_lost_update(&[("DETSIM_ITERATIONS", "1000000000000"), ("DETSIM_JOBS", "2")]);
}

#[test]
fn the_largest_iteration_count_is_accepted() {
    // Used to panic with "capacity overflow" inside detsim.
    assert_found_lost_update(&[("DETSIM_ITERATIONS", "18446744073709551615")]);
    assert_found_lost_update(&[
        ("DETSIM_ITERATIONS", "18446744073709551615"),
        ("DETSIM_STRATEGY", "dfs"),
    ]);
}

#[test]
fn a_shard_of_a_huge_campaign_starts_at_once() {
    // Used to filter every index of the campaign one by one before running anything.
    for shard in ["1/2", "2/2", "7/9"] {
        assert_found_lost_update(&[
            ("DETSIM_ITERATIONS", "18446744073709551615"),
            ("DETSIM_SHARD", shard),
        ]);
        assert_found_lost_update(&[
            ("DETSIM_ITERATIONS", "18446744073709551615"),
            ("DETSIM_SHARD", shard),
            ("DETSIM_JOBS", "2"),
        ]);
    }
}

#[test]
fn an_iteration_count_past_u64_is_an_error_naming_the_variable() {
    let out = run_child(
        "child_explore_lost_update",
        &[("DETSIM_ITERATIONS", "18446744073709551616")],
        Duration::from_secs(120),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("DETSIM_ITERATIONS=\"18446744073709551616\" is not valid"),
        "{stderr}"
    );
}

//! Exploration at the edges of its settings: campaigns of any size, shards of them, and runs
//! whose report must say what really happened. Failures that abort or hang the process are
//! checked from a child process (this test binary run again with `DETSIM_TEST_CHILD` set), with a
//! guard that kills a child that hangs.

use std::cell::Cell;
use std::process::{Command, Output, Stdio};
use std::rc::Rc;
use std::time::{Duration, Instant};

use detsim::{spawn, yield_now};

/// Two tasks increment a counter with read – yield – write: found within a few schedules.
async fn lost_update() {
    let n = Rc::new(Cell::new(0));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let n = n.clone();
            spawn(async move {
                let v = n.get();
                yield_now().await;
                n.set(v + 1);
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    assert_eq!(n.get(), 2, "lost update");
}

/// The child side: explores only when a parent test asks (it fails by design).
#[test]
fn child_explore_lost_update() {
    if std::env::var("DETSIM_TEST_CHILD").is_err() {
        return;
    }
    detsim::check(lost_update);
}

/// Runs the child test `name` with `vars`, killing it if it has not finished after `limit` (a
/// hang is a failure of the parent, never a wait forever).
pub fn run_child(name: &str, vars: &[(&str, &str)], limit: Duration) -> Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env("DETSIM_TEST_CHILD", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("DETSIM_") && k != "DETSIM_TEST_CHILD" {
            cmd.env_remove(k);
        }
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if start.elapsed() > limit {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "child {name} with {vars:?} still running after {limit:?}: a hang\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
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

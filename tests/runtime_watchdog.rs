//! The watchdog: a poll that never returns ends the test with a report instead of hanging it.
//! A hang cannot be unwound, so the watchdog exits the process; these tests run the hanging
//! programs in a child process (this binary run again with `DETSIM_TEST_CHILD` set) and read its
//! report.

use std::time::Duration;

use detsim::explore::Strategy;
use detsim::{Builder, spawn, yield_now};

#[path = "common/child.rs"]
mod child;
use child::{is_child, run_child};

fn child(name: &str, vars: &[(&str, &str)]) -> std::process::Output {
    run_child(name, vars, Duration::from_secs(120))
}

/// A task that blocks its thread (here: forever) when it runs after the other one, at simulated
/// time 2s.
async fn blocks_when_second() {
    let order = std::rc::Rc::new(std::cell::Cell::new(0));
    let hs: Vec<_> = (0..2)
        .map(|i| {
            let order = order.clone();
            spawn(async move {
                detsim::time::sleep(Duration::from_secs(2)).await;
                yield_now().await;
                order.set(order.get() + 1);
                if order.get() == 2 && i == 0 {
                    loop {
                        std::thread::sleep(Duration::from_secs(1)); // never returns
                    }
                }
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
}

#[test]
fn child_explore_blocking_task() {
    if !is_child() {
        return;
    }
    Builder::new()
        .strategy(Strategy::Random)
        .check(blocks_when_second);
    unreachable!("the watchdog ends the process first");
}

#[test]
fn child_single_run_spins() {
    if !is_child() {
        return;
    }
    let _ = Builder::new()
        .poll_timeout(Some(Duration::from_millis(300)))
        .run(async {
            detsim::time::sleep(Duration::from_millis(1500)).await;
            spawn(async {
                #[allow(clippy::empty_loop)]
                loop {}
            })
            .await
        });
}

fn field<'a>(report: &'a str, prefix: &str) -> &'a str {
    report
        .lines()
        .find_map(|l| l.trim().strip_prefix(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in\n{report}"))
}

#[test]
fn a_blocked_poll_in_an_exploration_is_reported_with_its_replay() {
    let out = child(
        "child_explore_blocking_task",
        &[("DETSIM_POLL_TIMEOUT", "300ms")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert!(
        stderr.contains("a poll did not return within 300ms"),
        "{stderr}"
    );
    assert!(stderr.contains("task 1 was polled at step"), "{stderr}");
    assert!(stderr.contains("simulated time 2s"), "{stderr}");
    assert!(
        stderr.contains("test: child_explore_blocking_task"),
        "{stderr}"
    );
    let step = stderr
        .split("polled at step ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .unwrap()
        .to_string();
    // The schedule replays the run up to the same poll, which hangs again the same way.
    let schedule = field(&stderr, "schedule up to that poll: ").to_string();
    assert!(schedule.starts_with("ds1."), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "DETSIM_SCHEDULE={schedule} cargo test -- --exact child_explore_blocking_task"
        )),
        "{stderr}"
    );
    let again = child(
        "child_explore_blocking_task",
        &[
            ("DETSIM_POLL_TIMEOUT", "300ms"),
            ("DETSIM_SCHEDULE", &schedule),
        ],
    );
    let again = String::from_utf8_lossy(&again.stderr);
    assert!(
        again.contains(&format!(
            "task 1 was polled at step {step}, simulated time 2s"
        )),
        "{again}"
    );
    // So does the seed.
    let seed = field(&stderr, "seed: ").to_string();
    let again = child(
        "child_explore_blocking_task",
        &[("DETSIM_POLL_TIMEOUT", "300ms"), ("DETSIM_SEED", &seed)],
    );
    let again = String::from_utf8_lossy(&again.stderr);
    assert!(
        again.contains(&format!(
            "task 1 was polled at step {step}, simulated time 2s"
        )),
        "{again}"
    );
}

#[test]
fn a_task_spinning_without_await_ends_a_single_run() {
    let out = child("child_single_run_spins", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(101), "{stderr}");
    assert!(
        stderr.contains("a poll did not return within 300ms"),
        "{stderr}"
    );
    assert!(
        stderr.contains("task 1 was polled at step 3, simulated time 1.5s"),
        "{stderr}"
    );
    // A single run is not replayed by DETSIM_* variables: the report shows the code instead.
    assert!(
        stderr.contains("Builder::new().seed(0).scheduler(Replay::new(\"ds1."),
        "{stderr}"
    );
    assert!(!stderr.contains("DETSIM_SEED="), "{stderr}");
}

#[test]
fn the_variable_overrides_the_builder_and_is_checked() {
    let out = child("child_single_run_spins", &[("DETSIM_POLL_TIMEOUT", "0.2s")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("within 200ms"), "{stderr}");
    let out = child("child_single_run_spins", &[("DETSIM_POLL_TIMEOUT", "soon")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("DETSIM_POLL_TIMEOUT=\"soon\" is not valid: expected a positive duration"),
        "{stderr}"
    );
}

#[test]
fn runs_that_poll_promptly_are_untouched() {
    // A short limit on ordinary runs: the watchdog never fires between or within them.
    for _ in 0..50 {
        let r = Builder::new()
            .poll_timeout(Some(Duration::from_millis(50)))
            .run(async {
                let hs: Vec<_> = (0..10).map(|_| spawn(yield_now())).collect();
                for h in hs {
                    h.await.unwrap();
                }
            });
        assert!(r.is_ok());
    }
}

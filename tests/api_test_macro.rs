//! `#[detsim::test]`: an `async fn` test explored with `detsim::check`, its arguments, `Result`
//! bodies, and the replay line it prints (checked from a child process running this binary).

use std::cell::Cell;
use std::rc::Rc;

/// Three read–yield–write increments: a lost update under some schedules.
async fn lost_update() -> u32 {
    let n = Rc::new(Cell::new(0));
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let n = n.clone();
            detsim::spawn(async move {
                let v = n.get();
                detsim::yield_now().await;
                n.set(v + 1);
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    n.get()
}

#[detsim::test]
async fn a_correct_body_passes() {
    let n = Rc::new(Cell::new(0));
    let h = detsim::spawn({
        let n = n.clone();
        async move { n.set(n.get() + 1) }
    });
    h.await.unwrap();
    assert_eq!(n.get(), 1);
}

#[detsim::test(
    schedules = 50,
    strategy = "pct:2",
    seed = 9,
    max_steps = 10_000,
    jobs = 1
)]
async fn every_argument_is_accepted() {
    detsim::yield_now().await;
}

#[detsim::test(schedules = 20)]
async fn a_result_body_passes_on_ok() -> Result<(), String> {
    detsim::yield_now().await;
    Ok(())
}

#[detsim::test(schedules = 5)]
#[should_panic(expected = "the test returned Err: \"broken\"")]
async fn a_result_body_fails_on_err() -> Result<(), String> {
    Err("broken".into())
}

#[detsim::test(strategy = "random")]
#[should_panic(expected = "detsim found a failure")]
async fn a_bug_is_found() {
    assert_eq!(lost_update().await, 3, "lost update");
}

#[detsim::test(strategy = "no-such-strategy")]
#[should_panic(expected = "not a strategy")]
async fn a_bad_strategy_names_the_argument() {}

/// Runs `name` of this test binary in a child process, as a person pasting a line would.
fn run_child(name: &str, env: &[(&str, &str)]) -> (bool, String) {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new(exe);
    cmd.args(["--exact", name, "--nocapture", "--include-ignored"]);
    // The child is run by libtest, as a person would run it; nextest's variables (when this
    // binary runs under nextest) would name the parent test instead.
    for k in [
        "DETSIM_SEED",
        "DETSIM_SCHEDULE",
        "DETSIM_ITERATIONS",
        "DETSIM_STRATEGY",
        "NEXTEST_TEST_NAME",
        "NEXTEST_BINARY_ID",
    ] {
        cmd.env_remove(k);
    }
    cmd.envs(env.iter().copied());
    let out = cmd.output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

/// The child's test: the bug, without `should_panic`, so its report can be read. It runs the bug
/// only when `replay_lines_name_the_test_and_replay_it` starts it.
#[detsim::test(strategy = "random")]
async fn child_lost_update() {
    if std::env::var_os("DETSIM_API_TEST_MACRO_CHILD").is_none() {
        return;
    }
    assert_eq!(lost_update().await, 3, "lost update");
}

#[test]
fn replay_lines_name_the_test_and_replay_it() {
    let (ok, report) = run_child("child_lost_update", &[("DETSIM_API_TEST_MACRO_CHILD", "1")]);
    assert!(!ok, "{report}");
    let line = report
        .lines()
        .find(|l| l.trim_start().starts_with("DETSIM_SCHEDULE="))
        .unwrap_or_else(|| panic!("no replay line in:\n{report}"))
        .trim();
    assert!(
        line.ends_with("cargo test --test api_test_macro -- --exact child_lost_update"),
        "{line}"
    );
    let schedule = line
        .strip_prefix("DETSIM_SCHEDULE=")
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap();
    let (ok, replayed) = run_child(
        "child_lost_update",
        &[
            ("DETSIM_SCHEDULE", schedule),
            ("DETSIM_API_TEST_MACRO_CHILD", "1"),
        ],
    );
    assert!(!ok, "{replayed}");
    assert!(replayed.contains("lost update"), "{replayed}");
    assert!(replayed.contains("DETSIM_SCHEDULE"), "{replayed}");
}

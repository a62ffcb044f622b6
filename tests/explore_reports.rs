//! What an exploration tells the person running it: the test's own line in the report and the
//! panic, replays that say they are replays (no invented seed, no second shrinking), asyncio's
//! own order tried first, and the one summary line on stderr.

#[path = "common/lost_update.rs"]
mod lost_update;

use detsim::explore::{Schedule, Strategy};
use detsim::{Builder, yield_now};
// A lost update that asyncio's own order already shows: both tasks read 0 before either writes.
use lost_update::{correct, lost_update};

/// The line of this file holding `marker`, 1-based.
fn line_of(marker: &str) -> usize {
    let src = include_str!("explore_reports.rs");
    let hits: Vec<usize> = src
        .lines()
        .enumerate()
        .filter(|(_, l)| l.trim_end().ends_with(marker))
        .map(|(i, _)| i + 1)
        .collect();
    assert_eq!(hits.len(), 1, "marker {marker:?} must occur once");
    hits[0]
}

/// Runs `mode` of [`child`] in a child process and returns (success, stderr).
fn run_child(mode: &str, env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env("DETSIM_REPORTS_CHILD", mode);
    for key in [
        "DETSIM_SEED",
        "DETSIM_SCHEDULE",
        "DETSIM_STRATEGY",
        "DETSIM_ITERATIONS",
        "DETSIM_JOBS",
        "DETSIM_SHARD",
        "DETSIM_SHRINK",
        "DETSIM_CHECK_DETERMINISM",
    ] {
        cmd.env_remove(key);
    }
    cmd.env("DETSIM_PROGRESS", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The child side of the tests below: does what `DETSIM_REPORTS_CHILD` says, with the
/// environment the parent set.
#[test]
fn child() {
    let Ok(mode) = std::env::var("DETSIM_REPORTS_CHILD") else {
        return;
    };
    match mode.as_str() {
        "check" => detsim::check(lost_update), // CALL: check
        "builder-check" => Builder::new().check(lost_update), // CALL: builder
        "run" => detsim::run(lost_update()),   // CALL: run
        "pass" => detsim::check(correct),
        other => panic!("unknown child mode {other}"),
    }
}

#[test]
fn the_panic_names_the_tests_own_line() {
    for (mode, marker) in [
        ("check", "// CALL: check"),
        ("builder-check", "// CALL: builder"),
        ("run", "// CALL: run"),
    ] {
        let (ok, stderr) = run_child(mode, &[]);
        assert!(!ok, "{mode}: {stderr}");
        let at = format!("panicked at tests/explore_reports.rs:{}:", line_of(marker));
        assert!(stderr.contains(&at), "{mode}: expected {at:?} in\n{stderr}");
        assert!(!stderr.contains("panicked at src/"), "{mode}:\n{stderr}");
    }
    // A malformed variable is reported at the test's line too.
    let (ok, stderr) = run_child("check", &[("DETSIM_ITERATIONS", "lots")]);
    assert!(!ok);
    assert!(
        stderr.contains("DETSIM_ITERATIONS=\"lots\" is not valid"),
        "{stderr}"
    );
    let at = format!(
        "panicked at tests/explore_reports.rs:{}:",
        line_of("// CALL: check")
    );
    assert!(stderr.contains(&at), "{stderr}");
}

#[test]
fn the_report_names_the_line_that_started_the_exploration() {
    let b = Builder::new().ignore_env();
    let found = b.explore(lost_update).unwrap_err(); // CALL: explore
    let at = format!("tests/explore_reports.rs:{}:", line_of("// CALL: explore"));
    assert!(
        found.called_at.as_ref().unwrap().starts_with(&at),
        "{found}"
    );
    assert!(
        found.to_string().contains(&format!("  explored at: {at}")),
        "{found}"
    );
}

#[test]
fn asyncio_order_runs_first_in_the_default_strategy() {
    for jobs in [1, 2] {
        let found = Builder::new()
            .ignore_env()
            .jobs(jobs)
            .explore(lost_update)
            .unwrap_err();
        let report = found.to_string();
        assert_eq!(found.schedules_run, 1, "{report}");
        assert!(
            report.contains("strategy: Fifo, asyncio's own order (run first), after 1 run\n"),
            "{report}"
        );
        // Its schedule replays it; no seed does, so none is shown.
        assert!(!found.seed_replays);
        assert!(!report.contains("seed:"), "{report}");
        assert!(!report.contains("DETSIM_SEED="), "{report}");
        let again = Builder::new()
            .ignore_env()
            .replay_schedule(found.shrunk.clone())
            .explore(lost_update)
            .unwrap_err();
        assert!(again.to_string().contains("lost update"));
    }
    // A named strategy is left as it is.
    let found = Builder::new()
        .ignore_env()
        .strategy(Strategy::Random)
        .explore(lost_update)
        .unwrap_err();
    assert_eq!(found.index, Some(found.index.unwrap()));
    assert!(found.found_in.starts_with("schedule #"), "{found}");
}

#[test]
fn a_replayed_schedule_says_so_and_is_not_shrunk_again() {
    let found = Builder::new()
        .ignore_env()
        .strategy(Strategy::Random)
        .explore(lost_update)
        .unwrap_err();
    assert!(found.shrank);
    let given: Schedule = found.schedule.clone();
    let replay = Builder::new()
        .ignore_env()
        .replay_schedule(given.clone())
        .explore(lost_update)
        .unwrap_err();
    let report = replay.to_string();
    assert!(
        report.starts_with("detsim: the replayed schedule fails: panic in task 0"),
        "{report}"
    );
    assert!(
        report.contains(&format!("  replayed: {given} (")),
        "{report}"
    );
    assert!(
        report.contains("given by Builder::replay_schedule"),
        "{report}"
    );
    assert!(!report.contains("seed"), "{report}");
    assert!(!report.contains("replays spent shrinking"), "{report}");
    assert!(
        report.contains("not shrunk: a replay is not shrunk again"),
        "{report}"
    );
    assert!(
        report.contains(&format!("DETSIM_SCHEDULE={given} ")),
        "{report}"
    );
    assert_eq!((replay.shrink_runs, replay.shrank), (0, false));
    assert_eq!(replay.shrunk, given);
    // Asked to, it shrinks.
    let shrunk = Builder::new()
        .ignore_env()
        .replay_schedule(given.clone())
        .shrink(true)
        .explore(lost_update)
        .unwrap_err();
    assert!(shrunk.shrank);
    assert!(shrunk.to_string().contains("replays spent shrinking"));
    // A replayed seed shows its (real) seed and is not shrunk either.
    let by_seed = Builder::new()
        .ignore_env()
        .strategy(Strategy::Random)
        .replay_seed(found.seed)
        .explore(lost_update)
        .unwrap_err();
    let report = by_seed.to_string();
    assert!(
        report.contains(&format!("  seed: {}\n", found.seed)),
        "{report}"
    );
    assert!(report.contains("given by Builder::replay_seed"), "{report}");
    assert!(!by_seed.shrank, "{report}");
}

#[test]
fn a_replay_from_the_environment_names_the_variable() {
    let found = Builder::new()
        .ignore_env()
        .explore(lost_update)
        .unwrap_err();
    let (ok, stderr) = run_child("check", &[("DETSIM_SCHEDULE", &found.shrunk.to_string())]);
    assert!(!ok);
    assert!(
        stderr.contains("detsim: the replayed schedule fails"),
        "{stderr}"
    );
    assert!(stderr.contains("given by DETSIM_SCHEDULE"), "{stderr}");
    assert!(
        stderr.contains(
            "detsim: replay of the schedule given by DETSIM_SCHEDULE: 1 schedule run (1 distinct), "
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("seed: 0"), "{stderr}");
    assert!(!stderr.contains("replays spent shrinking"), "{stderr}");
    let (_, stderr) = run_child(
        "check",
        &[
            ("DETSIM_SCHEDULE", &found.shrunk.to_string()),
            ("DETSIM_SHRINK", "1"),
        ],
    );
    assert!(stderr.contains("replays spent shrinking"), "{stderr}");
}

#[test]
fn every_exploration_prints_one_summary_line() {
    let (ok, stderr) = run_child("pass", &[("DETSIM_ITERATIONS", "50")]);
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("detsim:"))
        .collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    let line = lines[0];
    assert!(
        line.starts_with("detsim: portfolio: 50 schedules run ("),
        "{line}"
    );
    assert!(line.contains(" distinct), "), "{line}");
    assert!(line.contains(" steps, no failure ["), "{line}");
    assert!(line.ends_with("s]"), "{line}");
    // An exhaustive search says what it covered.
    let (ok, stderr) = run_child(
        "pass",
        &[("DETSIM_STRATEGY", "dfs:1"), ("DETSIM_ITERATIONS", "10000")],
    );
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("detsim: dfs:1: ")
            && stderr.contains(" steps, Dfs (preemption bound): all ")
            && stderr.contains(" schedules within 1 preemption explored"),
        "{stderr}"
    );
    // A failure prints it too, before the report.
    let (_, stderr) = run_child("check", &[]);
    assert!(
        stderr.contains(
            "detsim: portfolio: 1 schedule run (1 distinct), 6 steps, a failure in asyncio's own order (run first)"
        ),
        "{stderr}"
    );
}

#[test]
fn the_summary_counts_distinct_schedules_and_steps() {
    // A program with no choice to make: every schedule is the same one.
    let s = Builder::new()
        .ignore_env()
        .schedules(20)
        .explore(|| async { yield_now().await })
        .unwrap();
    assert_eq!((s.schedules, s.distinct), (20, 1));
    // Two steps per run (poll, yield, poll), 20 runs.
    assert_eq!(s.steps, 40);
    let s = Builder::new()
        .ignore_env()
        .schedules(200)
        .explore(correct)
        .unwrap();
    assert!(s.distinct > 1 && s.distinct <= s.schedules, "{s:?}");
    // The text compared by tests and snapshots holds no wall time.
    assert_eq!(
        s.to_string(),
        "200 schedules of portfolio explored, no failure"
    );
}

#[test]
fn long_explorations_show_progress_on_stderr() {
    let (ok, stderr) = run_child(
        "pass",
        &[("DETSIM_ITERATIONS", "3000"), ("DETSIM_PROGRESS", "20ms")],
    );
    assert!(ok, "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("detsim: progress: "))
        .collect();
    assert!(!lines.is_empty(), "{stderr}");
    for line in &lines {
        // Plain lines (stderr is a pipe here): no carriage return, no terminal codes.
        assert!(!line.contains('\r') && !line.contains('\x1b'), "{line:?}");
        assert!(
            line.starts_with("detsim: progress: portfolio: ")
                && line.contains(" of 3,000 schedules run, ")
                && line.contains("/s, ")
                && line.ends_with("s elapsed"),
            "{line}"
        );
    }
    assert!(
        stderr.contains("detsim: portfolio: 3,000 schedules run ("),
        "{stderr}"
    );
    // Off is off, and a bad value is a clear error.
    let (ok, stderr) = run_child(
        "pass",
        &[("DETSIM_ITERATIONS", "300"), ("DETSIM_PROGRESS", "0")],
    );
    assert!(ok && !stderr.contains("detsim: progress:"), "{stderr}");
    let (ok, stderr) = run_child("pass", &[("DETSIM_PROGRESS", "sometimes")]);
    assert!(!ok);
    assert!(
        stderr.contains("DETSIM_PROGRESS=\"sometimes\" is not valid: expected `0`, `off`"),
        "{stderr}"
    );
}

#[test]
fn the_determinism_check_covers_asyncio_order_too() {
    use std::sync::atomic::{AtomicU64, Ordering};
    // Global state left over from the previous run: every run yields a different number of times.
    static RUNS: AtomicU64 = AtomicU64::new(0);
    let found = Builder::new()
        .ignore_env()
        .check_determinism(true)
        .explore(|| async {
            for _ in 0..RUNS.fetch_add(1, Ordering::Relaxed) % 2 {
                yield_now().await;
            }
        })
        .unwrap_err();
    let report = found.to_string();
    assert_eq!(
        found.found_in, "asyncio's own order (run first)",
        "{report}"
    );
    assert!(report.contains("NOT deterministic"), "{report}");
    assert!(
        !found.seed_replays && !report.contains("DETSIM_SEED="),
        "{report}"
    );
}

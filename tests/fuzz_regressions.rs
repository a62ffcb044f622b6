//! Replays every committed fuzz input under `fuzz/regressions/<target>/` through the same code
//! the fuzz target runs (`fuzz/src/*.rs`, shared through `#[path]`), and asserts its expected
//! outcome:
//!
//! * `bounded_buffer`: the program has a deliberate bug, and every committed input is a crash the
//!   fuzzer found — the replay must reproduce the overflow, and so must the `DETSIM_SCHEDULE`
//!   string the input converts to.
//! * `runtime`: every input must pass detsim's invariant checks (they are crashes once found and
//!   since fixed, or inputs kept for coverage).

#[allow(dead_code)]
#[path = "../fuzz/src/buffer.rs"]
mod buffer;
#[allow(dead_code)]
#[path = "../fuzz/src/program.rs"]
mod program;

use std::path::{Path, PathBuf};

use detsim::explore::{Schedule, Strategy};
use detsim::{Builder, FailureKind};

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort(); // read_dir order is the file system's: sort for a deterministic run
    files
        .into_iter()
        .map(|p| {
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect()
}

#[test]
fn bounded_buffer_regressions_reproduce_the_overflow() {
    let inputs = inputs("bounded_buffer");
    assert!(!inputs.is_empty(), "no committed bounded_buffer inputs");
    for (path, data) in inputs {
        let report = buffer::run_input(&data);
        let failure = report
            .output
            .expect_err(&format!("{} no longer fails", path.display()));
        let FailureKind::Panic { message, .. } = &failure.kind else {
            panic!("{}: {failure}", path.display());
        };
        assert!(message.starts_with(buffer::OVERFLOW), "{failure}");

        // The input's schedule string replays it through an ordinary exploration, as
        // `DETSIM_SCHEDULE=<it> cargo test ...` would.
        let schedule = Schedule::from_decisions(&report.decisions);
        let found = Builder::new()
            .ignore_env()
            .replay_schedule(schedule.to_string().parse().unwrap())
            .explore(|| async {
                buffer::program().await;
            })
            .expect_err("the schedule string does not replay the failure");
        assert!(found.to_string().contains(buffer::OVERFLOW), "{found}");
    }
}

#[test]
fn runtime_regressions_keep_the_invariants() {
    for (path, data) in inputs("runtime") {
        if let Err(v) = program::check_input(&data) {
            panic!("{}:\n{v}", path.display());
        }
    }
}

/// Under FIFO order (the empty input) the buffer program passes: the bug needs a preemption.
#[test]
fn bounded_buffer_passes_under_fifo() {
    assert_eq!(buffer::run_input(&[]).output.unwrap().len(), 4);
}

/// Replays a `bounded_buffer` crash from its schedule string: run with
/// `DETSIM_SCHEDULE=ds1.… cargo test --test fuzz_regressions bounded_buffer_under_check`, as
/// printed by `cargo run --example fuzz_input_to_schedule -- bounded_buffer <file>`. Without the
/// variable, detsim's own exploration finds the same bug. (Random, and a small step limit: the
/// buffer busy-waits with yields, which a priority-based strategy can starve into a livelock.)
#[test]
fn bounded_buffer_under_check() {
    let found = Builder::new()
        .strategy(Strategy::Random)
        .max_steps(2_000)
        .explore(|| async {
            buffer::program().await;
        })
        .expect_err("the overflow is found");
    assert!(found.to_string().contains(buffer::OVERFLOW), "{found}");
}

//! The proptest twin of the `runtime` fuzz target: random programs and schedules from the same
//! decoder (`fuzz/src/program.rs`), checked against detsim's own invariants — no panic inside
//! detsim, every task accounted for, the same input giving the same events, the schedule string
//! replaying the run, and every reported deadlock being real.
//!
//! It runs a fixed number of cases from a fixed seed (`PROPTEST_RNG_SEED`/`PROPTEST_CASES`
//! override), so a plain `cargo test` is deterministic.

#[allow(dead_code)]
#[path = "../fuzz/src/program.rs"]
mod program;

use program::{Op, Program, Verdict, check_input};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

fn config() -> Config {
    let mut c = Config::with_cases(400);
    if std::env::var_os("PROPTEST_RNG_SEED").is_none() {
        c.rng_seed = RngSeed::Fixed(0x5eed);
    }
    c.failure_persistence = None;
    c
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_runtime_keeps_its_invariants(data in proptest::collection::vec(any::<u8>(), 0..200)) {
        if let Err(v) = check_input(&data) {
            prop_assert!(false, "{}", v);
        }
    }
}

#[test]
fn the_empty_input_is_a_main_task_that_yields() {
    assert_eq!(
        Program::decode(&[]).0,
        Program {
            bodies: vec![vec![Op::Yield]],
            join_at_end: false,
            extended: false,
        }
    );
    assert_eq!(check_input(&[]).unwrap(), Verdict::Finished);
}

#[test]
fn decoding_is_pinned() {
    // Committed regression inputs depend on this mapping: never change it casually.
    // header 6: two bodies, join at the end; main: 2 ops (spawn body 1, timeout 20 ms on
    // mutex 1); body 1: 1 op (send on channel 1); the rest is the schedule.
    let (p, used) = Program::decode(&[6, 1, 3, 0, 28, 2, 1, 1, 1, 22, 1, 9, 9]);
    assert_eq!(used, 11);
    assert_eq!(
        p,
        Program {
            bodies: vec![
                vec![Op::Spawn(1), Op::Timeout(2, Box::new(Op::Lock(1)))],
                vec![Op::Send(1)],
            ],
            join_at_end: true,
            extended: false,
        }
    );
}

#[test]
fn the_checker_sees_real_deadlocks_and_panics() {
    // Two tasks take the two mutexes in opposite orders, with a yield in between.
    // main: spawn body 1, lock 0, yield, lock 1; body 1: lock 1, yield, lock 0 (see `decode`).
    let mut verdicts = std::collections::BTreeSet::new();
    for schedule in 0u8..=255 {
        let mut data = vec![1, 3, 3, 0, 18, 0, 0, 18, 1, 3, 18, 1, 0, 18, 0];
        data.push(schedule);
        data.push(schedule.rotate_left(3));
        verdicts.insert(format!("{:?}", check_input(&data).unwrap()));
    }
    assert!(verdicts.contains("Deadlock"), "{verdicts:?}");
    assert!(verdicts.contains("Finished"), "{verdicts:?}");
    // A deliberate panic in a task is a user panic, not a violation: main joins it and finishes.
    assert_eq!(
        check_input(&[6, 0, 3, 0, 1, 27]).unwrap(),
        Verdict::Finished
    );
}

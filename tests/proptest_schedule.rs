//! `detsim::proptest`: schedules as proptest values. A bug that FIFO misses is found, shrunk
//! towards FIFO, printed with a `ds1.` string that replays it, and persisted by proptest so that
//! the next run replays it first.

use std::cell::Cell;
use std::rc::Rc;

use detsim::explore::Schedule;
use detsim::proptest::{Interleaving, run, schedule};
use detsim::{Builder, yield_now};
use proptest::test_runner::{Config, FileFailurePersistence, RngSeed, TestError, TestRunner};

/// A lost update that needs a preemption: the second task does other work first, so FIFO
/// serialises the two read–yield–write sections.
async fn late_lost_update(extra: u32) {
    let n = Rc::new(Cell::new(0));
    let (a, b) = (n.clone(), n.clone());
    let t1 = detsim::spawn(async move {
        let v = a.get();
        yield_now().await;
        a.set(v + 1);
    });
    let t2 = detsim::spawn(async move {
        for _ in 0..2 + extra {
            yield_now().await;
        }
        let v = b.get();
        yield_now().await;
        b.set(v + 1);
    });
    t1.await.unwrap();
    t2.await.unwrap();
    assert_eq!(n.get(), 2, "lost update");
}

fn runner(seed: u64, cases: u32, persistence: Option<&'static str>) -> TestRunner {
    let mut c = Config::with_cases(cases);
    c.rng_seed = RngSeed::Fixed(seed);
    c.failure_persistence =
        persistence.map(|p| Box::new(FileFailurePersistence::Direct(p)) as Box<_>);
    TestRunner::new(c)
}

fn property(runner: &mut TestRunner) -> Result<(), TestError<(u32, Interleaving)>> {
    runner.run(&(0u32..3, schedule()), |(extra, s)| {
        run(&s, late_lost_update(extra))?;
        Ok(())
    })
}

#[test]
fn fifo_passes_and_proptest_finds_and_shrinks_the_bug() {
    assert!(run(&Interleaving::default(), late_lost_update(0)).is_ok());
    let Err(TestError::Fail(reason, (extra, s))) = property(&mut runner(7, 1000, None)) else {
        panic!("the lost update was not found");
    };
    // Shrunk together: the smallest input, and an interleaving close to FIFO.
    assert_eq!(extra, 0, "{reason}");
    assert!(s.preemptions() <= 2, "{s:?}\n{reason}");
    let reason = reason.to_string();
    assert!(reason.contains("lost update"), "{reason}");

    // The printed schedule string replays the failure in a detsim::check-style test.
    let text = reason
        .split_whitespace()
        .find(|w| w.starts_with("ds1."))
        .expect("a schedule string in the message");
    let schedule: Schedule = text.parse().unwrap();
    let found = Builder::new()
        .ignore_env()
        .replay_schedule(schedule)
        .explore(|| late_lost_update(extra))
        .unwrap_err();
    assert!(found.to_string().contains("lost update"), "{found}");
}

#[test]
fn the_regressions_file_replays_the_failure_first() {
    let path = concat!(
        env!("CARGO_TARGET_TMPDIR"),
        "/proptest_schedule.regressions"
    );
    let _ = std::fs::remove_file(path);
    assert!(property(&mut runner(7, 1000, Some(path))).is_err());
    let saved = std::fs::read_to_string(path).unwrap();
    assert!(saved.lines().any(|l| l.starts_with("cc ")), "{saved}");

    // One case from a seed that on its own finds nothing...
    let quiet = (100..200)
        .find(|&seed| property(&mut runner(seed, 1, None)).is_ok())
        .expect("a seed whose first case passes");
    // ...still fails with the regressions file: proptest replays the persisted case first.
    let Err(TestError::Fail(reason, _)) = property(&mut runner(quiet, 1, Some(path))) else {
        panic!("the persisted failure was not replayed");
    };
    assert!(reason.to_string().contains("lost update"));
}

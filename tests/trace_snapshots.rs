//! Snapshot tests of the seed examples' traces under fixed seeds (`snapshots/` at the crate root).
//!
//! A changed trace fails here; review with `cargo insta review`, accept with `cargo insta accept`.
#![cfg(feature = "snapshots")]

use std::cell::RefCell;
use std::rc::Rc;

use detsim::scheduler::Random;
use detsim::task::Builder as Task;
use detsim::time::{Duration, sleep};
use detsim::{Builder, FailureKind, assert_trace_snapshot};

/// "Colour a picture while reading a story": two tasks, yields and a sleep.
async fn colour_and_read() -> Vec<&'static str> {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (a, b) = (log.clone(), log.clone());
    let colour = Task::new().name("colour").spawn(async move {
        a.borrow_mut().push("colour 1");
        detsim::yield_now().await;
        a.borrow_mut().push("colour 2");
        detsim::yield_now().await;
        a.borrow_mut().push("colour 3");
    });
    let read = Task::new().name("read").spawn(async move {
        b.borrow_mut().push("read 1");
        sleep(Duration::from_millis(500)).await;
        b.borrow_mut().push("read 2");
    });
    colour.await.unwrap();
    read.await.unwrap();
    log.take()
}

#[test]
fn colour_and_read_fifo() {
    let report = Builder::new().record().run_report(colour_and_read());
    report.output.unwrap();
    assert_trace_snapshot!("colour_and_read_fifo", report.trace);
}

#[test]
fn colour_and_read_random_seed_7() {
    let report = Builder::new()
        .seed(7)
        .scheduler(Random::new())
        .record()
        .run_report(colour_and_read());
    report.output.unwrap();
    assert_trace_snapshot!("colour_and_read_random_seed_7", report.trace);
}

/// Two tasks take two locks in opposite orders (`futures::lock::Mutex` until detsim's `Lock`).
async fn opposite_lock_order() {
    let a = Rc::new(futures::lock::Mutex::new(()));
    let b = Rc::new(futures::lock::Mutex::new(()));
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a, b);
    let t1 = Task::new().name("a then b").spawn(async move {
        let _ga = a1.lock().await;
        detsim::yield_now().await;
        let _gb = b1.lock().await;
    });
    let t2 = Task::new().name("b then a").spawn(async move {
        let _gb = b2.lock().await;
        detsim::yield_now().await;
        let _ga = a2.lock().await;
    });
    t1.await.unwrap();
    t2.await.unwrap();
}

#[test]
fn deadlock_fifo() {
    let failure = Builder::new()
        .record()
        .run(opposite_lock_order())
        .unwrap_err();
    assert!(matches!(failure.kind, FailureKind::Deadlock { .. }));
    assert_trace_snapshot!("deadlock_fifo", failure.trace);
}

/// Spawn, join and cancel: a child that spawns a grandchild, a sleeper that is cancelled.
async fn spawn_join_cancel() -> (u32, bool) {
    let quick = Task::new().name("quick").spawn(async {
        let grandchild = Task::new().name("grandchild").spawn(async { 20 });
        grandchild.await.unwrap() + 1
    });
    let sleeper = Task::new().name("sleeper").spawn(async {
        sleep(Duration::from_secs(10)).await;
        "never"
    });
    let n = quick.await.unwrap();
    sleep(Duration::from_secs(1)).await;
    sleeper.cancel();
    let cancelled = sleeper.await.unwrap_err().is_cancelled();
    (n, cancelled)
}

#[test]
fn spawn_join_cancel_fifo() {
    let report = Builder::new().record().run_report(spawn_join_cancel());
    assert_eq!(report.output.unwrap(), (21, true));
    assert_trace_snapshot!("spawn_join_cancel_fifo", report.trace);
}

#[test]
fn spawn_join_cancel_random_seed_3() {
    let report = Builder::new()
        .seed(3)
        .scheduler(Random::new())
        .record()
        .run_report(spawn_join_cancel());
    assert_eq!(report.output.unwrap(), (21, true));
    assert_trace_snapshot!("spawn_join_cancel_random_seed_3", report.trace);
}

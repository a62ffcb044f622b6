//! Snapshot tests of the seed examples' traces under fixed seeds (`snapshots/` at the crate root).
//!
//! A changed trace fails here; review with `cargo insta review`, accept with `cargo insta accept`.
#![cfg(feature = "snapshots")]

use std::cell::RefCell;
use std::rc::Rc;

use detsim::scheduler::Random;
use detsim::sync::{Lock, Mutex};
use detsim::task::Builder as Task;
use detsim::task_group::{ChildFailure, task_group};
use detsim::time::{Duration, now, sleep};
use detsim::{Builder, FailureKind, assert_trace_snapshot, gather};

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

/// Two tasks take two named detsim locks in opposite orders: the classic deadlock.
async fn opposite_lock_order() {
    let a = Lock::named("account a");
    let b = Lock::named("account b");
    let (a1, b1, a2, b2) = (a.clone(), b.clone(), a, b);
    let t1 = Task::new().name("transfer a->b").spawn(async move {
        let _ga = a1.acquire().await;
        detsim::yield_now().await;
        let _gb = b1.acquire().await;
    });
    let t2 = Task::new().name("transfer b->a").spawn(async move {
        let _gb = b2.acquire().await;
        detsim::yield_now().await;
        let _ga = a2.acquire().await;
    });
    t1.await.unwrap();
    t2.await.unwrap();
}

#[test]
fn lock_deadlock_fifo() {
    let failure = Builder::new()
        .record()
        .run(opposite_lock_order())
        .unwrap_err();
    assert!(matches!(failure.kind, FailureKind::Deadlock { .. }));
    assert_trace_snapshot!("lock_deadlock_fifo", failure.trace);
}

/// The deadlock report, top to bottom: who waits for what and who holds it, the cycle, and for
/// each blocked task the lock operation of the other task that it ran into.
#[test]
fn lock_deadlock_report_explains_each_wait() {
    let failure = Builder::new()
        .record()
        .run(opposite_lock_order())
        .unwrap_err();
    let report = failure.to_string();
    let expected = r#"detsim: deadlock at step 5, simulated time 0s
  no task can run and no timer is pending, but the main future has not finished
    task 0 "main" waits for task 1 "transfer a->b" to finish
    task 1 "transfer a->b" waits for Lock "account b" held by task 2 "transfer b->a"
    task 2 "transfer b->a" waits for Lock "account a" held by task 1 "transfer a->b"
  wait-for cycle: task 1 "transfer a->b" -> task 2 "transfer b->a" -> task 1 "transfer a->b"
  how each blocked task came to wait:
    task 0 "main":
      step 1 @0s task 0 "main": poll
      step 1 @0s task 0 "main": spawn task 1 "transfer a->b"
      step 1 @0s task 0 "main": spawn task 2 "transfer b->a"
      step 1 @0s task 0 "main": block on task 1 "transfer a->b" to finish
    task 1 "transfer a->b":
      step 3 @0s task 2 "transfer b->a": acquire Lock #1 "account b"
      step 4 @0s task 1 "transfer a->b": poll
      step 4 @0s task 1 "transfer a->b": block on Lock #1 "account b"
    task 2 "transfer b->a":
      step 2 @0s task 1 "transfer a->b": acquire Lock #0 "account a"
      step 5 @0s task 2 "transfer b->a": poll
      step 5 @0s task 2 "transfer b->a": block on Lock #0 "account a"
  seed: 0   scheduler: Fifo
  decisions (3): t1(0/2) t2(0/2) t1(0/2)
  last 24 events:
    step 1 @0s task 0 "main": poll
"#;
    assert!(report.starts_with(expected), "{report}");
    // The tail ends with the shutdown that drops both transfers, releasing their locks.
    assert!(
        report.ends_with(
            r#"    step 5 @0s runtime: shutdown: dropping the tasks still alive
    step 5 @0s task 1 "transfer a->b": release Lock #0 "account a"
    step 5 @0s task 1 "transfer a->b": wake waiters of Lock #0 "account a"
    step 5 @0s task 1 "transfer a->b": wake task 2 "transfer b->a"
    step 5 @0s task 2 "transfer b->a": release Lock #1 "account b"
"#
        ),
        "{report}"
    );
}

/// A ring that keeps only the last events explains the waits as far as it can see: here the
/// acquire of "account b" is still in the ring, the acquire of "account a" is not.
#[test]
fn lock_deadlock_report_from_a_ring() {
    let failure = Builder::new()
        .record_last(14)
        .run(opposite_lock_order())
        .unwrap_err();
    let report = failure.to_string();
    assert!(
        report.contains(
            r#"  how each blocked task came to wait:
    task 1 "transfer a->b":
      step 3 @0s task 2 "transfer b->a": acquire Lock #1 "account b"
      step 4 @0s task 1 "transfer a->b": poll
      step 4 @0s task 1 "transfer a->b": block on Lock #1 "account b"
    task 2 "transfer b->a":
      step 5 @0s task 2 "transfer b->a": poll
      step 5 @0s task 2 "transfer b->a": block on Lock #0 "account a"
  seed: 0"#
        ),
        "{report}"
    );
    assert!(report.contains("  last 14 events:\n"), "{report}");
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

/// Three tasks pass one named `Lock` along, each holding it across a yield: every hand-off is a
/// release, a wake of the next waiter and that waiter's acquire.
async fn lock_handoff() -> Vec<&'static str> {
    let lock = Lock::named("counter");
    let log = Rc::new(RefCell::new(Vec::new()));
    let hs: Vec<_> = ["alice", "bob", "carol"]
        .into_iter()
        .map(|name| {
            let (lock, log) = (lock.clone(), log.clone());
            Task::new().name(name).spawn(async move {
                let _held = lock.acquire().await;
                log.borrow_mut().push(name);
                detsim::yield_now().await;
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    log.take()
}

#[test]
fn lock_handoff_fifo() {
    let report = Builder::new().record().run_report(lock_handoff());
    assert_eq!(report.output.unwrap(), ["alice", "bob", "carol"]);
    let text = report.trace.to_string();
    for line in [
        r#"task 1 "alice": acquire Lock #0 "counter""#,
        r#"task 2 "bob": block on Lock #0 "counter""#,
        r#"task 1 "alice": release Lock #0 "counter""#,
        r#"task 1 "alice": wake waiters of Lock #0 "counter""#,
        r#"task 1 "alice": wake task 2 "bob""#,
        r#"task 2 "bob": acquire Lock #0 "counter""#,
    ] {
        assert!(text.contains(line), "{line}\n{text}");
    }
    assert_trace_snapshot!("lock_handoff_fifo", report.trace);
}

#[test]
fn lock_handoff_random_seed_5() {
    let report = Builder::new()
        .seed(5)
        .scheduler(Random::new())
        .record()
        .run_report(lock_handoff());
    assert_eq!(report.output.unwrap().len(), 3);
    assert_trace_snapshot!("lock_handoff_random_seed_5", report.trace);
}

/// `gather` over three sleepers that add to a named `Mutex`: outputs in argument order, the
/// children finishing in time order.
async fn gather_into_mutex() -> (Vec<u32>, u32) {
    let total = Rc::new(Mutex::named(0u32, "total"));
    let work = |ms: u64, n: u32| {
        let total = total.clone();
        async move {
            sleep(Duration::from_millis(ms)).await;
            *total.lock().await += n;
            n
        }
    };
    let out = gather([work(300, 1), work(100, 2), work(200, 3)])
        .await
        .unwrap();
    let sum = *total.lock().await;
    (out, sum)
}

#[test]
fn gather_fifo() {
    let report = Builder::new().record().run_report(gather_into_mutex());
    assert_eq!(report.output.unwrap(), (vec![1, 2, 3], 6));
    assert_trace_snapshot!("gather_fifo", report.trace);
}

#[test]
fn gather_random_seed_11() {
    let report = Builder::new()
        .seed(11)
        .scheduler(Random::new())
        .record()
        .run_report(gather_into_mutex());
    assert_eq!(report.output.unwrap(), (vec![1, 2, 3], 6));
    assert_trace_snapshot!("gather_random_seed_11", report.trace);
}

/// A task group whose first child fails at 0.1s: its two sleeping siblings and the body are
/// cancelled, and the group returns the one error.
async fn group_with_failing_child() -> Vec<ChildFailure<&'static str>> {
    let r = task_group(|g| async move {
        g.spawn(async {
            sleep(Duration::from_millis(100)).await;
            Err::<(), _>("boom")
        })
        .unwrap();
        for secs in [1, 2] {
            g.spawn(async move {
                sleep(Duration::from_secs(secs)).await;
                Ok(())
            })
            .unwrap();
        }
        sleep(Duration::from_secs(10)).await;
        Ok(())
    })
    .await;
    assert_eq!(now().to_string(), "0.1s");
    r.unwrap_err().into_errors()
}

#[test]
fn task_group_failing_child_fifo() {
    let report = Builder::new()
        .record()
        .run_report(group_with_failing_child());
    assert_eq!(report.output.unwrap(), [ChildFailure::Error("boom")]);
    let text = report.trace.to_string();
    assert_eq!(text.matches(": cancelled\n").count(), 2, "{text}");
    assert_trace_snapshot!("task_group_failing_child_fifo", report.trace);
}

#[test]
fn task_group_failing_child_random_seed_2() {
    let report = Builder::new()
        .seed(2)
        .scheduler(Random::new())
        .record()
        .run_report(group_with_failing_child());
    assert_eq!(report.output.unwrap(), [ChildFailure::Error("boom")]);
    assert_trace_snapshot!("task_group_failing_child_random_seed_2", report.trace);
}

//! The simulated API (`detsim_tokio::sim`, the crate root under `--cfg detsim`), exercised in a
//! plain build: `select!` decisions, tasks and their errors, `JoinSet`, `LocalSet`, the runtime
//! facade, tokio's own sync and io on detsim, and the unsimulated modules' messages.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use detsim::explore::Strategy;
use detsim::scheduler::Fifo;
use detsim_tokio::sim::{self, select, task, time};

fn fifo<T>(fut: impl std::future::Future<Output = T>) -> T {
    detsim::Builder::new()
        .scheduler(Fifo::new())
        .fail_on_task_panic(false)
        .run(fut)
        .unwrap()
}

/// Two branches ready at once: which one wins is the start-branch decision.
async fn race() -> u32 {
    select! {
        _ = std::future::ready(()) => 0,
        _ = std::future::ready(()) => 1,
    }
}

#[test]
fn unbiased_select_order_is_an_explored_replayed_and_shrunk_decision() {
    let found = detsim::Builder::new()
        .ignore_env()
        .strategy(Strategy::Random)
        .explore(|| async {
            assert_eq!(race().await, 0, "the second branch won");
        })
        .unwrap_err();
    assert!(found.to_string().contains("the second branch won"));
    // The shrunk schedule is one random decision, as small as still picks branch 1.
    assert_eq!(
        found.failure.decisions.len(),
        1,
        "{:?}",
        found.failure.decisions
    );
    assert!(matches!(
        found.failure.decisions[0],
        detsim::scheduler::Decision::Random(_)
    ));
    // Replaying the shrunk schedule picks the second branch again, every time.
    for _ in 0..3 {
        let again = detsim::Builder::new()
            .ignore_env()
            .replay_schedule(found.shrunk.clone())
            .explore(|| async {
                assert_eq!(race().await, 0, "the second branch won");
            })
            .unwrap_err();
        assert!(again.to_string().contains("the second branch won"));
        assert!(matches!(
            again.failure.decisions[..],
            [detsim::scheduler::Decision::Random(_)]
        ));
    }
}

#[test]
fn the_zero_decision_is_declaration_order() {
    // An all-zero schedule (the shrinker's target) polls the branches in the order written.
    let zero: detsim::explore::Schedule = "ds1.xZ0cgQ".parse().unwrap();
    let summary = detsim::Builder::new()
        .ignore_env()
        .replay_schedule(zero)
        .explore(|| async { assert_eq!(race().await, 0) })
        .unwrap();
    assert_eq!(summary.schedules, 1);
}

#[test]
fn biased_select_and_a_single_branch_draw_no_decision() {
    let report = detsim::Builder::new().run_report(async {
        let a = select! {
            biased;
            _ = std::future::ready(()) => 0,
            _ = std::future::ready(()) => 1,
        };
        let b = select! { v = async { 7 } => v };
        (a, b)
    });
    assert_eq!(report.output.unwrap(), (0, 7));
    assert!(report.decisions.is_empty(), "{:?}", report.decisions);
}

#[test]
fn every_branch_is_reached_by_exploration() {
    let seen = std::sync::Mutex::new([false; 3]);
    detsim::Builder::new()
        .ignore_env()
        .schedules(200)
        .strategy(Strategy::Random)
        .check(|| async {
            let w = select! {
                _ = std::future::ready(()) => 0,
                _ = std::future::ready(()) => 1,
                _ = std::future::ready(()) => 2,
            };
            seen.lock().unwrap()[w] = true;
        });
    assert_eq!(*seen.lock().unwrap(), [true; 3]);
}

#[test]
fn disabled_branches_and_else() {
    fifo(async {
        let r = select! {
            _ = std::future::ready(()), if false => "a",
            _ = std::future::ready(()), if false => "b",
            else => "else",
        };
        assert_eq!(r, "else");
    });
}

#[test]
#[should_panic(expected = "all branches are disabled and there is no else branch")]
fn all_disabled_without_else_panics() {
    fifo(async {
        select! {
            _ = std::future::ready(()), if false => {},
            _ = std::future::ready(()), if false => {},
        }
    });
}

#[test]
fn join_handle_id_abort_handle_and_join_error() {
    fifo(async {
        let h = task::spawn(async { 5 });
        let id = h.id();
        assert_eq!(task::try_id().map(|i| i.to_string()), Some("0".into()));
        let inner = task::spawn(async { task::id() });
        assert_eq!(inner.await.unwrap().to_string(), "2");
        assert!(h.is_finished());
        assert_eq!(h.await.unwrap(), 5);
        assert_eq!(id.to_string(), "1");

        let sleeper = task::spawn(time::sleep(Duration::from_secs(1)));
        let a = sleeper.abort_handle();
        a.abort();
        let e = sleeper.await.unwrap_err();
        assert!(e.is_cancelled() && !e.is_panic());
        assert!(a.is_finished());
        assert_eq!(e.to_string(), "task 3 was cancelled");

        let p = task::spawn(async { panic!("kaboom") });
        let e: task::JoinError = p.await.unwrap_err();
        assert!(e.is_panic());
        let payload = e.into_panic();
        assert_eq!(payload.downcast_ref::<String>().unwrap(), "kaboom");
    });
}

#[test]
fn abort_does_not_travel_to_what_the_task_awaits() {
    fifo(async {
        let done = Rc::new(Cell::new(false));
        let inner = task::spawn({
            let done = done.clone();
            async move {
                time::sleep(Duration::from_millis(10)).await;
                done.set(true);
            }
        });
        let outer = task::spawn(async move { inner.await.unwrap() });
        task::yield_now().await;
        outer.abort();
        assert!(outer.await.unwrap_err().is_cancelled());
        time::sleep(Duration::from_millis(20)).await;
        assert!(done.get(), "the awaited task ran on");
    });
}

#[test]
fn spawn_blocking_spawn_local_and_local_set() {
    fifo(async {
        assert_eq!(task::spawn_blocking(|| 2 + 2).await.unwrap(), 4);
        let rc = Rc::new(5); // not Send
        assert_eq!(task::spawn_local(async move { *rc }).await.unwrap(), 5);
        let local = task::LocalSet::new();
        let seen = Rc::new(Cell::new(0));
        for _ in 0..3 {
            let seen = seen.clone();
            local.spawn_local(async move {
                time::sleep(Duration::from_millis(5)).await;
                seen.set(seen.get() + 1);
            });
        }
        local.await;
        assert_eq!(seen.get(), 3);
    });
}

#[test]
fn join_set_detach_len_and_drop_aborts() {
    fifo(async {
        let ran = Rc::new(Cell::new(0));
        let mut set = task::JoinSet::new();
        for _ in 0..2 {
            let ran = ran.clone();
            set.spawn(async move {
                time::sleep(Duration::from_millis(10)).await;
                ran.set(ran.get() + 1);
            });
        }
        assert_eq!(set.len(), 2);
        set.detach_all();
        assert!(set.is_empty());
        assert!(set.join_next().await.is_none());
        let mut dropped = task::JoinSet::new();
        let r = ran.clone();
        dropped.spawn(async move {
            time::sleep(Duration::from_millis(10)).await;
            r.set(r.get() + 100);
        });
        drop(dropped);
        time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            ran.get(),
            2,
            "detached tasks ran, the dropped set's task was aborted"
        );
    });
}

tokio::task_local! {
    static REQUEST: u32;
}

#[test]
fn task_local_and_tokio_sync_and_io_run_on_detsim() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    fifo(async {
        let v = REQUEST
            .scope(7, async {
                task::yield_now().await;
                REQUEST.get()
            })
            .await;
        assert_eq!(v, 7);

        let (tx, mut rx) = tokio::sync::mpsc::channel(1);
        task::spawn(async move {
            for i in 0..3 {
                tx.send(i).await.unwrap();
            }
        });
        let mut got = Vec::new();
        while let Some(i) = rx.recv().await {
            got.push(i);
        }
        assert_eq!(got, [0, 1, 2]);

        let (mut a, mut b) = sim::io::duplex(8);
        task::spawn(async move { a.write_all(b"hello, detsim").await.unwrap() });
        let mut s = String::new();
        b.read_to_string(&mut s).await.unwrap();
        assert_eq!(s, "hello, detsim");
    });
}

#[test]
fn runtime_builder_block_on_and_handle() {
    let rt = sim::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    assert!(sim::runtime::Handle::try_current().is_err());
    let out = rt.block_on(async {
        let h = sim::runtime::Handle::current().spawn(async { 1 });
        let start = time::Instant::now();
        time::sleep(Duration::from_secs(3600)).await;
        (h.await.unwrap(), start.elapsed())
    });
    assert_eq!(out, (1, Duration::from_secs(3600)));
}

#[test]
#[should_panic(expected = "Cannot start a runtime from within a runtime")]
fn block_on_does_not_nest() {
    let rt = sim::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        sim::runtime::Runtime::new().unwrap().block_on(async {});
    });
}

#[test]
#[should_panic(expected = "tokio::spawn: there is no reactor running")]
fn spawn_outside_a_run_says_where_to_call_it() {
    drop(task::spawn(async {}));
}

#[test]
#[should_panic(
    expected = "tokio::net::TcpListener::bind is not simulated by detsim-tokio under --cfg detsim"
)]
fn net_is_not_simulated_and_says_so() {
    fifo(async {
        let _ = sim::net::TcpListener::bind("127.0.0.1:0").await;
    });
}

#[test]
fn every_unsimulated_entry_point_suggests_duplex() {
    for (api, fut) in [
        (
            "tokio::fs::read_to_string",
            Box::pin(async {
                let _ = sim::fs::read_to_string("x").await;
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
        ),
        (
            "tokio::process::Command::output",
            Box::pin(async {
                let _ = sim::process::Command::new("true").arg("x").output().await;
            }),
        ),
        (
            "tokio::signal::ctrl_c",
            Box::pin(async {
                let _ = sim::signal::ctrl_c().await;
            }),
        ),
        (
            "tokio::net::TcpStream::connect",
            Box::pin(async {
                let _ = sim::net::TcpStream::connect("127.0.0.1:1").await;
            }),
        ),
    ] {
        let failure = detsim::Builder::new().run(fut).unwrap_err();
        let text = failure.to_string();
        assert!(text.contains(&format!("{api} is not simulated")), "{text}");
        assert!(text.contains("tokio::io::duplex"), "{text}");
    }
}

#[test]
fn instant_arithmetic_is_simulated() {
    fifo(async {
        let start = time::Instant::now();
        let early = start - Duration::from_secs(3600); // before the run: fine
        assert_eq!(start.duration_since(early), Duration::from_secs(3600));
        assert_eq!(early.checked_duration_since(start), None);
        assert_eq!(early.saturating_duration_since(start), Duration::ZERO);
        assert_eq!(
            start.checked_add(Duration::from_millis(5)).unwrap() - start,
            Duration::from_millis(5)
        );
        time::sleep(Duration::from_millis(3)).await;
        assert_eq!(start.elapsed(), Duration::from_millis(3));
        time::pause();
        time::resume();
        assert_eq!(start.elapsed(), Duration::from_millis(3));
    });
}

#[test]
#[should_panic(expected = "`period` must be non-zero.")]
fn a_zero_interval_panics_as_tokio_does() {
    fifo(async {
        time::interval(Duration::ZERO);
    });
}

#[test]
fn interval_sleep_and_timeout_accessors() {
    fifo(async {
        let start = time::Instant::now();
        let mut every = time::interval(Duration::from_millis(10));
        assert_eq!(
            every.missed_tick_behavior(),
            time::MissedTickBehavior::Burst
        );
        every.set_missed_tick_behavior(time::MissedTickBehavior::Skip);
        assert_eq!(every.missed_tick_behavior(), time::MissedTickBehavior::Skip);
        every.tick().await;
        every.reset_immediately();
        assert_eq!(every.tick().await, start);
        every.reset_at(start + Duration::from_millis(3));
        assert_eq!(every.tick().await - start, Duration::from_millis(3));

        // A completed sleep stays complete.
        let mut s = Box::pin(time::sleep(Duration::from_millis(2)));
        s.as_mut().await;
        assert!(s.is_elapsed());
        s.as_mut().await;

        let mut t = time::timeout(Duration::from_millis(1), std::future::ready(3));
        assert_eq!(t.get_mut().await, 3);
        let t = time::timeout(Duration::from_millis(1), std::future::ready(4));
        assert_eq!(t.get_ref().clone().await, 4);
        assert_eq!(t.into_inner().await, 4);
        let e = time::timeout(Duration::ZERO, std::future::pending::<()>())
            .await
            .unwrap_err();
        assert_eq!(e.to_string(), "deadline has elapsed");
        assert_eq!(std::io::Error::from(e).kind(), std::io::ErrorKind::TimedOut);
    });
}

//! Differential tests: each time-driven program is written once against a runtime named `rt`,
//! and instantiated twice — on real tokio (current-thread, `start_paused = true`) and on
//! detsim-tokio's simulation under detsim's `Fifo` scheduler. Both must log the same
//! `(simulated time, event)` sequence.

use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An event log stamped with the runtime's own clock, shared by a program's tasks.
#[derive(Clone)]
struct Log {
    entries: Arc<Mutex<Vec<String>>>,
    elapsed: Arc<dyn Fn() -> Duration + Send + Sync>,
}

impl Log {
    fn new(elapsed: impl Fn() -> Duration + Send + Sync + 'static) -> Log {
        Log {
            entries: Arc::default(),
            elapsed: Arc::new(elapsed),
        }
    }

    fn ev(&self, event: impl std::fmt::Display) {
        let t = (self.elapsed)();
        self.entries
            .lock()
            .unwrap()
            .push(format!("{:>9?} {event}", t));
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.entries.lock().unwrap())
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Instantiates every program on both runtimes and a `#[test]` comparing their logs.
macro_rules! differential {
    ($( $(#[$doc:meta])* fn $name:ident($log:ident) $body:block )*) => {
        mod on_tokio {
            #![allow(unused_imports, clippy::redundant_clone)]
            use super::*;
            use ::tokio as rt;
            $( pub async fn $name($log: Log) $body )*
        }
        mod on_detsim {
            #![allow(unused_imports, clippy::redundant_clone)]
            use super::*;
            use ::detsim_tokio::sim as rt;
            $( pub async fn $name($log: Log) $body )*
        }
        $(
            $(#[$doc])*
            #[test]
            fn $name() {
                let real = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .start_paused(true)
                    .build()
                    .unwrap()
                    .block_on(async {
                        let start = tokio::time::Instant::now();
                        let log = Log::new(move || start.elapsed());
                        on_tokio::$name(log.clone()).await;
                        log.take()
                    });
                let sim = detsim::Builder::new()
                    .scheduler(detsim::scheduler::Fifo::new())
                    .fail_on_task_panic(false)
                    .run(async {
                        let start = detsim_tokio::sim::time::Instant::now();
                        let log = Log::new(move || start.elapsed());
                        on_detsim::$name(log.clone()).await;
                        log.take()
                    })
                    .unwrap();
                assert!(real.len() >= 2, "the program logs too little to compare: {real:?}");
                assert_eq!(real, sim, "tokio (left) and detsim-tokio (right) differ");
            }
        )*
    };
}

differential! {
    /// Sleeps one after another.
    fn sleeps_in_sequence(log) {
        for d in [10, 20, 5] {
            rt::time::sleep(ms(d)).await;
            log.ev(format!("slept {d}ms"));
        }
    }

    /// Timers have millisecond granularity: deadlines round up to the next millisecond.
    fn sub_millisecond_sleeps_round_up(log) {
        rt::time::sleep(Duration::from_micros(1500)).await;
        log.ev("1.5ms");
        rt::time::sleep(Duration::from_nanos(1)).await;
        log.ev("1ns");
        rt::time::sleep(Duration::ZERO).await;
        log.ev("0");
        rt::time::sleep(Duration::from_micros(999)).await;
        log.ev("999us");
    }

    /// A deadline that has passed completes at once; `sleep_until` in the future waits.
    fn sleep_until_past_and_future(log) {
        let start = rt::time::Instant::now();
        rt::time::sleep(ms(7)).await;
        rt::time::sleep_until(start).await;
        log.ev("past deadline done");
        rt::time::sleep_until(start + ms(30)).await;
        log.ev("future deadline done");
    }

    /// Concurrent sleepers wake in deadline order.
    fn concurrent_sleepers(log) {
        let mut hs = Vec::new();
        for d in [30u64, 10, 20] {
            let log = log.clone();
            hs.push(rt::spawn(async move {
                rt::time::sleep(ms(d)).await;
                log.ev(format!("sleeper {d}"));
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
        log.ev("all joined");
    }

    /// Timers with the same deadline fire in the order they were set.
    fn equal_deadlines_fire_in_order(log) {
        let mut hs = Vec::new();
        for i in 0..4 {
            let log = log.clone();
            hs.push(rt::spawn(async move {
                rt::time::sleep(ms(10)).await;
                log.ev(format!("task {i}"));
            }));
        }
        for h in hs {
            h.await.unwrap();
        }
    }

    /// A timeout that expires.
    fn timeout_expires(log) {
        let r = rt::time::timeout(ms(10), rt::time::sleep(ms(20))).await;
        log.ev(format!("timed out: {}", r.is_err()));
        rt::time::sleep(ms(1)).await;
        log.ev("after");
    }

    /// A timeout whose future finishes first.
    fn timeout_completes(log) {
        let r = rt::time::timeout(ms(20), async {
            rt::time::sleep(ms(10)).await;
            7
        })
        .await;
        log.ev(format!("result {r:?}"));
        // The timeout's timer is gone: nothing fires at 20 ms.
        rt::time::sleep(ms(15)).await;
        log.ev("later");
    }

    /// `timeout` polls its future before its deadline: a ready future beats a zero timeout,
    /// a pending one loses at once.
    fn zero_timeouts(log) {
        let r = rt::time::timeout(Duration::ZERO, async { 1 }).await;
        log.ev(format!("ready: {r:?}"));
        let r = rt::time::timeout(Duration::ZERO, rt::time::sleep(ms(1))).await;
        log.ev(format!("pending: {}", r.is_err()));
    }

    /// `timeout_at` with an absolute deadline.
    fn timeout_at_deadline(log) {
        let start = rt::time::Instant::now();
        let r = rt::time::timeout_at(start + ms(15), rt::time::sleep(ms(40))).await;
        log.ev(format!("elapsed: {}", r.is_err()));
        let r = rt::time::timeout_at(start + ms(50), rt::time::sleep(ms(5))).await;
        log.ev(format!("ok: {}", r.is_ok()));
    }

    /// An interval's first tick is immediate; ticks are one period apart.
    fn interval_ticks(log) {
        let start = rt::time::Instant::now();
        let mut every = rt::time::interval(ms(10));
        for _ in 0..4 {
            let t = every.tick().await;
            log.ev(format!("tick scheduled at {:?}", t.duration_since(start)));
        }
    }

    /// Missed ticks under `Burst`: ticks come at once until caught up.
    fn interval_burst(log) {
        let start = rt::time::Instant::now();
        let mut every = rt::time::interval(ms(10));
        every.set_missed_tick_behavior(rt::time::MissedTickBehavior::Burst);
        every.tick().await;
        rt::time::sleep(ms(35)).await;
        for _ in 0..5 {
            let t = every.tick().await;
            log.ev(format!("tick {:?}", t.duration_since(start)));
        }
    }

    /// Missed ticks under `Delay`: the next tick is a period after the late one.
    fn interval_delay(log) {
        let start = rt::time::Instant::now();
        let mut every = rt::time::interval(ms(10));
        every.set_missed_tick_behavior(rt::time::MissedTickBehavior::Delay);
        every.tick().await;
        rt::time::sleep(ms(35)).await;
        for _ in 0..4 {
            let t = every.tick().await;
            log.ev(format!("tick {:?}", t.duration_since(start)));
        }
    }

    /// Missed ticks under `Skip`: the next tick is on the original grid.
    fn interval_skip(log) {
        let start = rt::time::Instant::now();
        let mut every = rt::time::interval(ms(10));
        every.set_missed_tick_behavior(rt::time::MissedTickBehavior::Skip);
        every.tick().await;
        rt::time::sleep(ms(37)).await;
        for _ in 0..4 {
            let t = every.tick().await;
            log.ev(format!("tick {:?}", t.duration_since(start)));
        }
    }

    /// A tick late by less than 5 ms is not "missed": the grid holds.
    fn interval_slightly_late(log) {
        let start = rt::time::Instant::now();
        let mut every = rt::time::interval(ms(10));
        every.set_missed_tick_behavior(rt::time::MissedTickBehavior::Delay);
        every.tick().await;
        rt::time::sleep(ms(13)).await;
        for _ in 0..3 {
            let t = every.tick().await;
            log.ev(format!("tick {:?}", t.duration_since(start)));
        }
    }

    /// `interval_at` starts in the future; `reset` moves the next tick.
    fn interval_at_and_reset(log) {
        let start = rt::time::Instant::now();
        let mut every = rt::time::interval_at(start + ms(15), ms(10));
        every.tick().await;
        log.ev("first tick");
        every.tick().await;
        log.ev("second tick");
        rt::time::sleep(ms(3)).await;
        every.reset();
        every.tick().await;
        log.ev(format!("after reset, period {:?}", every.period()));
        every.reset_after(ms(2));
        every.tick().await;
        log.ev("after reset_after");
    }

    /// `Sleep::reset` moves a pinned sleep's deadline; `is_elapsed` and `deadline` follow.
    fn sleep_reset(log) {
        let start = rt::time::Instant::now();
        let s = rt::time::sleep(ms(50));
        rt::pin!(s);
        log.ev(format!("elapsed: {}", s.is_elapsed()));
        s.as_mut().reset(start + ms(20));
        log.ev(format!("deadline {:?}", s.deadline().duration_since(start)));
        (&mut s).await;
        log.ev(format!("elapsed: {}", s.is_elapsed()));
    }

    /// `JoinSet::join_next` returns outcomes in completion order.
    fn joinset_completion_order(log) {
        let mut set = rt::task::JoinSet::new();
        for d in [30u64, 10, 20, 5] {
            set.spawn(async move {
                rt::time::sleep(ms(d)).await;
                d
            });
        }
        log.ev(format!("len {}", set.len()));
        while let Some(r) = set.join_next().await {
            log.ev(format!("joined {}", r.unwrap()));
        }
        log.ev(format!("empty {}", set.is_empty()));
    }

    /// `abort_all` cancels every task; each comes back as a cancelled `JoinError`.
    fn joinset_abort_all(log) {
        let mut set = rt::task::JoinSet::new();
        for d in [10u64, 20, 30] {
            set.spawn(async move {
                rt::time::sleep(ms(d)).await;
                d
            });
        }
        rt::time::sleep(ms(15)).await;
        set.abort_all();
        let mut done = Vec::new();
        let mut cancelled = 0;
        while let Some(r) = set.join_next().await {
            match r {
                Ok(d) => done.push(d),
                Err(e) => {
                    assert!(e.is_cancelled());
                    cancelled += 1;
                }
            }
        }
        log.ev(format!("done {done:?}, cancelled {cancelled}"));
        rt::time::sleep(ms(100)).await;
        log.ev("nothing else ran");
    }

    /// `shutdown` aborts and waits; `try_join_next` sees finished tasks without waiting.
    fn joinset_shutdown_and_try_join(log) {
        let mut set = rt::task::JoinSet::new();
        set.spawn(async { 1u32 });
        set.spawn(async {
            rt::time::sleep(ms(100)).await;
            2
        });
        log.ev(format!("try before: {:?}", set.try_join_next().map(|r| r.unwrap())));
        rt::time::sleep(ms(1)).await;
        log.ev(format!("try after: {:?}", set.try_join_next().map(|r| r.unwrap())));
        set.shutdown().await;
        log.ev(format!("after shutdown: len {}", set.len()));
    }

    /// `select!` with `biased;`: the first ready branch in declaration order wins.
    fn select_biased_sleeps(log) {
        let r = rt::select! {
            biased;
            _ = rt::time::sleep(ms(20)) => "twenty",
            _ = rt::time::sleep(ms(10)) => "ten",
        };
        log.ev(r);
        let r = rt::select! {
            biased;
            _ = rt::time::sleep(ms(5)) => "first",
            _ = rt::time::sleep(ms(5)) => "second",
        };
        log.ev(r);
    }

    /// A biased `select!` loop between an interval and a deadline.
    fn select_biased_loop(log) {
        let start = rt::time::Instant::now();
        let mut every = rt::time::interval(ms(7));
        let deadline = rt::time::sleep_until(start + ms(30));
        rt::pin!(deadline);
        let mut ticks = 0;
        loop {
            rt::select! {
                biased;
                _ = &mut deadline => {
                    log.ev(format!("deadline after {ticks} ticks"));
                    break;
                }
                _ = every.tick() => {
                    ticks += 1;
                    log.ev(format!("tick {ticks}"));
                }
            }
        }
    }

    /// `if` preconditions disable branches; `else` runs when all are disabled.
    fn select_preconditions_and_else(log) {
        let r = rt::select! {
            biased;
            _ = rt::time::sleep(ms(1)), if false => "disabled",
            _ = rt::time::sleep(ms(9)) => "nine",
        };
        log.ev(r);
        let r: &str = rt::select! {
            biased;
            _ = rt::time::sleep(ms(1)), if false => "never",
            else => "else",
        };
        log.ev(r);
        // A pattern that does not match disables its branch.
        let r = rt::select! {
            biased;
            Some(x) = async { None::<u32> } => format!("some {x}"),
            _ = rt::time::sleep(ms(4)) => "slept".to_string(),
        };
        log.ev(r);
    }

    /// Aborting a sleeping task: its handle reports a cancellation.
    fn abort_a_sleeping_task(log) {
        let h = rt::spawn(rt::time::sleep(ms(100)));
        let a = h.abort_handle();
        rt::time::sleep(ms(5)).await;
        log.ev(format!("finished before abort: {}", a.is_finished()));
        h.abort();
        let e = h.await.unwrap_err();
        log.ev(format!("cancelled: {}, panic: {}", e.is_cancelled(), e.is_panic()));
        log.ev(format!("finished after abort: {}", a.is_finished()));
    }

    /// `join!` and `try_join!` drive their futures together.
    fn join_and_try_join(log) {
        let (a, b) = rt::join!(
            async {
                rt::time::sleep(ms(10)).await;
                log.ev("a");
                1
            },
            async {
                rt::time::sleep(ms(20)).await;
                log.ev("b");
                2
            },
        );
        log.ev(format!("joined {a} {b}"));
        let r: Result<(u32, u32), &str> = rt::try_join!(
            async {
                rt::time::sleep(ms(30)).await;
                Ok(1)
            },
            async {
                rt::time::sleep(ms(5)).await;
                Err("fail fast")
            },
        );
        log.ev(format!("try_join {r:?}"));
    }

    /// `advance` moves the paused clock; a timer due on the way fires.
    fn advance_moves_time(log) {
        let early = rt::spawn({
            let log = log.clone();
            async move {
                rt::time::sleep(ms(10)).await;
                log.ev("registered before the advance");
            }
        });
        rt::task::yield_now().await;
        rt::time::advance(ms(25)).await;
        log.ev("advanced");
        early.await.unwrap();
        let h = rt::spawn({
            let log = log.clone();
            async move {
                rt::time::sleep(ms(10)).await;
                log.ev("timer during advance");
            }
        });
        rt::time::advance(ms(25)).await;
        log.ev("advanced");
        h.await.unwrap();
    }

    /// A spawned task's panic is its `JoinError`, and the program goes on.
    fn panic_is_a_join_error(log) {
        let h = rt::spawn(async {
            rt::time::sleep(ms(3)).await;
            if true {
                panic!("boom");
            }
        });
        let e = h.await.unwrap_err();
        log.ev(format!("panic: {}", e.is_panic()));
        rt::time::sleep(ms(2)).await;
        log.ev("still running");
    }
}

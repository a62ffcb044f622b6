//! Exploration throughput: schedules per second on shuttle's own kind of workload, detsim against
//! the `shuttle` crate in the same process, interleaved so that machine noise hits both alike.
//!
//! Workload: 3 tasks, each doing 10 × (lock a mutex, add 1, unlock, yield); the main task joins
//! them and checks the count.
//!
//! `cargo bench --bench explore`

use std::hint::black_box;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use detsim::explore::Strategy;

const TASKS: usize = 3;
const ROUNDS: usize = 10;

async fn detsim_workload() {
    let m = Rc::new(futures::lock::Mutex::new(0u32));
    let hs: Vec<_> = (0..TASKS)
        .map(|_| {
            let m = m.clone();
            detsim::spawn(async move {
                for _ in 0..ROUNDS {
                    *m.lock().await += 1;
                    detsim::yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    assert_eq!(*m.lock().await, (TASKS * ROUNDS) as u32);
}

fn shuttle_workload() {
    let m = Arc::new(shuttle::sync::Mutex::new(0u32));
    let hs: Vec<_> = (0..TASKS)
        .map(|_| {
            let m = m.clone();
            shuttle::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    *m.lock().unwrap() += 1;
                    shuttle::thread::yield_now();
                }
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(*m.lock().unwrap(), (TASKS * ROUNDS) as u32);
}

fn time(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    if std::env::args().any(|a| a == "--profile-detsim") {
        // For profilers: detsim's side alone.
        for _ in 0..10 {
            detsim::Builder::new()
                .ignore_env()
                .schedules(20_000)
                .strategy(Strategy::Random)
                .explore(detsim_workload)
                .unwrap();
        }
        return;
    }
    let (n_detsim, n_shuttle, reps) = if quick {
        (2_000u64, 400usize, 9)
    } else {
        (5_000u64, 1_000usize, 25)
    };
    type Runner = Box<dyn Fn(u64) -> Duration>;
    let detsim_with = |strategy: Strategy| -> Runner {
        Box::new(move |n| {
            let strategy = strategy.clone();
            time(move || {
                let s = detsim::Builder::new()
                    .ignore_env()
                    .schedules(n)
                    .strategy(strategy)
                    .explore(detsim_workload)
                    .unwrap();
                black_box(s);
            })
        })
    };
    let rows: Vec<(&str, Runner, Runner)> = vec![(
        "Random vs check_random",
        detsim_with(Strategy::Random),
        Box::new(|n| time(|| shuttle::check_random(shuttle_workload, n as usize))),
    )];
    println!(
        "exploration throughput, {TASKS} tasks × {ROUNDS} × (lock, add, unlock, yield); \
         {reps} interleaved rounds of {n_detsim} detsim / {n_shuttle} shuttle schedules"
    );
    println!(
        "{:<26} {:>16} {:>16} {:>14}",
        "algorithm", "detsim sched/s", "shuttle sched/s", "median ratio"
    );
    for (name, d, s) in rows {
        let (mut dr, mut sr, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..reps {
            let a = n_detsim as f64 / d(n_detsim).as_secs_f64();
            let b = n_shuttle as f64 / s(n_shuttle as u64).as_secs_f64();
            dr.push(a);
            sr.push(b);
            ratios.push(a / b);
        }
        println!(
            "{name:<26} {:>16.0} {:>16.0} {:>13.1}×",
            median(dr),
            median(sr),
            median(ratios)
        );
    }
}

//! The cost of the tokio facade (issue 11): detsim's executor workloads written against tokio's
//! API (`tokio::spawn`, `tokio::time::sleep`, `tokio::task::yield_now` as detsim-tokio provides
//! them under `--cfg detsim`, here reached as `detsim_tokio::sim`) against the same workloads on
//! detsim's native API, both under `Fifo`. Target: at most 1.1× per poll.
//!
//! * `spawn`: spawn N tasks that return at once, then join them all;
//! * `yield`: T tasks that each yield Y times;
//! * `sleep`: N tasks sleeping until N distinct deadlines 1 ms apart.
//!
//! Run with `cargo bench -p detsim-tokio --bench facade` (`-- --quick` for fewer rounds). Both
//! contenders run interleaved in one process and the ratio is taken per round before the
//! median. `-- --only <workload> <native|facade> <reps>` runs one case alone (for callgrind).

#[path = "../../benches/common/mod.rs"]
mod common;

use std::time::Duration;

use common::{fmt_secs, interleaved, median};

#[derive(Clone, Copy, Debug)]
enum Workload {
    Spawn(usize),
    Yield(usize, usize),
    Sleep(usize),
}

impl Workload {
    fn label(self) -> String {
        match self {
            Workload::Spawn(n) => format!("spawn-{n}"),
            Workload::Yield(t, y) => format!("yield-{t}x{y}"),
            Workload::Sleep(n) => format!("sleep-{n}"),
        }
    }
}

const WORKLOADS: [Workload; 3] = [
    Workload::Spawn(10_000),
    Workload::Yield(100, 1_000),
    Workload::Sleep(10_000),
];

fn builder() -> detsim::Builder {
    detsim::Builder::new()
        .seed(1)
        .max_steps(u64::MAX)
        .scheduler(detsim::scheduler::Fifo::new())
}

/// One function per API, each running a workload written once against `rt`: detsim's own API
/// (`detsim::spawn`, `detsim::task::yield_now`, `detsim::time::sleep`) or the facade
/// (`sim::spawn`, `sim::task::yield_now`, `sim::time::sleep`). Returns (checksum, steps).
macro_rules! workloads {
    ($($name:ident => $rt:path;)*) => {$(
        fn $name(w: Workload) -> (u64, u64) {
            use $rt as rt;
            let report = match w {
                Workload::Spawn(n) => builder().run_report(async move {
                    let hs: Vec<_> = (0..n as u64).map(|i| rt::spawn(async move { i })).collect();
                    let mut sum = 0;
                    for h in hs {
                        sum += h.await.unwrap();
                    }
                    sum
                }),
                Workload::Yield(t, y) => builder().run_report(async move {
                    let hs: Vec<_> = (0..t)
                        .map(|_| {
                            rt::spawn(async move {
                                for _ in 0..y {
                                    rt::task::yield_now().await;
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                    t as u64
                }),
                Workload::Sleep(n) => builder().run_report(async move {
                    let hs: Vec<_> = (0..n as u64)
                        .map(|i| {
                            rt::spawn(async move {
                                rt::time::sleep(Duration::from_millis(i + 1)).await;
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                    detsim::time::now().as_nanos()
                }),
            };
            (report.output.unwrap(), report.steps)
        }
    )*};
}

workloads! {
    native => detsim;
    facade => detsim_tokio::sim;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--only") {
        let w = WORKLOADS
            .into_iter()
            .find(|w| w.label() == args[i + 1])
            .unwrap_or_else(|| {
                panic!("--only: workloads are spawn-10000, yield-100x1000, sleep-10000")
            });
        let reps: usize = args[i + 3]
            .parse()
            .expect("--only <workload> <native|facade> <reps>");
        for _ in 0..reps {
            std::hint::black_box(match args[i + 2].as_str() {
                "native" => native(w),
                "facade" => facade(w),
                other => panic!("--only: contenders are native and facade, not {other}"),
            });
        }
        return;
    }
    let rounds = if args.iter().any(|a| a == "--quick") {
        7
    } else {
        21
    };
    println!("| workload | polls | native per poll | facade per poll | facade / native |");
    println!("|---|---:|---:|---:|---:|");
    for w in WORKLOADS {
        let (a, steps) = native(w);
        let (b, facade_steps) = facade(w);
        assert_eq!(
            (a, steps),
            (b, facade_steps),
            "{}: the two differ",
            w.label()
        );
        let (mut n, mut f) = (
            || {
                std::hint::black_box(native(w));
            },
            || {
                std::hint::black_box(facade(w));
            },
        );
        let times = interleaved(&mut [&mut n, &mut f], rounds);
        let ratios: Vec<f64> = times[0].iter().zip(&times[1]).map(|(n, f)| f / n).collect();
        let per = |t: &[f64]| fmt_secs(median(t) / steps as f64);
        println!(
            "| {} | {} | {} | {} | {:.3}× |",
            w.label(),
            steps,
            per(&times[0]),
            per(&times[1]),
            median(&ratios)
        );
    }
}

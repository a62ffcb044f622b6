//! Executor benchmark (issue 3, item 8): raw executor cost of detsim (Fifo and Random) against
//! tokio's current-thread runtime (plain `spawn`, and a `LocalSet` for the `!Send` path detsim
//! always offers) and futures' `LocalPool`, on three workloads:
//!
//! * `spawn`: spawn N tasks that return at once, then join them all from the main future;
//! * `yield`: T tasks that each yield Y times (100 × 1,000 is the headline);
//! * `sleep`: N tasks sleeping until N distinct deadlines (1 ms apart: tokio's timer resolution),
//!   in simulated time (detsim) or paused time (tokio). `LocalPool` has no timer: skipped.
//!
//! Run with `cargo bench --bench executor`. Arguments:
//!
//! * `--quick`: the headline sizes only, fewer rounds;
//! * `--only <workload> <contender> <reps>`: run one case `reps` times and nothing else (for
//!   profilers), e.g. `--only yield-100x1000 detsim-random 20`.
//!
//! Every run of every contender builds its own runtime inside the timed region (detsim cannot
//! be pre-built), so the times are whole runs. A "poll" is one poll of a task's top-level future
//! (the main future included), counted by a wrapper in a separate, untimed pass; for detsim the
//! count is checked against `RunReport::steps`.

mod common;

use std::hint::black_box;
use std::time::Duration;

use common::{
    CountingAlloc, Mode, Off, On, counted, fmt_secs, interleaved, median, peak_heap, polls,
};
use futures::task::LocalSpawnExt;

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Workload {
    Spawn { tasks: usize },
    Yield { tasks: usize, yields: usize },
    Sleep { tasks: usize },
}

impl Workload {
    fn label(self) -> String {
        match self {
            Workload::Spawn { tasks } => format!("spawn-{}", k(tasks)),
            Workload::Yield { tasks, yields } => format!("yield-{}x{}", k(tasks), k(yields)),
            Workload::Sleep { tasks } => format!("sleep-{}", k(tasks)),
        }
    }

    /// What the scaling table divides by: tasks, or for `yield`, yields.
    fn elements(self) -> usize {
        match self {
            Workload::Spawn { tasks } | Workload::Sleep { tasks } => tasks,
            Workload::Yield { tasks, yields } => tasks * yields,
        }
    }
}

fn k(n: usize) -> String {
    if n >= 1000 && n % 1000 == 0 {
        format!("{}k", n / 1000)
    } else {
        n.to_string()
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Contender {
    DetsimFifo,
    DetsimRandom,
    Tokio,
    TokioLocal,
    LocalPool,
}

const CONTENDERS: [Contender; 5] = [
    Contender::Tokio,
    Contender::TokioLocal,
    Contender::LocalPool,
    Contender::DetsimFifo,
    Contender::DetsimRandom,
];

impl Contender {
    fn label(self) -> &'static str {
        match self {
            Contender::DetsimFifo => "detsim-fifo",
            Contender::DetsimRandom => "detsim-random",
            Contender::Tokio => "tokio",
            Contender::TokioLocal => "tokio-localset",
            Contender::LocalPool => "localpool",
        }
    }

    fn supports(self, w: Workload) -> bool {
        !(self == Contender::LocalPool && matches!(w, Workload::Sleep { .. }))
    }
}

// ----- the workloads, once per contender ---------------------------------------------------------
// `M` switches poll counting on (the untimed counting pass) or off (timed runs).

fn detsim_run<M: Mode>(random: bool, w: Workload) -> (u64, u64) {
    let mut b = detsim::Builder::new().seed(1).max_steps(u64::MAX);
    if random {
        b = b.scheduler(detsim::scheduler::Random::new());
    } else {
        b = b.scheduler(detsim::scheduler::Fifo::new());
    }
    let report = match w {
        Workload::Spawn { tasks } => b.run_report(counted::<M, _>(async move {
            let hs: Vec<_> = (0..tasks as u64)
                .map(|i| detsim::spawn(counted::<M, _>(async move { i })))
                .collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        })),
        Workload::Yield { tasks, yields } => b.run_report(counted::<M, _>(async move {
            let hs: Vec<_> = (0..tasks)
                .map(|_| {
                    detsim::spawn(counted::<M, _>(async move {
                        for _ in 0..yields {
                            detsim::yield_now().await;
                        }
                    }))
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
            tasks as u64
        })),
        Workload::Sleep { tasks } => b.run_report(counted::<M, _>(async move {
            let hs: Vec<_> = (0..tasks as u64)
                .map(|i| {
                    detsim::spawn(counted::<M, _>(async move {
                        detsim::time::sleep(Duration::from_millis(i + 1)).await;
                    }))
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
            detsim::time::now().as_nanos()
        })),
    };
    (report.output.unwrap(), report.steps)
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

fn tokio_run<M: Mode>(w: Workload) -> u64 {
    let rt = tokio_rt();
    match w {
        Workload::Spawn { tasks } => rt.block_on(counted::<M, _>(async move {
            let hs: Vec<_> = (0..tasks as u64)
                .map(|i| tokio::spawn(counted::<M, _>(async move { i })))
                .collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        })),
        Workload::Yield { tasks, yields } => rt.block_on(counted::<M, _>(async move {
            let hs: Vec<_> = (0..tasks)
                .map(|_| {
                    tokio::spawn(counted::<M, _>(async move {
                        for _ in 0..yields {
                            tokio::task::yield_now().await;
                        }
                    }))
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
            tasks as u64
        })),
        Workload::Sleep { tasks } => rt.block_on(counted::<M, _>(async move {
            let start = tokio::time::Instant::now();
            let hs: Vec<_> = (0..tasks as u64)
                .map(|i| {
                    tokio::spawn(counted::<M, _>(async move {
                        tokio::time::sleep(Duration::from_millis(i + 1)).await;
                    }))
                })
                .collect();
            for h in hs {
                h.await.unwrap();
            }
            start.elapsed().as_nanos() as u64
        })),
    }
}

fn tokio_local_run<M: Mode>(w: Workload) -> u64 {
    let rt = tokio_rt();
    let local = tokio::task::LocalSet::new();
    match w {
        Workload::Spawn { tasks } => local.block_on(
            &rt,
            counted::<M, _>(async move {
                let hs: Vec<_> = (0..tasks as u64)
                    .map(|i| tokio::task::spawn_local(counted::<M, _>(async move { i })))
                    .collect();
                let mut sum = 0;
                for h in hs {
                    sum += h.await.unwrap();
                }
                sum
            }),
        ),
        Workload::Yield { tasks, yields } => local.block_on(
            &rt,
            counted::<M, _>(async move {
                let hs: Vec<_> = (0..tasks)
                    .map(|_| {
                        tokio::task::spawn_local(counted::<M, _>(async move {
                            for _ in 0..yields {
                                tokio::task::yield_now().await;
                            }
                        }))
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
                tasks as u64
            }),
        ),
        Workload::Sleep { tasks } => local.block_on(
            &rt,
            counted::<M, _>(async move {
                let start = tokio::time::Instant::now();
                let hs: Vec<_> = (0..tasks as u64)
                    .map(|i| {
                        tokio::task::spawn_local(counted::<M, _>(async move {
                            tokio::time::sleep(Duration::from_millis(i + 1)).await;
                        }))
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
                start.elapsed().as_nanos() as u64
            }),
        ),
    }
}

fn localpool_run<M: Mode>(w: Workload) -> u64 {
    let mut pool = futures::executor::LocalPool::new();
    let sp = pool.spawner();
    match w {
        Workload::Spawn { tasks } => pool.run_until(counted::<M, _>(async move {
            let hs: Vec<_> = (0..tasks as u64)
                .map(|i| {
                    sp.spawn_local_with_handle(counted::<M, _>(async move { i }))
                        .unwrap()
                })
                .collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await;
            }
            sum
        })),
        Workload::Yield { tasks, yields } => pool.run_until(counted::<M, _>(async move {
            let hs: Vec<_> = (0..tasks)
                .map(|_| {
                    sp.spawn_local_with_handle(counted::<M, _>(async move {
                        for _ in 0..yields {
                            detsim::yield_now().await; // needs no detsim runtime: wakes itself once
                        }
                    }))
                    .unwrap()
                })
                .collect();
            for h in hs {
                h.await;
            }
            tasks as u64
        })),
        Workload::Sleep { .. } => unreachable!("LocalPool has no timer"),
    }
}

fn run<M: Mode>(c: Contender, w: Workload) -> u64 {
    match c {
        Contender::DetsimFifo => detsim_run::<M>(false, w).0,
        Contender::DetsimRandom => detsim_run::<M>(true, w).0,
        Contender::Tokio => tokio_run::<M>(w),
        Contender::TokioLocal => tokio_local_run::<M>(w),
        Contender::LocalPool => localpool_run::<M>(w),
    }
}

/// Task polls of one run, counted by the wrappers; for detsim, checked against its step count.
fn count_polls(c: Contender, w: Workload) -> u64 {
    let before = polls();
    let steps = match c {
        Contender::DetsimFifo => Some(detsim_run::<On>(false, w).1),
        Contender::DetsimRandom => Some(detsim_run::<On>(true, w).1),
        _ => {
            black_box(run::<On>(c, w));
            None
        }
    };
    let n = polls() - before;
    if let Some(steps) = steps {
        assert_eq!(steps, n, "detsim steps disagree with counted polls");
    }
    n
}

// ----- measuring and printing ------------------------------------------------------------------

struct Row {
    workload: Workload,
    contender: Contender,
    polls: u64,
    median: f64,
    /// Median over rounds of (this contender's time / tokio's time in the same round).
    ratio: f64,
    /// The same, per poll.
    ratio_per_poll: f64,
    /// Peak heap bytes above the start, in the counting run.
    peak: usize,
    /// Seconds of each round.
    times: Vec<f64>,
}

/// Measures the workloads `ws` on every contender that supports them, all (workload, contender)
/// pairs interleaved in every round, within roughly `budget` seconds (at least `min_rounds`).
fn measure(ws: &[Workload], budget: f64, min_rounds: usize, max_rounds: usize) -> Vec<Row> {
    let cases: Vec<(Workload, Contender)> = ws
        .iter()
        .flat_map(|&w| {
            CONTENDERS
                .into_iter()
                .filter(move |c| c.supports(w))
                .map(move |c| (w, c))
        })
        .collect();
    // Counting pass, with the allocator counting too; it doubles as the warm-up.
    let counts: Vec<(u64, usize)> = cases
        .iter()
        .map(|&(w, c)| peak_heap(|| count_polls(c, w)))
        .collect();
    let mut closures: Vec<Box<dyn FnMut()>> = cases
        .iter()
        .map(|&(w, c)| -> Box<dyn FnMut()> {
            Box::new(move || {
                black_box(run::<Off>(c, w));
            })
        })
        .collect();
    let mut refs: Vec<&mut dyn FnMut()> = closures.iter_mut().map(|b| &mut **b as _).collect();
    // The first timed round sizes the number of rounds, and counts as one.
    let mut times = interleaved(&mut refs, 1);
    let round: f64 = times.iter().map(|v| v[0]).sum();
    let rounds = ((budget / round) as usize).clamp(min_rounds, max_rounds);
    let more = interleaved(&mut refs, rounds - 1);
    for (t, m) in times.iter_mut().zip(more) {
        t.extend(m);
    }
    let tokio_of = |w: Workload| {
        cases
            .iter()
            .position(|&(w2, c)| w2 == w && c == Contender::Tokio)
            .unwrap()
    };
    cases
        .iter()
        .enumerate()
        .map(|(i, &(w, c))| {
            let t = tokio_of(w);
            let ratios: Vec<f64> = (0..rounds).map(|r| times[i][r] / times[t][r]).collect();
            let ratio = median(&ratios);
            Row {
                workload: w,
                contender: c,
                polls: counts[i].0,
                median: median(&times[i]),
                ratio,
                ratio_per_poll: ratio * counts[t].0 as f64 / counts[i].0 as f64,
                peak: counts[i].1,
                times: times[i].clone(),
            }
        })
        .collect()
}

/// Median over rounds of (time per element of `big`) / (time per element of `small`).
fn growth(big: &Row, small: &Row) -> f64 {
    let per = |r: &Row, t: f64| t / r.workload.elements() as f64;
    let ratios: Vec<f64> = big
        .times
        .iter()
        .zip(&small.times)
        .map(|(&b, &s)| per(big, b) / per(small, s))
        .collect();
    median(&ratios)
}

fn print_rows(rows: &[Row]) {
    println!(
        "| {:<16} | {:<14} | {:>9} | {:>10} | {:>8} | {:>11} | {:>14} |",
        "workload", "contender", "polls", "median", "ns/poll", "vs tokio", "vs tokio/poll"
    );
    println!(
        "|{:-<18}|{:-<16}|{:->11}|{:->12}|{:->10}|{:->13}|{:->16}|",
        "", "", "", "", "", "", ""
    );
    for r in rows {
        println!(
            "| {:<16} | {:<14} | {:>9} | {:>10} | {:>8.1} | {:>10.2}x | {:>13.2}x |",
            r.workload.label(),
            r.contender.label(),
            r.polls,
            fmt_secs(r.median),
            r.median * 1e9 / r.polls as f64,
            r.ratio,
            r.ratio_per_poll,
        );
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--only") {
        return only(&args[i + 1..]);
    }
    let quick = args.iter().any(|a| a == "--quick");

    println!("detsim executor benchmark (issue 3). Interleaved rounds, medians; ratios are");
    println!("per-round ratios to tokio current_thread (paused time), medians over rounds.\n");

    // Headline workloads.
    let headline = [
        Workload::Spawn { tasks: 10_000 },
        Workload::Yield {
            tasks: 100,
            yields: 1_000,
        },
        Workload::Sleep { tasks: 10_000 },
    ];
    let budget = if quick { 1.0 } else { 4.0 };
    let mut rows = Vec::new();
    for w in headline {
        rows.extend(measure(&[w], budget, 5, 41));
    }
    println!("## Headline workloads\n");
    print_rows(&rows);

    if quick {
        return;
    }

    // Scaling: 1k, 10k, 100k tasks (yield: tasks × 4 yields).
    let names = ["spawn", "yield×4", "sleep"];
    let sizes = [1_000, 10_000, 100_000];
    let families: [fn(usize) -> Workload; 3] = [
        |n| Workload::Spawn { tasks: n },
        |n| Workload::Yield {
            tasks: n,
            yields: 4,
        },
        |n| Workload::Sleep { tasks: n },
    ];
    let mut scaling: Vec<Row> = Vec::new();
    for fam in families {
        let ws: Vec<Workload> = sizes.iter().map(|&n| fam(n)).collect();
        scaling.extend(measure(&ws, 6.0, 3, 41));
    }
    println!(
        "\n## Scaling: median time per element (task; for yield, one yield) at 1k / 10k / 100k tasks.\n\
         growth: median over rounds of the ratio of time per element (1.00x = linear)\n"
    );
    println!(
        "| {:<8} | {:<14} | {:>10} | {:>10} | {:>10} | {:>9} | {:>10} | {:>10} |",
        "workload", "contender", "1k", "10k", "100k", "10k / 1k", "100k / 10k", "vs tokio@100k"
    );
    println!(
        "|{:-<10}|{:-<16}|{:->12}|{:->12}|{:->12}|{:->11}|{:->12}|{:->15}|",
        "", "", "", "", "", "", "", ""
    );
    for (fi, name) in names.iter().enumerate() {
        for c in CONTENDERS {
            let per: Vec<&Row> = sizes
                .iter()
                .filter_map(|&n| {
                    scaling
                        .iter()
                        .find(|r| r.contender == c && r.workload == families[fi](n))
                })
                .collect();
            if per.len() != sizes.len() {
                continue;
            }
            let ns: Vec<f64> = per
                .iter()
                .map(|r| r.median * 1e9 / r.workload.elements() as f64)
                .collect();
            println!(
                "| {:<8} | {:<14} | {:>7.1} ns | {:>7.1} ns | {:>7.1} ns | {:>8.2}x | {:>9.2}x | {:>12.2}x |",
                name,
                c.label(),
                ns[0],
                ns[1],
                ns[2],
                growth(per[1], per[0]),
                growth(per[2], per[1]),
                per[2].ratio
            );
        }
    }

    // Peak heap, from the counting runs.
    println!("\n## Peak heap above the start of the run: bytes per task, and total at 100k\n");
    println!(
        "| {:<8} | {:<14} | {:>8} | {:>8} | {:>8} | {:>10} | {:>12} |",
        "workload", "contender", "1k", "10k", "100k", "marginal", "total @100k"
    );
    println!(
        "|{:-<10}|{:-<16}|{:->10}|{:->10}|{:->10}|{:->12}|{:->14}|",
        "", "", "", "", "", "", ""
    );
    for (fi, name) in names.iter().enumerate() {
        for c in CONTENDERS {
            let peaks: Vec<usize> = sizes
                .iter()
                .filter_map(|&n| {
                    scaling
                        .iter()
                        .find(|r| r.contender == c && r.workload == families[fi](n))
                        .map(|r| r.peak)
                })
                .collect();
            if peaks.len() != sizes.len() {
                continue;
            }
            let per: Vec<f64> = sizes
                .iter()
                .zip(&peaks)
                .map(|(&n, &p)| p as f64 / n as f64)
                .collect();
            let marginal = (peaks[2] as f64 - peaks[1] as f64) / (sizes[2] - sizes[1]) as f64;
            println!(
                "| {:<8} | {:<14} | {:>8.0} | {:>8.0} | {:>8.0} | {:>10.0} | {:>9.1} MB |",
                name,
                c.label(),
                per[0],
                per[1],
                per[2],
                marginal,
                peaks[2] as f64 / 1e6
            );
        }
    }
    println!("\n(marginal: extra peak bytes per extra task between 10k and 100k tasks)");
}

/// `--only <workload> <contender> <reps>`: one case, nothing else, for profilers.
fn only(args: &[String]) {
    let parse_w = |s: &str| -> Workload {
        let (kind, size) = s.split_once('-').expect("workload like yield-100x1000");
        let num = |t: &str| -> usize {
            t.strip_suffix('k')
                .map(|x| x.parse::<usize>().unwrap() * 1000)
                .unwrap_or_else(|| t.parse().unwrap())
        };
        match kind {
            "spawn" => Workload::Spawn { tasks: num(size) },
            "sleep" => Workload::Sleep { tasks: num(size) },
            "yield" => {
                let (t, y) = size.split_once('x').unwrap();
                Workload::Yield {
                    tasks: num(t),
                    yields: num(y),
                }
            }
            _ => panic!("unknown workload {kind}"),
        }
    };
    let w = parse_w(&args[0]);
    let c = CONTENDERS
        .into_iter()
        .find(|c| c.label() == args[1])
        .expect("unknown contender");
    let reps: usize = args.get(2).map(|s| s.parse().unwrap()).unwrap_or(10);
    let mut ts = Vec::new();
    for _ in 0..reps {
        ts.push(common::time(|| run::<Off>(c, w)).as_secs_f64());
    }
    println!(
        "{} {}: median {} over {reps}",
        w.label(),
        c.label(),
        fmt_secs(median(&ts))
    );
}

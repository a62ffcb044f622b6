//! Sync primitive benchmark (custom harness): `cargo bench --bench sync`.
//!
//! Uncontended and contended acquire/release of a lock, a semaphore and a queue: detsim's
//! primitives against `tokio::sync` and `async-lock`, each on detsim's executor (FIFO scheduler)
//! and on tokio's current-thread runtime. Prints nanoseconds per operation and the ratio of each
//! to the `tokio::sync` equivalent on the same executor (below 1.0: detsim is faster).
//!
//! Each measurement takes the best of 3 runs; the whole benchmark runs in well under a minute.
//! `-- --callgrind` runs each detsim-executor measurement once and skips tokio's executor, for an
//! instruction count under `valgrind --tool=callgrind` (see BENCHMARKS.md).

use std::future::Future;
use std::hint::black_box;
use std::rc::Rc;
use std::time::Instant;

const UNCONTENDED: u32 = 200_000;
const TASKS: u32 = 4;
const CONTENDED: u32 = 20_000; // per task

/// A yield on any executor: `detsim::yield_now` only wakes its own task and returns `Pending`
/// once, so it needs no detsim runtime.
fn yield_once() -> detsim::task::YieldNow {
    detsim::yield_now()
}

#[derive(Clone, Copy, PartialEq)]
enum Exec {
    Detsim,
    Tokio,
}

impl Exec {
    fn name(self) -> &'static str {
        match self {
            Exec::Detsim => "detsim",
            Exec::Tokio => "tokio current_thread",
        }
    }

    /// Runs `make()` (the whole program) and returns the elapsed nanoseconds.
    fn time<F, Fut>(self, make: F) -> f64
    where
        F: Fn() -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        let mut best = f64::MAX;
        for _ in 0..reps() {
            let t = Instant::now();
            match self {
                Exec::Detsim => detsim::run(make()),
                Exec::Tokio => {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    let local = tokio::task::LocalSet::new();
                    local.block_on(&rt, make());
                }
            }
            best = best.min(t.elapsed().as_nanos() as f64);
        }
        best
    }

    /// Spawns `n` local tasks running `f(i)` and waits for them.
    async fn all<F, Fut>(self, n: u32, f: F)
    where
        F: Fn(u32) -> Fut,
        Fut: Future<Output = ()> + 'static,
    {
        match self {
            Exec::Detsim => {
                let hs: Vec<_> = (0..n).map(|i| detsim::spawn(f(i))).collect();
                for h in hs {
                    h.await.unwrap();
                }
            }
            Exec::Tokio => {
                let hs: Vec<_> = (0..n).map(|i| tokio::task::spawn_local(f(i))).collect();
                for h in hs {
                    h.await.unwrap();
                }
            }
        }
    }
}

struct Row {
    bench: &'static str,
    exec: Exec,
    imp: &'static str,
    ns_per_op: f64,
}

fn uncontended(exec: Exec, rows: &mut Vec<Row>) {
    let n = UNCONTENDED;
    let per = |ns: f64| ns / n as f64;
    let mut row = |bench, imp, ns| {
        rows.push(Row {
            bench,
            exec,
            imp,
            ns_per_op: per(ns),
        })
    };
    row(
        "lock uncontended",
        "detsim::sync::Lock",
        exec.time(|| async move {
            let l = detsim::sync::Lock::new();
            for _ in 0..n {
                drop(black_box(l.acquire().await));
            }
        }),
    );
    row(
        "lock uncontended",
        "detsim::sync::Mutex",
        exec.time(|| async move {
            let m = detsim::sync::Mutex::new(0u64);
            for _ in 0..n {
                *m.lock().await += 1;
            }
            black_box(m.into_inner());
        }),
    );
    row(
        "lock uncontended",
        "tokio::sync::Mutex",
        exec.time(|| async move {
            let m = tokio::sync::Mutex::new(0u64);
            for _ in 0..n {
                *m.lock().await += 1;
            }
            black_box(m.into_inner());
        }),
    );
    row(
        "lock uncontended",
        "async_lock::Mutex",
        exec.time(|| async move {
            let m = async_lock::Mutex::new(0u64);
            for _ in 0..n {
                *m.lock().await += 1;
            }
            black_box(m.into_inner());
        }),
    );
    row(
        "semaphore uncontended",
        "detsim::sync::Semaphore",
        exec.time(|| async move {
            let s = detsim::sync::Semaphore::new(4);
            for _ in 0..n {
                drop(black_box(s.acquire().await));
            }
        }),
    );
    row(
        "semaphore uncontended",
        "tokio::sync::Semaphore",
        exec.time(|| async move {
            let s = tokio::sync::Semaphore::new(4);
            for _ in 0..n {
                drop(black_box(s.acquire().await.unwrap()));
            }
        }),
    );
    row(
        "semaphore uncontended",
        "async_lock::Semaphore",
        exec.time(|| async move {
            let s = async_lock::Semaphore::new(4);
            for _ in 0..n {
                drop(black_box(s.acquire().await));
            }
        }),
    );
    row(
        "queue uncontended",
        "detsim::sync::Queue",
        exec.time(|| async move {
            let q = detsim::sync::Queue::new(16);
            for i in 0..n {
                q.put(i).await.unwrap();
                black_box(q.get().await.unwrap());
            }
        }),
    );
    row(
        "queue uncontended",
        "tokio::sync::mpsc",
        exec.time(|| async move {
            let (tx, mut rx) = tokio::sync::mpsc::channel(16);
            for i in 0..n {
                tx.send(i).await.unwrap();
                black_box(rx.recv().await.unwrap());
            }
        }),
    );
}

fn contended(exec: Exec, rows: &mut Vec<Row>) {
    let ops = (TASKS * CONTENDED) as f64;
    let mut row = |bench, imp, ns: f64| {
        rows.push(Row {
            bench,
            exec,
            imp,
            ns_per_op: ns / ops,
        })
    };
    row(
        "lock contended (4 tasks, yield inside)",
        "detsim::sync::Lock",
        exec.time(move || async move {
            let l = detsim::sync::Lock::new();
            exec.all(TASKS, |_| {
                let l = l.clone();
                async move {
                    for _ in 0..CONTENDED {
                        let g = l.acquire().await;
                        yield_once().await;
                        drop(g);
                    }
                }
            })
            .await;
        }),
    );
    row(
        "lock contended (4 tasks, yield inside)",
        "tokio::sync::Mutex",
        exec.time(move || async move {
            let l = Rc::new(tokio::sync::Mutex::new(()));
            exec.all(TASKS, |_| {
                let l = l.clone();
                async move {
                    for _ in 0..CONTENDED {
                        let g = l.lock().await;
                        yield_once().await;
                        drop(g);
                    }
                }
            })
            .await;
        }),
    );
    row(
        "lock contended (4 tasks, yield inside)",
        "async_lock::Mutex",
        exec.time(move || async move {
            let l = Rc::new(async_lock::Mutex::new(()));
            exec.all(TASKS, |_| {
                let l = l.clone();
                async move {
                    for _ in 0..CONTENDED {
                        let g = l.lock().await;
                        yield_once().await;
                        drop(g);
                    }
                }
            })
            .await;
        }),
    );
    row(
        "semaphore(2) contended (4 tasks)",
        "detsim::sync::Semaphore",
        exec.time(move || async move {
            let s = detsim::sync::Semaphore::new(2);
            exec.all(TASKS, |_| {
                let s = s.clone();
                async move {
                    for _ in 0..CONTENDED {
                        let p = s.acquire().await;
                        yield_once().await;
                        drop(p);
                    }
                }
            })
            .await;
        }),
    );
    row(
        "semaphore(2) contended (4 tasks)",
        "tokio::sync::Semaphore",
        exec.time(move || async move {
            let s = Rc::new(tokio::sync::Semaphore::new(2));
            exec.all(TASKS, |_| {
                let s = s.clone();
                async move {
                    for _ in 0..CONTENDED {
                        let p = s.acquire().await.unwrap();
                        yield_once().await;
                        drop(p);
                    }
                }
            })
            .await;
        }),
    );
    row(
        "semaphore(2) contended (4 tasks)",
        "async_lock::Semaphore",
        exec.time(move || async move {
            let s = Rc::new(async_lock::Semaphore::new(2));
            exec.all(TASKS, |_| {
                let s = s.clone();
                async move {
                    for _ in 0..CONTENDED {
                        let p = s.acquire().await;
                        yield_once().await;
                        drop(p);
                    }
                }
            })
            .await;
        }),
    );
    row(
        "queue(1) 2 producers -> 2 consumers",
        "detsim::sync::Queue",
        exec.time(move || async move {
            let q = detsim::sync::Queue::new(1);
            exec.all(TASKS, |i| {
                let q = q.clone();
                async move {
                    for k in 0..CONTENDED {
                        if i % 2 == 0 {
                            q.put(k).await.unwrap();
                        } else {
                            black_box(q.get().await.unwrap());
                        }
                    }
                }
            })
            .await;
        }),
    );
    row(
        "queue(1) 2 producers -> 2 consumers",
        "tokio::sync::mpsc",
        exec.time(move || async move {
            let (tx, rx) = tokio::sync::mpsc::channel(1);
            let rx = Rc::new(tokio::sync::Mutex::new(rx));
            exec.all(TASKS, |i| {
                let (tx, rx) = (tx.clone(), rx.clone());
                async move {
                    for k in 0..CONTENDED {
                        if i % 2 == 0 {
                            tx.send(k).await.unwrap();
                        } else {
                            black_box(rx.lock().await.recv().await.unwrap());
                        }
                    }
                }
            })
            .await;
        }),
    );
}

/// `--callgrind`: one run per measurement, detsim's executor only.
fn callgrind_mode() -> bool {
    std::env::args().any(|a| a == "--callgrind")
}

fn reps() -> u32 {
    if callgrind_mode() { 1 } else { 3 }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo test --benches` probes the harness
    }
    let mut rows = Vec::new();
    let execs: &[Exec] = if callgrind_mode() {
        &[Exec::Detsim]
    } else {
        &[Exec::Detsim, Exec::Tokio]
    };
    for &exec in execs {
        uncontended(exec, &mut rows);
        contended(exec, &mut rows);
    }
    println!(
        "| benchmark | executor | implementation | ns/op | vs tokio::sync |\n|---|---|---|---:|---:|"
    );
    for r in &rows {
        let base = rows
            .iter()
            .find(|b| b.bench == r.bench && b.exec == r.exec && b.imp.starts_with("tokio::sync"))
            .map(|b| b.ns_per_op)
            .unwrap_or(f64::NAN);
        println!(
            "| {} | {} | {} | {:.1} | {:.2} |",
            r.bench,
            r.exec.name(),
            r.imp,
            r.ns_per_op,
            r.ns_per_op / base
        );
    }
}

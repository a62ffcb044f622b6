//! Recording cost: the slowdown of full event recording (and of a 1024-event ring) against no
//! recording, on a yield-heavy and a spawn-heavy workload. Custom harness: `cargo bench --bench
//! trace`. Prints the fastest of 21 interleaved repetitions; wall-clock timing is fine here (it is never
//! part of a test or a trace).

use std::hint::black_box;
use std::time::Instant;

use detsim::Builder;

/// 100 tasks yield 200 times each: 20,000 polls.
async fn yield_heavy() -> u64 {
    let hs: Vec<_> = (0..100)
        .map(|_| {
            detsim::spawn(async {
                for _ in 0..200 {
                    detsim::yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    1
}

/// 20,000 tiny tasks, spawned and joined in batches of 100.
async fn spawn_heavy() -> u64 {
    let mut n = 0;
    for _ in 0..200 {
        let hs: Vec<_> = (0..100u64)
            .map(|i| detsim::spawn(async move { i }))
            .collect();
        for h in hs {
            n += h.await.unwrap();
        }
    }
    n
}

/// Milliseconds per run for `off`, `full` and `ring`: the minimum of 21 interleaved
/// repetitions (the machine is shared; the minimum is the least disturbed measurement).
fn time<F: std::future::Future<Output = u64>>(body: fn() -> F) -> [f64; 3] {
    let mut best = [f64::INFINITY; 3];
    for _ in 0..21 {
        for (i, b) in best.iter_mut().enumerate() {
            let builder = match i {
                0 => Builder::new(),
                1 => Builder::new().record(),
                _ => Builder::new().record_last(1024),
            };
            let start = Instant::now();
            let report = builder.run_report(body());
            black_box(&report);
            *b = b.min(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    best
}

fn main() {
    println!(
        "{:<12} {:>10} {:>10} {:>10} {:>8} {:>8}",
        "workload", "off ms", "full ms", "ring ms", "full x", "ring x"
    );
    for (name, [off, full, ring]) in [
        ("yield-heavy", time(yield_heavy)),
        ("spawn-heavy", time(spawn_heavy)),
    ] {
        println!(
            "{name:<12} {off:>10.2} {full:>10.2} {ring:>10.2} {:>8.2} {:>8.2}",
            full / off,
            ring / off
        );
    }
}

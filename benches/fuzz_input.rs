//! Fuzz executions per second on stable, without libFuzzer: the targets' bodies over
//! pseudo-random inputs (a fixed-seed generator: the same inputs on every machine).
//!
//! `cargo bench --bench fuzz_input`. Numbers: BENCHMARKS.md.

#[allow(dead_code)]
#[path = "../fuzz/src/buffer.rs"]
mod buffer;
#[allow(dead_code)]
#[path = "../fuzz/src/program.rs"]
mod program;

use std::time::Instant;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn bytes(&mut self, max: u64) -> Vec<u8> {
        let n = self.next() % max;
        (0..n).map(|_| self.next() as u8).collect()
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

fn measure(name: &str, n: u32, mut f: impl FnMut(&[u8])) {
    let mut rng = Lcg(7);
    let inputs: Vec<Vec<u8>> = (0..n).map(|_| rng.bytes(128)).collect();
    let before = rss_kib();
    let start = Instant::now();
    for input in &inputs {
        f(input);
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{name:<44} {n:>7} inputs  {:>9.0} execs/s  (rss {} -> {} KiB)",
        f64::from(n) / secs,
        before,
        rss_kib()
    );
}

fn main() {
    // A 3-task program (main and two producers and a consumer: the buffer), schedule from input.
    measure("bounded_buffer (4 tasks, schedule only)", 20_000, |d| {
        let _ = buffer::run_input(d);
    });
    // The runtime target: decode a program, run it three times, check every invariant.
    measure("runtime (random program, 3 runs + checks)", 20_000, |d| {
        program::check_input(d).unwrap();
    });
    // A fixed 3-task program of the runtime target, to compare with libFuzzer's exec/s.
    // main: spawn body 1, spawn body 2, join, join; bodies lock/yield/unlock and send/recv.
    let three = [
        0x02u8, 3, 3, 0, 3, 1, 11, 11, 3, 18, 0, 0, 20, 0, 3, 22, 0, 24, 0, 0,
    ];
    let (p, used) = program::Program::decode(&three);
    assert_eq!(p.bodies.len(), 3, "{p:?}");
    let mut rng = Lcg(9);
    let schedules: Vec<Vec<u8>> = (0..20_000).map(|_| rng.bytes(32)).collect();
    let mut i = 0;
    measure(
        "runtime, fixed 3-task program, 3 runs + checks",
        20_000,
        |_| {
            let mut data = three[..used].to_vec();
            data.extend(&schedules[i]);
            i += 1;
            program::check_input(&data).unwrap();
        },
    );
}

//! proptest finds a check-then-act bug in a bounded buffer, and shrinks the input (the items the
//! producers put) and the interleaving together.
//!
//! ```text
//! cargo run --example proptest_bounded_buffer --features proptest
//! ```
//!
//! `put` checks for room, awaits (it "logs" the put), and only then pushes: two producers that
//! both saw room overfill the buffer. asyncio's FIFO order happens to pass (the second producer
//! starts later); proptest generates interleavings until one overlaps the two puts, then shrinks
//! to the smallest input and the interleaving closest to FIFO that still overflows. The example
//! prints both, with the `ds1.` schedule string that replays the interleaving.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use detsim::proptest::{Interleaving, run, schedule};
use detsim::yield_now;
use proptest::collection::vec;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};

struct BoundedBuffer {
    items: RefCell<VecDeque<u32>>,
    capacity: usize,
}

impl BoundedBuffer {
    async fn put(&self, v: u32) {
        while self.items.borrow().len() >= self.capacity {
            yield_now().await;
        }
        yield_now().await; // the await between the check and the act
        let mut items = self.items.borrow_mut();
        items.push_back(v);
        assert!(
            items.len() <= self.capacity,
            "bounded buffer overflow: {} items in a buffer of {}",
            items.len(),
            self.capacity
        );
    }

    async fn get(&self) -> u32 {
        loop {
            if let Some(v) = self.items.borrow_mut().pop_front() {
                return v;
            }
            yield_now().await;
        }
    }
}

/// Two producers put their items; a consumer takes them all and returns them.
async fn program(a: Vec<u32>, b: Vec<u32>) -> Vec<u32> {
    let buf = Rc::new(BoundedBuffer {
        items: RefCell::new(VecDeque::new()),
        capacity: 2,
    });
    let total = a.len() + b.len();
    let (b1, b2, b3) = (buf.clone(), buf.clone(), buf.clone());
    let p1 = detsim::spawn(async move {
        for v in a {
            b1.put(v).await;
        }
    });
    let p2 = detsim::spawn(async move {
        yield_now().await; // some other work first
        yield_now().await;
        for v in b {
            b2.put(v).await;
        }
    });
    let consumer = detsim::spawn(async move {
        let mut got = Vec::new();
        for _ in 0..total {
            got.push(b3.get().await);
        }
        got
    });
    p1.await.unwrap();
    p2.await.unwrap();
    consumer.await.unwrap()
}

fn main() {
    let mut config = Config::with_cases(2000);
    config.rng_seed = RngSeed::Fixed(1);
    config.failure_persistence = None; // a test would keep the default: proptest-regressions/
    let mut runner = TestRunner::new(config);
    let strategy = (vec(0u32..100, 0..4), vec(0u32..100, 0..4), schedule());
    let result = runner.run(&strategy, |(a, b, s)| {
        let mut expected = a.clone();
        expected.extend(&b);
        let got = run(&s, program(a, b))?;
        proptest::prop_assert_eq!(got.len(), expected.len());
        Ok(())
    });
    match result {
        Ok(()) => println!("no failure found"),
        Err(TestError::Fail(reason, (a, b, s))) => {
            println!("proptest found and shrank a failure:");
            println!("  producer 1 puts {a:?}, producer 2 puts {b:?}");
            println!(
                "  interleaving: {s:?} ({} choices away from FIFO)",
                s.preemptions()
            );
            println!(
                "  FIFO passes: {}",
                run(&Interleaving::default(), program(a.clone(), b.clone())).is_ok()
            );
            println!("{reason}");
        }
        Err(e) => println!("{e}"),
    }
}

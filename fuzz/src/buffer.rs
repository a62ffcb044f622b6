//! A bounded buffer with a deliberate check-then-act bug, for the `bounded_buffer` fuzz target.
//!
//! Shared, unchanged, by the fuzz crate and the main crate's `tests/fuzz_regressions.rs` (through
//! `#[path]`), so a crash file replays in `cargo test` through the very same code.
//!
//! `put` waits for room, then awaits (it logs the put) and only then pushes: another producer can
//! fill the buffer in between. Under asyncio's FIFO order the program passes — the bug needs a
//! preemption — which makes it a fair test of a schedule producer.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;

use detsim::scheduler::FuzzBytes;
use detsim::{Builder, RunReport, yield_now};

/// The message of the assertion that catches the bug.
pub const OVERFLOW: &str = "bounded buffer overflow";

/// A bounded buffer of `u32`s with a check-then-act race in [`BoundedBuffer::put`].
#[derive(Debug)]
pub struct BoundedBuffer {
    items: RefCell<VecDeque<u32>>,
    capacity: usize,
}

impl BoundedBuffer {
    /// An empty buffer holding at most `capacity` items.
    pub fn new(capacity: usize) -> BoundedBuffer {
        BoundedBuffer {
            items: RefCell::new(VecDeque::new()),
            capacity,
        }
    }

    /// Waits for room, then adds `v`. The bug: the room is checked before an await.
    pub async fn put(&self, v: u32) {
        while self.items.borrow().len() >= self.capacity {
            yield_now().await;
        }
        yield_now().await; // "log the put": the await that splits check from act
        let mut items = self.items.borrow_mut();
        items.push_back(v);
        assert!(
            items.len() <= self.capacity,
            "{OVERFLOW}: {} items in a buffer of {}",
            items.len(),
            self.capacity
        );
    }

    /// Waits for an item and takes it.
    pub async fn get(&self) -> u32 {
        loop {
            if let Some(v) = self.items.borrow_mut().pop_front() {
                return v;
            }
            yield_now().await;
        }
    }
}

/// Two producers put two items each into a buffer of two; a consumer takes all four. The second
/// producer starts with some other work (two yields), so FIFO order never overlaps the puts.
pub async fn program() -> Vec<u32> {
    let buf = Rc::new(BoundedBuffer::new(2));
    let (b1, b2, b3) = (buf.clone(), buf.clone(), buf.clone());
    let p1 = detsim::spawn(async move {
        for v in [1, 2] {
            b1.put(v).await;
        }
    });
    let p2 = detsim::spawn(async move {
        yield_now().await;
        yield_now().await;
        for v in [3, 4] {
            b2.put(v).await;
        }
    });
    let consumer = detsim::spawn(async move {
        let mut got = Vec::new();
        for _ in 0..4 {
            got.push(b3.get().await);
        }
        got
    });
    p1.await.unwrap();
    p2.await.unwrap();
    consumer.await.unwrap()
}

/// The `bounded_buffer` target's body: the program under the schedule `data`.
pub fn run_input(data: &[u8]) -> RunReport<Vec<u32>> {
    Builder::new()
        .scheduler(FuzzBytes::new(data))
        .record_last(64)
        .run_report(program())
}

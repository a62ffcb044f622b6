//! A two-task lost update (read, yield, write back): found within a few schedules, so that an
//! exploration of it ends quickly under any setting; and a counter without the bug, which passes
//! every schedule.

#![allow(dead_code)] // each includer uses a different part

use std::cell::Cell;
use std::rc::Rc;

use detsim::{spawn, yield_now};

/// The program; it panics with "lost update" when the bug shows.
pub async fn lost_update() {
    lost_update_among(2).await
}

/// The same bug among `tasks` tasks: each reads the counter, yields, and writes back `read + 1`
/// without a lock; it panics with "lost update" when the bug shows.
pub async fn lost_update_among(tasks: usize) {
    let n = Rc::new(Cell::new(0));
    let hs: Vec<_> = (0..tasks)
        .map(|_| {
            let n = n.clone();
            spawn(async move {
                let v = n.get();
                yield_now().await;
                n.set(v + 1);
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    assert_eq!(n.get(), tasks, "lost update");
}

/// Three tasks each add one in a single step, then yield: no schedule loses an update.
pub async fn correct() {
    let n = Rc::new(Cell::new(0));
    let hs: Vec<_> = (0..3)
        .map(|_| {
            let n = n.clone();
            spawn(async move {
                n.set(n.get() + 1);
                yield_now().await;
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    assert_eq!(n.get(), 3);
}

//! A two-task lost update (read, yield, write back): found within a few schedules, so that an
//! exploration of it ends quickly under any setting; and a counter without the bug, which passes
//! every schedule.

#![allow(dead_code)] // each includer uses a different part

use std::cell::Cell;
use std::rc::Rc;

use detsim::{spawn, yield_now};

/// The program; it panics with "lost update" when the bug shows.
pub async fn lost_update() {
    let n = Rc::new(Cell::new(0));
    let hs: Vec<_> = (0..2)
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
    assert_eq!(n.get(), 2, "lost update");
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

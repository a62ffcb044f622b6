//! A two-task lost update (read, yield, write back): found within a few schedules, so that an
//! exploration of it ends quickly under any setting.

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

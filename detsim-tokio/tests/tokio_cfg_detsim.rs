//! The crate root under `RUSTFLAGS="--cfg detsim"`: tokio's paths lead to the simulation, and
//! `#[tokio::test]` is an exploration. (In a plain build this file is empty.)
#![cfg(detsim)]

use detsim_tokio as tokio;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

#[tokio::test(crate = "detsim_tokio")]
async fn the_root_is_the_simulation() {
    let start = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(86_400)).await; // a simulated day, at once
    assert_eq!(start.elapsed(), Duration::from_secs(86_400));
    let rc = Rc::new(1); // not Send: fine on detsim
    assert_eq!(tokio::spawn(async move { *rc }).await.unwrap(), 1);
    // Nothing left running: the test body is detsim's task 0.
    assert_eq!(tokio::task::id().to_string(), "0");
}

#[tokio::test(
    crate = "detsim_tokio",
    flavor = "multi_thread",
    worker_threads = 8,
    start_paused = true
)]
async fn every_flavor_runs_on_detsim() {
    let (a, b) = tokio::join!(async { 1 }, async { 2 });
    assert_eq!(a + b, 3);
}

#[tokio::test(crate = "detsim_tokio")]
#[should_panic(expected = "detsim found a failure")]
async fn a_lost_update_is_found_by_exploration() {
    let n = Rc::new(Cell::new(0));
    let hs: Vec<_> = (0..2)
        .map(|_| {
            let n = n.clone();
            tokio::spawn(async move {
                let v = n.get();
                tokio::task::yield_now().await;
                n.set(v + 1);
            })
        })
        .collect();
    for h in hs {
        h.await.unwrap();
    }
    assert_eq!(n.get(), 2, "lost update");
}

#[tokio::test(crate = "detsim_tokio")]
#[should_panic(expected = "detsim found a failure")]
async fn the_root_select_order_is_explored() {
    let w = tokio::select! {
        _ = std::future::ready(()) => 0,
        _ = std::future::ready(()) => 1,
    };
    assert_eq!(w, 0, "branch 1 won");
}

#[tokio::test(crate = "detsim_tokio")]
async fn a_result_body_passes_on_ok() -> Result<(), std::io::Error> {
    tokio::task::yield_now().await;
    Ok(())
}

/// `#[tokio::main]` on any function name: one detsim run in FIFO order, in simulated time.
#[tokio::main(crate = "detsim_tokio")]
async fn one_run() -> Duration {
    let start = tokio::time::Instant::now();
    let h = tokio::spawn(tokio::time::sleep(Duration::from_secs(30)));
    h.await.unwrap();
    start.elapsed()
}

#[test]
fn tokio_main_is_one_run() {
    assert_eq!(one_run(), Duration::from_secs(30));
}

#[test]
fn a_hand_built_runtime_blocks_on_one_run() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let v = rt.block_on(async {
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move { tx.send(5).unwrap() });
        rx.await.unwrap()
    });
    assert_eq!(v, 5);
}

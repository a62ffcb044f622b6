//! Properties of the task API checked under the `Random` scheduler over thousands of seeds: each
//! seed is a different legal interleaving (and different random sleeps), and a failing seed
//! reproduces exactly.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use detsim::combinators::gather;
use detsim::scheduler::Random;
use detsim::task::CancelHandle;
use detsim::task_group::task_group;
use detsim::time::{Duration, sleep, wait_for};
use detsim::{Builder, random_below, spawn, yield_now};

const SEEDS: u64 = 5000;

fn run<T>(seed: u64, f: impl std::future::Future<Output = T>) -> T {
    match Builder::new().seed(seed).scheduler(Random::new()).run(f) {
        Ok(v) => v,
        Err(failure) => panic!("seed {seed}: {failure}"),
    }
}

async fn jitter() {
    for _ in 0..random_below(3) {
        yield_now().await;
    }
    sleep(Duration::from_millis(random_below(4))).await;
}

/// A task group never returns while one of its children (including children spawned by
/// children) is still alive, whether it succeeds or a child fails.
#[test]
fn task_group_never_leaks_a_child() {
    for seed in 0..SEEDS {
        run(seed, async {
            let handles: Rc<RefCell<Vec<CancelHandle>>> = Rc::default();
            let h = handles.clone();
            let r = task_group(|g| async move {
                for i in 0..4u64 {
                    let g2 = g.clone();
                    let h2 = h.clone();
                    let child = g.spawn(async move {
                        jitter().await;
                        if let Ok(grandchild) = g2.spawn(async {
                            jitter().await;
                            Ok(())
                        }) {
                            h2.borrow_mut().push(grandchild.cancel_handle());
                        }
                        jitter().await;
                        if i == 3 && random_below(2) == 0 {
                            Err("fail")
                        } else {
                            Ok(())
                        }
                    });
                    let child = child.map_err(|_| "spawn refused")?;
                    h.borrow_mut().push(child.cancel_handle());
                    jitter().await;
                }
                Ok::<_, &str>(())
            })
            .await;
            let leaked = handles.borrow().iter().filter(|c| !c.is_finished()).count();
            assert_eq!(
                leaked, 0,
                "seed {seed}: {leaked} children outlived the group ({r:?})"
            );
            if let Err(e) = r {
                assert!(!e.errors().is_empty());
            }
        });
    }
}

/// gather's results are in argument order whatever the schedule and the completion order.
#[test]
fn gather_order_never_depends_on_schedule() {
    for seed in 0..SEEDS {
        let out = run(seed, async {
            let order = Rc::new(RefCell::new(Vec::new()));
            let futs = (0..5u64).map(|i| {
                let order = order.clone();
                async move {
                    jitter().await;
                    order.borrow_mut().push(i);
                    i * 10
                }
            });
            let r = gather(futs).await.unwrap();
            (r, order.take())
        });
        assert_eq!(out.0, [0, 10, 20, 30, 40], "seed {seed}");
        assert_eq!(out.1.len(), 5, "seed {seed}");
    }
}

/// A task running `wait_for` that is cancelled never goes on past it, even when the inner task
/// completes or the deadline passes in the same iteration; and the inner task never outlives the
/// `wait_for` that owned it.
#[test]
fn wait_for_never_loses_a_cancellation() {
    for seed in 0..SEEDS {
        run(seed, async {
            let reached = Rc::new(Cell::new(false));
            let inner_handle: Rc<RefCell<Option<CancelHandle>>> = Rc::default();
            let (r2, ih) = (reached.clone(), inner_handle.clone());
            let outer = spawn(async move {
                // Either quick (racing the deadline and the cancel) or far past both: a leaked
                // inner task would then still be alive at the end of the run.
                let d = if random_below(4) == 0 {
                    100
                } else {
                    random_below(3)
                };
                let inner = spawn(async move {
                    sleep(Duration::from_millis(d)).await;
                    5
                });
                *ih.borrow_mut() = Some(inner.cancel_handle());
                let r = wait_for(Duration::from_millis(1 + random_below(2)), inner).await;
                r2.set(true);
                r
            });
            let oc = outer.cancel_handle();
            let canceller = spawn(async move {
                sleep(Duration::from_millis(random_below(3))).await;
                for _ in 0..random_below(2) {
                    yield_now().await;
                }
                oc.cancel()
            });
            let accepted = canceller.await.unwrap();
            let r = outer.await;
            if accepted {
                assert!(
                    r.unwrap_err().is_cancelled(),
                    "seed {seed}: cancellation lost"
                );
                assert!(
                    !reached.get(),
                    "seed {seed}: code after wait_for ran after cancel()"
                );
            } else {
                assert!(r.is_ok() && reached.get(), "seed {seed}");
            }
            // Let every runnable task run (a cancelled inner task is dropped then), but not the
            // 100ms inner task's timer: it must have been cancelled, not left running.
            sleep(Duration::from_millis(10)).await;
            let inner = inner_handle.borrow().clone();
            if let Some(inner) = inner {
                assert!(inner.is_finished(), "seed {seed}: the inner task leaked");
            }
        });
    }
}

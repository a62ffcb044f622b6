//! Conformance cases for `task_group` (asyncio's `TaskGroup`,
//! `Lib/asyncio/taskgroups.py`), run under the FIFO scheduler and compared with what CPython
//! 3.13.0 prints for the same program.
//!
//! asyncio's `except CancelledError: log; raise` becomes a drop guard that logs; an exception
//! becomes an `Err` of the test's error type [`E`]. Python-only cases are listed in
//! `tests/UNPORTED.md`.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use detsim::task_group::{ChildFailure, SpawnError, TaskGroup, TaskGroupError, task_group};
use detsim::time::{Duration, now, sleep};
use detsim::{JoinHandle, spawn};

#[derive(Clone, Debug, PartialEq, Eq)]
enum E {
    ZeroDiv,
    Value(String),
    Runtime(String),
    Group(TaskGroupError<E>),
}

impl From<SpawnError> for E {
    fn from(e: SpawnError) -> E {
        E::Runtime(e.to_string())
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn t() -> String {
    now().to_string()
}

/// The failures' kinds, as the Python cases print them.
fn kinds(e: &TaskGroupError<E>) -> Vec<&'static str> {
    e.errors()
        .iter()
        .map(|f| match f {
            ChildFailure::Error(E::ZeroDiv) => "ZeroDivisionError",
            ChildFailure::Error(E::Value(_)) => "ValueError",
            ChildFailure::Error(E::Runtime(_)) => "RuntimeError",
            ChildFailure::Error(E::Group(_)) => "ExceptionGroup",
            ChildFailure::Panicked(_) => "panic",
        })
        .collect()
}

/// Runs `f` when dropped: asyncio's `except CancelledError: ...; raise`.
struct Guard<F: FnMut()>(F);
impl<F: FnMut()> Drop for Guard<F> {
    fn drop(&mut self) {
        (self.0)()
    }
}

async fn foo(d: u64, v: i32) -> Result<i32, E> {
    sleep(ms(d)).await;
    Ok(v)
}

async fn fail_after(d: u64) -> Result<(), E> {
    sleep(ms(d)).await;
    Err(E::ZeroDiv)
}

/// TG-01 — `async with TaskGroup() as g: t1 = g.create_task(foo(0.1, 42)); sleep 0.15;
/// t2 = g.create_task(foo(0.2, 11))` → `(42, 11, 0.35)`: the group waits for a child spawned late.
#[test]
fn tg_01_group_waits_for_children() {
    let out = detsim::run(async {
        let (t1, t2) = task_group(|g| async move {
            let t1 = g.spawn(foo(100, 42))?;
            sleep(ms(150)).await;
            let t2 = g.spawn(foo(200, 11))?;
            Ok::<_, E>((t1, t2))
        })
        .await
        .unwrap();
        (t1.await.unwrap(), t2.await.unwrap(), t())
    });
    assert_eq!(out, (Some(42), Some(11), "0.35s".to_string()));
}

/// TG-02 — a child cancelled explicitly does not affect the group:
/// `t1 = spawn foo(1, 42); sleep 0.15; t1.cancel(); t2 = spawn foo(0.2, 11)` → `(True, 11, 0.35)`.
#[test]
fn tg_02_cancelled_child_does_not_abort() {
    let out = detsim::run(async {
        let (t1, t2) = task_group(|g| async move {
            let t1 = g.spawn(foo(1000, 42))?;
            sleep(ms(150)).await;
            t1.cancel();
            let t2 = g.spawn(foo(200, 11))?;
            Ok::<_, E>((t1, t2))
        })
        .await
        .unwrap();
        (t1.await.unwrap_err().is_cancelled(), t2.await.unwrap(), t())
    });
    assert_eq!(out, (true, Some(11), "0.35s".to_string()));
}

/// TG-03 — a child error cancels its sibling. Runner task:
/// `TG {spawn {sleep 0.1; raise ZeroDiv}; t2 = spawn {sleep 1 (log on cancel)}}; NUM+=10`
/// → `(['ZeroDivisionError'], 0, [('t2-cancelled', 0.1)], True, 0.1)`.
#[test]
fn tg_03_child_error_cancels_sibling() {
    let out = detsim::run(async {
        let num = Rc::new(Cell::new(0));
        let log = Rc::new(RefCell::new(Vec::new()));
        let t2: Rc<RefCell<Option<JoinHandle<Option<()>>>>> = Rc::default();
        let (n2, l2, t2c) = (num.clone(), log.clone(), t2.clone());
        let n4 = num.clone();
        let runner = spawn(async move {
            task_group(|g| async move {
                g.spawn(fail_after(100))?;
                let n3 = n2.clone();
                *t2c.borrow_mut() = Some(g.spawn(async move {
                    let _g = Guard(|| l2.borrow_mut().push(("t2-cancelled", t())));
                    sleep(ms(1000)).await;
                    n3.set(n3.get() + 1);
                    Ok(())
                })?);
                Ok::<_, E>(())
            })
            .await?;
            n4.set(n4.get() + 10);
            Ok::<_, TaskGroupError<E>>(())
        });
        let err = runner.await.unwrap().unwrap_err();
        let t2 = t2.borrow_mut().take().unwrap();
        (
            kinds(&err),
            n_get(&num),
            log.take(),
            t2.await.unwrap_err().is_cancelled(),
            t(),
        )
    });
    assert_eq!(
        out,
        (
            vec!["ZeroDivisionError"],
            0,
            vec![("t2-cancelled", "0.1s".to_string())],
            true,
            "0.1s".to_string()
        )
    );
}

fn n_get(c: &Rc<Cell<i32>>) -> i32 {
    c.get()
}

/// TG-04 — simultaneous failures, and the body is cancelled: 3 × `{sleep 0.1; raise ZeroDiv}`,
/// 1 × `{sleep 5}`, body `sleep 10` → three ZeroDivisionErrors at t=0.1, trace
/// `[foo2-cancelled, body-cancelled]` (the runner's `cancelling()==0` is Python-only).
#[test]
fn tg_04_simultaneous_failures_cancel_body() {
    let out = detsim::run(async {
        let log = Rc::new(RefCell::new(Vec::new()));
        let l = log.clone();
        let r = spawn(async move {
            task_group(|g| async move {
                for _ in 0..3 {
                    g.spawn(fail_after(100))?;
                }
                let l2 = l.clone();
                g.spawn(async move {
                    let _g = Guard(|| l2.borrow_mut().push("foo2-cancelled"));
                    sleep(ms(5000)).await;
                    Ok(())
                })?;
                let _g = Guard(|| l.borrow_mut().push("body-cancelled"));
                sleep(ms(10_000)).await;
                Ok::<_, E>(())
            })
            .await
        });
        let err = r.await.unwrap().unwrap_err();
        (kinds(&err), log.take(), t())
    });
    assert_eq!(
        out,
        (
            vec!["ZeroDivisionError"; 3],
            vec!["foo2-cancelled", "body-cancelled"],
            "0.1s".to_string()
        )
    );
}

/// TG-05 — parent cancelled from outside: 5 children (`sleep 5`, +1 on cancel), body `sleep 10`
/// (+10 on cancel); main `sleep 0.1; r.cancel()` → `('CancelledError', 15, 0.1, True)`.
#[test]
fn tg_05_parent_cancelled_from_outside() {
    let out = detsim::run(async {
        let num = Rc::new(Cell::new(0));
        let n = num.clone();
        let r = spawn(async move {
            task_group(|g| async move {
                for _ in 0..5 {
                    let n = n.clone();
                    g.spawn(async move {
                        let _g = Guard(|| n.set(n.get() + 1));
                        sleep(ms(5000)).await;
                        Ok(())
                    })?;
                }
                let _g = Guard(|| n.set(n.get() + 10));
                sleep(ms(10_000)).await;
                Ok::<_, E>(())
            })
            .await
        });
        sleep(ms(100)).await;
        r.cancel();
        let cancelled = r.await.unwrap_err().is_cancelled();
        (cancelled, num.get(), t())
    });
    assert_eq!(out, (true, 15, "0.1s".to_string()));
}

/// TG-07 — the body raises: `TG {t1 = spawn sleep 1; t2 = spawn sleep 2; sleep 0.1; raise
/// ZeroDiv}` → `(['ZeroDivisionError'], True, True, 0.1)`; both children cancelled.
#[test]
fn tg_07_body_error_aborts() {
    let out = detsim::run(async {
        let hs: Rc<RefCell<Vec<JoinHandle<Option<i32>>>>> = Rc::default();
        let h2 = hs.clone();
        let err = task_group(|g| async move {
            h2.borrow_mut().push(g.spawn(foo(1000, 1))?);
            h2.borrow_mut().push(g.spawn(foo(2000, 2))?);
            sleep(ms(100)).await;
            Err::<(), _>(E::ZeroDiv)
        })
        .await
        .unwrap_err();
        let mut cancelled = Vec::new();
        for h in hs.take() {
            cancelled.push(h.await.unwrap_err().is_cancelled());
        }
        (kinds(&err), cancelled, t())
    });
    assert_eq!(
        out,
        (
            vec!["ZeroDivisionError"],
            vec![true, true],
            "0.1s".to_string()
        )
    );
}

async fn crash_after(d: u64) -> Result<(), E> {
    sleep(ms(d)).await;
    Err(E::Value(format!("{}", d as f64 / 1000.0)))
}

/// TG-08 — nested groups, the outer child fails first:
/// `TG1 {spawn crash_after(0.1); TG2 {spawn crash_after(10)}}` → `(['ValueError'], ['0.1'], 0.1)`:
/// the inner group is cancelled silently and the outer reports only its own error.
#[test]
fn tg_08_nested_outer_failure_first() {
    let out = detsim::run(async {
        let r = spawn(async {
            task_group(|g1| async move {
                g1.spawn(crash_after(100))?;
                task_group(|g2| async move {
                    g2.spawn(crash_after(10_000))?;
                    Ok::<_, E>(())
                })
                .await
                .map_err(E::Group)
            })
            .await
        });
        let err = r.await.unwrap().unwrap_err();
        (err.errors().to_vec(), t())
    });
    assert_eq!(
        out,
        (
            vec![ChildFailure::Error(E::Value("0.1".into()))],
            "0.1s".to_string()
        )
    );
}

/// TG-09 — nested group, inner failure first:
/// `TG1 {spawn crash_after(10); TG2 {spawn crash_after(0.1)}}` → `Group[Group[Value]]` at t=0.1.
#[test]
fn tg_09_nested_inner_failure_first() {
    let out = detsim::run(async {
        let r = spawn(async {
            task_group(|g1| async move {
                g1.spawn(crash_after(10_000))?;
                task_group(|g2| async move {
                    g2.spawn(crash_after(100))?;
                    Ok::<_, E>(())
                })
                .await
                .map_err(E::Group)
            })
            .await
        });
        let err = r.await.unwrap().unwrap_err();
        let inner = match &err.errors()[0] {
            ChildFailure::Error(E::Group(g)) => kinds(g),
            other => panic!("expected a nested group, got {other:?}"),
        };
        (kinds(&err), inner, t())
    });
    assert_eq!(
        out,
        (
            vec!["ExceptionGroup"],
            vec!["ValueError"],
            "0.1s".to_string()
        )
    );
}

/// TG-11 — a group with no children, body `sleep 10` (+10 on cancel); the runner is cancelled at
/// 0.1 → `('CancelledError', 10)`.
#[test]
fn tg_11_empty_group_cancelled() {
    let out = detsim::run(async {
        let num = Rc::new(Cell::new(0));
        let n = num.clone();
        let r = spawn(async move {
            task_group(|_g: TaskGroup<E>| async move {
                let _g = Guard(|| n.set(n.get() + 10));
                sleep(ms(10_000)).await;
                Ok::<_, E>(())
            })
            .await
        });
        sleep(ms(100)).await;
        r.cancel();
        (r.await.unwrap_err().is_cancelled(), num.get())
    });
    assert_eq!(out, (true, 10));
}

/// TG-16 — `create_task` errors: during the abort a child's cancellation handler gets
/// `Runtime("…shutting down")` and the group still ends with `Group[ZeroDiv]`; after exit,
/// `Runtime("…is finished")`. ("Not entered" and "already entered" cannot be written with a
/// scope function: the group exists only while its scope runs.)
#[test]
fn tg_16_spawn_errors() {
    let out = detsim::run(async {
        let out = Rc::new(RefCell::new(Vec::new()));
        let o = out.clone();
        let kept: Rc<RefCell<Option<TaskGroup<E>>>> = Rc::default();
        let k = kept.clone();
        let err = task_group(|g| async move {
            *k.borrow_mut() = Some(g.clone());
            g.spawn(fail_after(1))?;
            let g2 = g.clone();
            g.spawn(async move {
                let _g = Guard(move || {
                    let e = g2.spawn(async { Ok(()) }).unwrap_err();
                    o.borrow_mut().push(format!(
                        "shutting-down {}",
                        e.to_string().contains("shutting down")
                    ));
                });
                sleep(ms(1000)).await;
                Ok(())
            })?;
            Ok::<_, E>(())
        })
        .await
        .unwrap_err();
        out.borrow_mut().push(format!("{:?}", kinds(&err)));
        let late = kept.take().unwrap().spawn(async { Ok(()) }).unwrap_err();
        out.borrow_mut().push(format!(
            "finished {}",
            late.to_string().contains("is finished")
        ));
        out.take()
    });
    assert_eq!(
        out,
        [
            "shutting-down true",
            "[\"ZeroDivisionError\"]",
            "finished true"
        ]
    );
}

/// TG-17 — `len(g._tasks)` over time: ten children of 0.3 spawned every 0.1; at count 5 there are
/// 4 live children; after `sleep 1.35` there are 0, at t=2.35.
#[test]
fn tg_17_live_children_over_time() {
    let out = detsim::run(async {
        task_group(|g| async move {
            let mut snaps = Vec::new();
            for count in 0..10 {
                sleep(ms(100)).await;
                g.spawn(async {
                    sleep(ms(300)).await;
                    Ok(())
                })?;
                if count == 5 {
                    snaps.push(("count5", g.live_children(), t()));
                }
            }
            sleep(ms(1350)).await;
            snaps.push(("end", g.live_children(), t()));
            Ok::<_, E>(snaps)
        })
        .await
        .unwrap()
    });
    assert_eq!(out[0].1, 4);
    assert_eq!(out[1], ("end", 0, "2.35s".to_string()));
}

fn hydra(g: TaskGroup<E>, n: Rc<Cell<u32>>) -> Pin<Box<dyn Future<Output = Result<(), E>>>> {
    Box::pin(async move {
        n.set(n.get() + 1);
        sleep(ms(10)).await;
        g.spawn(hydra(g.clone(), n.clone()))?;
        g.spawn(hydra(g.clone(), n.clone()))?;
        Ok(())
    })
}

/// TG-18 — hydra: each hydra spawns two more after 0.01; hercules fails once there are 10 →
/// `(['ZeroDivisionError'], 31, 0.045)`.
#[test]
fn tg_18_hydra() {
    let out = detsim::run(async {
        let n = Rc::new(Cell::new(0u32));
        let n2 = n.clone();
        let err = task_group(|g| async move {
            g.spawn(hydra(g.clone(), n2.clone()))?;
            g.spawn(async move {
                while n2.get() < 10 {
                    sleep(ms(15)).await;
                }
                Err::<(), _>(E::ZeroDiv)
            })?;
            Ok::<_, E>(())
        })
        .await
        .unwrap_err();
        (kinds(&err), n.get(), t())
    });
    assert_eq!(out, (vec!["ZeroDivisionError"], 31, "0.045s".to_string()));
}

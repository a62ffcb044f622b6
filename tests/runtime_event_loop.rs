//! The event loop's callback API, ordered as asyncio's `_run_once` orders it.

use std::cell::RefCell;
use std::rc::Rc;

use detsim::event_loop::{call_at, call_later, call_soon};
use detsim::time::{Duration, Instant, sleep};
use detsim::yield_now;

type Log = Rc<RefCell<Vec<String>>>;

fn logger(l: &Log, s: &'static str) -> impl FnOnce() + 'static {
    let l = l.clone();
    move || l.borrow_mut().push(s.to_string())
}

/// CPython 3.13:
/// ```python
/// loop.call_later(0, log.append, 'later0 a'); loop.call_soon(log.append, 'soon 1')
/// h = loop.call_soon(log.append, 'soon cancelled'); loop.call_later(0, log.append, 'later0 b')
/// loop.call_soon(log.append, 'soon 2'); loop.call_at(loop.time()+0.1, log.append, 'at 0.1')
/// loop.call_later(0.05, log.append, 'later 0.05')
/// h2 = loop.call_later(0.05, log.append, 'later cancelled'); h.cancel(); h2.cancel()
/// create_task(t())  # logs 'task i', sleep(0), three times
/// await asyncio.sleep(0.2)
/// # ['soon 1', 'soon 2', 'task 0', 'later0 a', 'later0 b', 'task 1', 'task 2', 'later 0.05',
/// #  'at 0.1', 'True True']
/// ```
#[test]
fn callbacks_run_in_asyncio_run_once_order() {
    let out = detsim::run(async {
        let l: Log = Rc::default();
        call_later(Duration::ZERO, logger(&l, "later0 a"));
        call_soon(logger(&l, "soon 1"));
        let h = call_soon(logger(&l, "soon cancelled"));
        call_later(Duration::ZERO, logger(&l, "later0 b"));
        call_soon(logger(&l, "soon 2"));
        call_at(
            Instant::ZERO + Duration::from_millis(100),
            logger(&l, "at 0.1"),
        );
        call_later(Duration::from_millis(50), logger(&l, "later 0.05"));
        let h2 = call_later(Duration::from_millis(50), logger(&l, "later cancelled"));
        assert!(h.cancel() && h2.cancel());
        let lt = l.clone();
        detsim::spawn(async move {
            for i in 0..3 {
                lt.borrow_mut().push(format!("task {i}"));
                yield_now().await;
            }
        });
        sleep(Duration::from_millis(200)).await;
        l.borrow_mut()
            .push(format!("{} {}", h.cancelled(), h2.cancelled()));
        l.take()
    });
    assert_eq!(
        out,
        [
            "soon 1",
            "soon 2",
            "task 0",
            "later0 a",
            "later0 b",
            "task 1",
            "task 2",
            "later 0.05",
            "at 0.1",
            "true true"
        ]
    );
}

/// A handle cancelled after its timer fired but before it ran is skipped; one cancelled after it
/// ran reports `false` and is not `cancelled()`.
#[test]
fn cancelling_a_due_or_finished_callback() {
    detsim::run(async {
        let l: Log = Rc::default();
        let ran = call_soon(logger(&l, "ran"));
        yield_now().await;
        assert!(!ran.cancel());
        assert!(!ran.cancelled());
        let due = call_later(Duration::ZERO, logger(&l, "due but cancelled"));
        call_soon(move || {
            // Runs in the next iteration, after `due`'s timer moved it to the ready queue.
            assert!(due.cancel());
        });
        sleep(Duration::from_millis(1)).await;
        assert_eq!(l.take(), ["ran"]);
    });
}

//! Logs: every poll runs in a `task` span; `SimTimer` stamps lines with simulated time.
#![cfg(feature = "logging")]

use std::io;
use std::sync::{Arc, Mutex};

use detsim::task::Builder as Task;
use detsim::time::{Duration, sleep};

#[derive(Clone, Default)]
struct Buf(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn log_lines_carry_simulated_time_and_the_task_span() {
    let buf = Buf::default();
    let out = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_timer(detsim::trace::SimTimer)
        .with_writer(move || out.clone())
        .with_ansi(false)
        .with_target(false)
        .finish();
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("before the run");
        detsim::run(async {
            let reader = Task::new().name("reader").spawn(async {
                sleep(Duration::from_millis(1500)).await;
                tracing::info!(page = 7, "read a page");
            });
            tracing::warn!("main waits");
            reader.await.unwrap();
        });
    });
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "@- #-  INFO before the run",
            "@0s #1  WARN task{id=0 name=\"main\"}: main waits",
            "@1.5s #3  INFO task{id=1 name=\"reader\"}: read a page page=7",
        ]
    );
}

#[test]
fn init_test_logging_is_scoped_to_its_guard() {
    let no_subscriber =
        || tracing::dispatcher::get_default(|d| d.is::<tracing::subscriber::NoSubscriber>());
    assert!(no_subscriber());
    {
        let _guard = detsim::trace::init_test_logging();
        assert!(!no_subscriber());
        detsim::run(async { tracing::info!("inside") });
    }
    // The guard dropped: nothing is left installed, not even for this thread.
    assert!(no_subscriber());
}

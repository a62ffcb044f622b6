//! The README example of the task API , kept compiling and passing.

#[test]
fn readme_gather_and_task_group() {
    use detsim::task_group::task_group;
    use detsim::time::{Duration, now, sleep};

    detsim::run(async {
        // gather: every future is a task; results in argument order.
        let work = |name: &'static str, ms| async move {
            sleep(Duration::from_millis(ms)).await;
            name
        };
        let names = detsim::gather([work("slow", 300), work("fast", 100)])
            .await
            .unwrap();
        assert_eq!(names, ["slow", "fast"]);

        // TaskGroup: the first failure cancels the siblings and the body; all errors come back.
        let r = task_group(|g| async move {
            g.spawn(async {
                sleep(Duration::from_millis(100)).await;
                Err::<(), _>("boom")
            })
            .unwrap();
            g.spawn(async {
                sleep(Duration::from_secs(10)).await;
                Ok(())
            })
            .unwrap(); // cancelled at 0.4s
            Ok(())
        })
        .await;
        assert_eq!(r.unwrap_err().errors().len(), 1);
        assert_eq!(now().to_string(), "0.4s");
    });
}

/// The README example of cooperative cancellation, kept compiling and passing.
#[test]
fn readme_cooperative_cancellation() {
    use detsim::task::{cancellable, current};
    use detsim::time::{Duration, now, sleep};

    detsim::run(async {
        let worker = detsim::spawn(async {
            match cancellable(sleep(Duration::from_secs(60))).await {
                Ok(()) => "finished",
                Err(cancelled) => {
                    assert_eq!(cancelled.message(), Some("shutting down"));
                    sleep(Duration::from_millis(500)).await; // async cleanup, as in `except`
                    assert_eq!(current().cancelling(), 1);
                    current().uncancel(); // asyncio's uncancel(): carry on
                    "cleaned up"
                }
            }
        });
        detsim::yield_now().await;
        worker.cancel_with("shutting down");
        assert_eq!(worker.await, Ok("cleaned up")); // caught: the task was not cancelled
        assert_eq!(now().to_string(), "0.5s");
    });
}

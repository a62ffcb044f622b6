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

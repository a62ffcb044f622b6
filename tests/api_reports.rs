//! Deadlock reports through the task API: a task awaiting a task group or a gather names the
//! children it waits for.

use detsim::sync::Event;
use detsim::task_group::task_group;
use detsim::{Builder, FailureKind};

fn blocked_lines(f: &detsim::Failure) -> Vec<String> {
    match &f.kind {
        FailureKind::Deadlock { blocked } => blocked.iter().map(|b| b.to_string()).collect(),
        other => panic!("expected a deadlock, got {other:?}"),
    }
}

#[test]
fn a_task_group_names_the_children_it_waits_for() {
    let f = Builder::new()
        .run(async {
            let never = Event::named("never set");
            let r: Result<(), _> = task_group(|g| async move {
                for _ in 0..2 {
                    let e = never.clone();
                    g.spawn(async move {
                        e.wait().await;
                        Ok::<(), ()>(())
                    })
                    .unwrap();
                }
                Ok(())
            })
            .await;
            r.unwrap();
        })
        .unwrap_err();
    let lines = blocked_lines(&f);
    assert_eq!(
        lines[0],
        r#"task 0 "main" waits for TaskGroup #0 held by task 1 "task group child", task 2 "task group child""#,
        "{f}"
    );
    assert!(lines[1].contains(r#"waits for Event "never set""#), "{f}");
}

#[test]
fn a_gather_names_the_children_it_waits_for() {
    let f = Builder::new()
        .run(async {
            let never = Event::named("never set");
            let (a, b) = (never.clone(), never.clone());
            let _ = detsim::gather([
                Box::pin(async move { a.wait().await })
                    as std::pin::Pin<Box<dyn std::future::Future<Output = bool>>>,
                Box::pin(async move { b.wait().await }),
            ])
            .await;
        })
        .unwrap_err();
    let lines = blocked_lines(&f);
    assert!(
        lines[0].starts_with(r#"task 0 "main" waits for gather #"#)
            && lines[0].ends_with(r#"held by task 1 "gather child", task 2 "gather child""#),
        "{f}"
    );
}

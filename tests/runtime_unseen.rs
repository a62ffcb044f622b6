//! Nothing ends unseen: asyncio's "Task exception was never retrieved" and "Task was destroyed but
//! it is pending!", as a setting that fails the run, lists the task in the report, or ignores it.

use detsim::combinators::gather_settled;
use detsim::task_group::task_group;
use detsim::time::{Duration, sleep, wait_for};
use detsim::{Builder, FailureKind, OnUnseen, Unseen, spawn, yield_now};

fn lenient() -> Builder {
    Builder::new().fail_on_task_panic(false)
}

/// asyncio's "Task exception was never retrieved": a detached task panics and nobody reads its
/// error. By default the run fails, naming the task and where it was spawned.
#[test]
fn task_exception_never_retrieved_fails_the_run_by_default() {
    let line = line!() + 6; // the `.spawn(` call below
    let f = lenient()
        .run(async {
            drop(
                detsim::task::Builder::new()
                    .name("lost")
                    .spawn(async { panic!("nobody looks") }),
            );
            yield_now().await;
            yield_now().await;
        })
        .unwrap_err();
    let FailureKind::Unobserved { tasks } = &f.kind else {
        panic!("{f}")
    };
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].task.name.as_deref(), Some("lost"));
    assert_eq!(tasks[0].what, Unseen::Panicked("nobody looks".into()));
    let at = tasks[0].spawned_at.as_deref().unwrap();
    assert!(
        at.starts_with(&format!("tests/runtime_unseen.rs:{line}:")),
        "{at}"
    );
    let report = f.to_string();
    assert!(report.contains("detsim: unobserved task"), "{report}");
    assert!(
        report.contains(r#"task 1 "lost" (spawned at tests/runtime_unseen.rs:"#),
        "{report}"
    );
}

/// A panic whose error someone read — by awaiting, `error()`, `result()`, a gather or a task
/// group — is not unseen.
#[test]
fn a_panic_someone_read_is_not_reported() {
    let r = lenient().run_report(async {
        let awaited = spawn(async { panic!("a") });
        let inspected = spawn(async { panic!("b") });
        let via_handle = spawn(async { panic!("c") });
        let c = via_handle.cancel_handle();
        drop(via_handle);
        let g = gather_settled([async { panic!("d") }]);
        yield_now().await;
        assert!(awaited.await.is_err());
        assert!(inspected.error().is_some());
        assert!(c.error().is_some());
        assert!(g.await[0].is_err());
        let tg = task_group(|g| async move {
            g.spawn(async {
                panic!("e");
                #[allow(unreachable_code)]
                Ok::<(), ()>(())
            })
            .unwrap();
            Ok(())
        })
        .await;
        assert!(tg.is_err());
    });
    r.output.unwrap();
    assert!(r.unseen.is_empty(), "{:?}", r.unseen);
}

/// `OnUnseen::Warn` lists the panicked task in `RunReport::unseen` and passes; `Ignore` does not.
#[test]
fn unobserved_panic_can_warn_or_be_ignored() {
    let program = || async {
        drop(spawn(async { panic!("lost") }));
        yield_now().await;
    };
    let r = lenient()
        .on_unobserved_panic(OnUnseen::Warn)
        .run_report(program());
    r.output.unwrap();
    assert_eq!(r.unseen.len(), 1);
    assert!(
        r.unseen[0]
            .to_string()
            .contains("panicked and nobody read its error")
    );
    let r = lenient()
        .on_unobserved_panic(OnUnseen::Ignore)
        .run_report(program());
    r.output.unwrap();
    assert!(r.unseen.is_empty());
}

/// asyncio's "Task was destroyed but it is pending!": a task still running when the main future
/// returns is listed (the default) or fails the run; one whose cancellation was requested, and
/// detsim's own timers, are not.
#[test]
fn task_destroyed_but_pending_is_listed() {
    let program = || async {
        drop(
            detsim::task::Builder::new()
                .name("forgotten")
                .spawn(sleep(Duration::from_secs(10))),
        );
        let asked_to_stop = spawn(sleep(Duration::from_secs(10)));
        asked_to_stop.cancel();
        // A wait_for that finished leaves no callback task behind to report.
        let quick = spawn(async { 1 });
        assert_eq!(wait_for(Duration::from_secs(5), quick).await, Ok(Ok(1)));
    };
    let r = Builder::new().run_report(program());
    r.output.unwrap();
    assert_eq!(r.unseen.len(), 1, "{:?}", r.unseen);
    assert_eq!(r.unseen[0].task.name.as_deref(), Some("forgotten"));
    assert_eq!(r.unseen[0].what, Unseen::Pending);
    assert!(
        r.unseen[0]
            .to_string()
            .contains("still pending when the main future returned")
    );

    let f = Builder::new()
        .on_pending_at_end(OnUnseen::Fail)
        .run(program())
        .unwrap_err();
    assert!(
        matches!(&f.kind, FailureKind::Unobserved { tasks } if tasks.len() == 1),
        "{f}"
    );

    let r = Builder::new()
        .on_pending_at_end(OnUnseen::Ignore)
        .run_report(program());
    assert!(r.output.is_ok() && r.unseen.is_empty());
}

/// A failed run is not also checked for unseen tasks: its report is about the failure.
#[test]
fn a_failed_run_reports_its_failure_only() {
    let f = lenient()
        .run(async {
            drop(spawn(async { panic!("lost") }));
            yield_now().await;
            futures::future::pending::<()>().await;
        })
        .unwrap_err();
    assert!(matches!(f.kind, FailureKind::Deadlock { .. }), "{f}");
}

/// Explorations fail on an unobserved panic by default, and shrink and replay it like any other
/// failure.
#[test]
fn explorations_fail_on_an_unobserved_panic() {
    let found = lenient()
        .ignore_env()
        .schedules(20)
        .explore(|| async {
            let a = spawn(async {
                yield_now().await;
            });
            drop(spawn(async { panic!("lost") }));
            a.await.unwrap();
            yield_now().await;
        })
        .unwrap_err();
    assert_eq!(found.failure.kind.name(), "unobserved task");
}

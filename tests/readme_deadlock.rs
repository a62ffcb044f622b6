//! The README's "Find a bug" example: an ABBA deadlock between two named Locks, found by the
//! default exploration and reported with both locks and their holders.

use detsim::sync::Lock;

async fn transfers() {
    let (a, b) = (Lock::named("account a"), Lock::named("account b"));
    let t1 = detsim::task::Builder::new().name("a->b").spawn({
        let (a, b) = (a.clone(), b.clone());
        async move {
            let _x = a.acquire().await;
            detsim::yield_now().await;
            let _y = b.acquire().await;
        }
    });
    let t2 = detsim::task::Builder::new().name("b->a").spawn(async move {
        let _y = b.acquire().await;
        detsim::yield_now().await;
        let _x = a.acquire().await;
    });
    t1.await.unwrap();
    t2.await.unwrap();
}

#[test]
fn readme_abba_deadlock_is_found_and_explained() {
    let found = detsim::Builder::new()
        .ignore_env()
        .explore(transfers)
        .unwrap_err();
    let report = found.to_string();
    if std::env::var("PRINT_REPORT").is_ok() {
        println!("{report}");
    }
    assert!(
        report.starts_with("detsim found a failure: deadlock (3 tasks blocked)\n"),
        "{report}"
    );
    // asyncio's own order deadlocks, and the default strategy tries it first.
    assert!(
        report.contains("  strategy: Fifo, asyncio's own order (run first), after 1 run\n"),
        "{report}"
    );
    assert!(
        report.contains("  explored at: tests/readme_deadlock.rs:"),
        "{report}"
    );
    assert!(!report.contains("seed"), "{report}");
    assert!(
        report.contains("  shrunk:   ds1.xZ0cgQ (3 decisions, 0 away from FIFO; "),
        "{report}"
    );
    assert!(
        report.contains("\n    DETSIM_SCHEDULE=ds1.xZ0cgQ cargo test "),
        "{report}"
    );
    assert!(
        report.contains(r#"task 1 "a->b" waits for Lock "account b" held by task 2 "b->a""#),
        "{report}"
    );
    assert!(
        report.contains(r#"task 2 "b->a" waits for Lock "account a" held by task 1 "a->b""#),
        "{report}"
    );
}

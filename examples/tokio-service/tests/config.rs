//! Ordinary `#[tokio::test]`s. They pass on real tokio. Under `RUSTFLAGS="--cfg detsim"` each is
//! explored by detsim, which finds the lost wakeup in `waiter_sees_the_reload`.

use std::time::Duration;

use tokio_service::Config;
use tokio_service::ConfigService;

fn initial() -> Config {
    Config {
        version: 1,
        value: "blue".into(),
    }
}

#[tokio::test]
async fn reload_bumps_the_version() {
    let svc = ConfigService::start(initial());
    assert_eq!(svc.reload("green").await, 2);
    assert_eq!(svc.current().await.value, "green");
}

#[tokio::test(start_paused = true)]
async fn waiter_sees_the_reload() {
    let svc = ConfigService::start(initial());
    let waiter = tokio::spawn({
        let svc = svc.clone();
        async move { svc.wait_for_version(2).await }
    });
    let reloader = tokio::spawn({
        let svc = svc.clone();
        async move { svc.reload("green").await }
    });
    assert_eq!(reloader.await.unwrap(), 2);
    let config = tokio::time::timeout(Duration::from_secs(5), waiter)
        .await
        .expect("the waiter missed the reload: still waiting for version 2 after 5s")
        .unwrap();
    assert_eq!(config.value, "green");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_agree() {
    let svc = ConfigService::start(initial());
    let (a, b) = tokio::join!(svc.current(), svc.current());
    assert_eq!(a, b);
}

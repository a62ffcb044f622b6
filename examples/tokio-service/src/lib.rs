//! A configuration service written purely against tokio: an actor task owns the current
//! [`Config`]; clients read it, reload it, and wait for a version to arrive.
//!
//! It has a latent bug of a kind real code has: [`ConfigService::wait_for_version`] checks the
//! version and *then* creates its `Notified` future, with an `.await` in between, so a reload whose
//! `notify_waiters` lands in that window wakes nobody (a lost wakeup). Its tests pass on real
//! tokio, whose one schedule never opens the window; under `RUSTFLAGS="--cfg detsim"` detsim
//! explores the schedules and finds it.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::sync::Arc;

use tokio::sync::{Notify, mpsc, oneshot};

/// A configuration: a version and a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Increases with every reload.
    pub version: u64,
    /// The setting itself.
    pub value: String,
}

enum Command {
    Get(oneshot::Sender<Config>),
    Set(Config, oneshot::Sender<()>),
}

/// A handle to the service; clone it freely.
#[derive(Clone)]
pub struct ConfigService {
    commands: mpsc::Sender<Command>,
    changed: Arc<Notify>,
}

impl ConfigService {
    /// Starts the actor that owns the configuration.
    pub fn start(initial: Config) -> ConfigService {
        let (commands, mut rx) = mpsc::channel(16);
        let changed = Arc::new(Notify::new());
        let notify = changed.clone();
        tokio::spawn(async move {
            let mut current = initial;
            while let Some(cmd) = rx.recv().await {
                match cmd {
                    Command::Get(reply) => {
                        let _ = reply.send(current.clone());
                    }
                    Command::Set(config, ack) => {
                        current = config;
                        notify.notify_waiters();
                        let _ = ack.send(());
                    }
                }
            }
        });
        ConfigService { commands, changed }
    }

    /// The current configuration.
    pub async fn current(&self) -> Config {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(Command::Get(tx))
            .await
            .expect("config actor stopped");
        rx.await.expect("config actor stopped")
    }

    /// Replaces the value, bumping the version; returns the new version.
    pub async fn reload(&self, value: &str) -> u64 {
        let version = self.current().await.version + 1;
        let (tx, rx) = oneshot::channel();
        let config = Config {
            version,
            value: value.to_string(),
        };
        self.commands
            .send(Command::Set(config, tx))
            .await
            .expect("config actor stopped");
        rx.await.expect("config actor stopped");
        version
    }

    /// Waits until the configuration reaches `version`.
    pub async fn wait_for_version(&self, version: u64) -> Config {
        loop {
            let config = self.current().await;
            if config.version >= version {
                return config;
            }
            // BUG: the `Notified` is created only now, after the `.await` above. A reload that
            // called `notify_waiters` in between has woken nobody, and this waits forever. The
            // fix: create `let notified = self.changed.notified();` (and `enable` it) before
            // reading the configuration.
            self.changed.notified().await;
        }
    }
}

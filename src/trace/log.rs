//! Logs in simulated time: a `tracing-subscriber` timer and a per-test subscriber.
//!
//! Every task poll runs inside a `tracing` span named `task` with the fields `id` and `name`, so
//! every log line a task emits says which task emitted it. [`SimTimer`] stamps lines with detsim's
//! simulated time and step instead of the wall clock. detsim never installs a global subscriber:
//! [`init_test_logging`] installs one for the current thread only, until its guard drops.

use std::fmt;

use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

use crate::runtime;

/// A [`FormatTime`] that prints detsim's simulated time and step: `@0.5s #12`, or `@- #-`
/// outside a run.
///
/// ```
/// use tracing_subscriber::fmt;
/// let subscriber = fmt().with_timer(detsim::trace::SimTimer).with_test_writer().finish();
/// tracing::subscriber::with_default(subscriber, || {
///     detsim::run(async {
///         detsim::time::sleep(detsim::time::Duration::from_secs(2)).await;
///         tracing::info!("logged at @2s, inside span task{{id=0 name=\"main\"}}");
///     });
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct SimTimer;

impl FormatTime for SimTimer {
    fn format_time(&self, w: &mut Writer<'_>) -> fmt::Result {
        match runtime::try_with_core(|c| c.log_stamp()).flatten() {
            Some((now, step)) => write!(w, "@{now} #{step}"),
            None => write!(w, "@- #-"),
        }
    }
}

/// Installs, for the current thread until the returned guard drops, a `tracing-subscriber` fmt
/// subscriber that writes to the test's captured output (`with_test_writer`), stamps lines with
/// [`SimTimer`], and filters with `RUST_LOG` (`EnvFilter`; `info` if unset or invalid).
///
/// ```
/// let _logs = detsim::trace::init_test_logging();
/// detsim::run(async {
///     tracing::info!("hello from simulated time 0s");
/// });
/// ```
pub fn init_test_logging() -> tracing::subscriber::DefaultGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt()
        .with_timer(SimTimer)
        .with_test_writer()
        .with_env_filter(filter)
        .finish();
    tracing::subscriber::set_default(subscriber)
}

//! The report of an exploration: [`Found`] (a failure with everything that replays it),
//! [`Summary`] (every schedule passed), and how the report names the test to run again.

use std::fmt;

use super::Schedule;
use crate::base::Decision;
use crate::failure::{Failure, FailureKind};
/// Every schedule passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// Schedules run.
    pub schedules: u64,
    /// The strategy's name.
    pub strategy: String,
    /// Whether the strategy covered its whole space (an exhaustive search that completed).
    pub exhausted: bool,
    /// What the strategy says it covered (an exhaustive search names its bound and counts).
    pub coverage: Option<String>,
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(c) = &self.coverage {
            f.write_str(c)
        } else if self.exhausted {
            write!(
                f,
                "all {} schedules of {} explored, no failure",
                self.schedules, self.strategy
            )
        } else {
            write!(
                f,
                "{} schedules of {} explored, no failure",
                self.schedules, self.strategy
            )
        }
    }
}

/// The result of the determinism self-check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Determinism {
    /// Replayed twice: identical events, and the same failure.
    Confirmed,
    /// The replays differed; the message names the first difference.
    Differs(String),
}

/// A failure found by an exploration, with everything needed to replay it.
///
/// Its `Display` is the report.
#[derive(Debug)]
pub struct Found {
    /// The failing run, as replayed from the shrunk schedule (with the trace tail in `trace`).
    pub failure: Failure,
    /// The failure of the schedule as first found, before shrinking.
    pub original: Failure,
    /// The strategy that found it.
    pub strategy: String,
    /// The index of the failing schedule (`None` for a replayed seed or schedule).
    pub index: Option<u64>,
    /// How many runs the exploration made, the failing one and any calibration runs of a learning
    /// strategy included.
    pub schedules_run: u64,
    /// The seed of the failing schedule.
    pub seed: u64,
    /// Whether `DETSIM_SEED` alone replays it (the strategy's schedules depend only on the seed).
    pub seed_replays: bool,
    /// The failing schedule.
    pub schedule: Schedule,
    /// The shrunk schedule.
    pub shrunk: Schedule,
    /// Replays spent shrinking.
    pub shrink_runs: usize,
    /// The determinism self-check.
    pub determinism: Determinism,
    /// How to run the test again (`cargo test …`), as far as the harness tells.
    pub test_command: String,
    /// Where the exploration found it: `schedule #12`, `DETSIM_SEED`,
    /// `DETSIM_SCHEDULE`.
    pub found_in: String,
}

/// What usually makes a program replay differently: every source of nondeterminism that bypasses
/// detsim's decisions.
pub(crate) const NONDETERMINISM_HINT: &str = "usual causes: the wall clock (std::time::Instant, \
     SystemTime), HashMap/HashSet iteration order (RandomState), OS threads, and tokio::select! \
     from the real tokio crate (its branch order comes from tokio's own random generator; use \
     detsim-tokio under --cfg detsim, whose select! order is a decision)";

fn away_from_fifo(d: &[Decision]) -> usize {
    d.iter()
        .filter(|d| matches!(d, Decision::Task { index, .. } if *index != 0))
        .count()
}

impl fmt::Display for Found {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "detsim found a failure: {}",
            summary_line(&self.original.kind)
        )?;
        writeln!(
            f,
            "  strategy: {}, {}, after {} runs",
            self.strategy, self.found_in, self.schedules_run
        )?;
        writeln!(f, "  seed: {}", self.seed)?;
        writeln!(
            f,
            "  schedule: {} ({} decisions, {} away from FIFO)",
            self.schedule,
            self.original.decisions.len(),
            away_from_fifo(&self.original.decisions)
        )?;
        writeln!(
            f,
            "  shrunk:   {} ({} decisions, {} away from FIFO; {} replays spent shrinking)",
            self.shrunk,
            self.failure.decisions.len(),
            away_from_fifo(&self.failure.decisions),
            self.shrink_runs
        )?;
        match &self.determinism {
            Determinism::Confirmed => writeln!(
                f,
                "  determinism: the failing schedule replayed twice with identical events"
            )?,
            Determinism::Differs(m) => {
                writeln!(
                    f,
                    "  determinism: NOT deterministic — the replay lines below may not reproduce it:"
                )?;
                for line in m.lines() {
                    writeln!(f, "    {line}")?;
                }
                writeln!(f, "    {NONDETERMINISM_HINT}")?;
            }
        }
        writeln!(f, "\n  replay it:")?;
        if self.seed_replays {
            writeln!(f, "    DETSIM_SEED={} {}", self.seed, self.test_command)?;
        }
        writeln!(
            f,
            "    DETSIM_SCHEDULE={} {}",
            self.shrunk, self.test_command
        )?;
        writeln!(f, "\n  the shrunk run:")?;
        for line in self.failure.to_string().lines() {
            writeln!(f, "  {line}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Found {}

fn summary_line(kind: &FailureKind) -> String {
    match kind {
        FailureKind::Panic { task, message, .. } => {
            let first = message.lines().next().unwrap_or("");
            format!("panic in {task}: {first}")
        }
        FailureKind::Deadlock { blocked } => format!("deadlock ({} tasks blocked)", blocked.len()),
        other => other.name().to_string(),
    }
}

/// How to run the current test again, from what the test harness tells: libtest names the test
/// thread after the test, nextest sets `NEXTEST_TEST_NAME` and `NEXTEST_BINARY_ID`.
pub(super) fn test_command() -> String {
    let name = std::env::var("NEXTEST_TEST_NAME").ok().or_else(|| {
        std::thread::current()
            .name()
            .filter(|n| *n != "main" && !n.starts_with("detsim-job"))
            .map(str::to_string)
    });
    let Some(name) = name else {
        return "cargo test <test name>".to_string();
    };
    if name.contains(" - ") {
        // A doc test: "src/lib.rs - path (line N)".
        return format!("cargo test --doc -- {:?}", name);
    }
    let target = if let Ok(id) = std::env::var("NEXTEST_BINARY_ID") {
        match id.split_once("::") {
            Some((_, bin)) if !bin.contains('/') => format!("--test {bin}"),
            Some(_) => String::new(),
            None => "--lib".to_string(),
        }
    } else {
        let stem = std::env::current_exe()
            .ok()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .map(|s| match s.rsplit_once('-') {
                Some((base, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => {
                    base.to_string()
                }
                _ => s,
            });
        let manifest = std::env::var("CARGO_MANIFEST_DIR").ok();
        let crate_name = std::env::var("CARGO_PKG_NAME")
            .ok()
            .map(|n| n.replace('-', "_"));
        match (stem, manifest) {
            (Some(stem), _) if Some(&stem) == crate_name.as_ref() => "--lib".to_string(),
            (Some(stem), Some(dir))
                if std::path::Path::new(&dir)
                    .join("tests")
                    .join(format!("{stem}.rs"))
                    .exists() =>
            {
                format!("--test {stem}")
            }
            _ => String::new(),
        }
    };
    let cargo = cargo_test();
    if target.is_empty() {
        format!("{cargo} -- --exact {name}")
    } else {
        format!("{cargo} {target} -- --exact {name}")
    }
}

/// `cargo test`, with what else the replay needs: `RUSTFLAGS="--cfg detsim"` when this build has
/// it (detsim-tokio's simulation), `-p NAME` for a workspace member other than the root package,
/// and `--target-dir DIR` when the test binary was built outside the workspace's `target/`.
fn cargo_test() -> String {
    let mut cmd = String::new();
    if cfg!(detsim) {
        cmd.push_str("RUSTFLAGS=\"--cfg detsim\" ");
    }
    cmd.push_str("cargo test");
    let Some(manifest) = std::env::var_os("CARGO_MANIFEST_DIR").map(std::path::PathBuf::from)
    else {
        return cmd;
    };
    let is_workspace = |dir: &std::path::Path| {
        std::fs::read_to_string(dir.join("Cargo.toml"))
            .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
    };
    let root = manifest.ancestors().find(|d| is_workspace(d));
    let Some(root) = root else {
        return cmd;
    };
    if root != manifest {
        if let Ok(pkg) = std::env::var("CARGO_PKG_NAME") {
            cmd.push_str(&format!(" -p {pkg}"));
        }
    }
    // The binary lives in TARGET/PROFILE/deps/NAME-HASH.
    let target = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(std::path::Path::to_path_buf));
    if let Some(target) = target {
        if target != root.join("target") && std::env::var_os("CARGO_TARGET_DIR").is_none() {
            let shown = target.strip_prefix(root).unwrap_or(&target);
            cmd.push_str(&format!(" --target-dir {}", shown.display()));
        }
    }
    cmd
}

/// The first difference between two runs' event sequences, as two lines naming tasks.
pub(super) fn first_difference(
    ta: &crate::trace::Trace,
    tb: &crate::trace::Trace,
) -> Option<String> {
    let (a, b) = (&ta.events, &tb.events);
    let n = a.len().min(b.len());
    for i in 0..n {
        if a[i] != b[i] {
            return Some(format!(
                "event {i} differs:\n  first run:  {}\n  second run: {}",
                ta.render_event(&a[i]),
                tb.render_event(&b[i])
            ));
        }
    }
    // Events hold ids; the names a report and a trace print come from the tables, so a name
    // drawn from hash order differs only there.
    if let Some(diff) = first_table_difference(ta, tb) {
        return Some(diff);
    }
    if a.len() != b.len() {
        let (longer, which) = if a.len() > b.len() {
            (a, "first")
        } else {
            (b, "second")
        };
        let t = if a.len() > b.len() { ta } else { tb };
        return Some(format!(
            "the {which} run went on after event {n}: {}",
            t.render_event(&longer[n])
        ));
    }
    None
}

/// The first difference between the task or resource tables of two traces.
fn first_table_difference(ta: &crate::trace::Trace, tb: &crate::trace::Trace) -> Option<String> {
    let show = |t: &crate::trace::TaskInfo| {
        let name = t
            .name
            .as_deref()
            .map_or(String::new(), |n| format!(" {n:?}"));
        let parent = t
            .parent
            .map_or(String::new(), |p| format!(", spawned by task {p}"));
        format!("task {}{name}{parent}", t.id)
    };
    for (x, y) in ta.tasks.iter().zip(&tb.tasks) {
        if x != y {
            return Some(format!(
                "task {} differs:\n  first run:  {}\n  second run: {}",
                x.id,
                show(x),
                show(y)
            ));
        }
    }
    if ta.tasks.len() != tb.tasks.len() {
        return Some(format!(
            "the first run spawned {} tasks, the second {}",
            ta.tasks.len(),
            tb.tasks.len()
        ));
    }
    let show = |r: &crate::trace::ResourceInfo| match &r.name {
        Some(n) => format!("{} {n:?}", r.kind),
        None => format!("{} #{}", r.kind, r.id),
    };
    for (x, y) in ta.resources.iter().zip(&tb.resources) {
        if x != y {
            return Some(format!(
                "resource #{} differs:\n  first run:  {}\n  second run: {}",
                x.id,
                show(x),
                show(y)
            ));
        }
    }
    if ta.resources.len() != tb.resources.len() {
        return Some(format!(
            "the first run created {} resources, the second {}",
            ta.resources.len(),
            tb.resources.len()
        ));
    }
    None
}

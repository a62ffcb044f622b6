//! The report of an exploration: [`Found`] (a failure with everything that replays it),
//! [`Summary`] (every schedule passed), and how the report names the test to run again.

use std::fmt;
use std::path::{Path, PathBuf};

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
    /// How many of the schedules run were distinct (different decision logs).
    pub distinct: u64,
    /// Steps (task polls) taken by all the schedules run.
    pub steps: u64,
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
    /// The index of the failing schedule (`None` for a replayed seed or schedule, and for the
    /// FIFO schedule the default strategy runs first).
    pub index: Option<u64>,
    /// How many runs the exploration made, the failing one and any calibration runs of a learning
    /// strategy included.
    pub schedules_run: u64,
    /// The seed of the failing schedule. Meaningful only when [`seed_replays`](Self::seed_replays)
    /// is set: a replayed schedule string fixes every decision, so no seed is involved.
    pub seed: u64,
    /// Whether `DETSIM_SEED` alone replays it (the strategy's schedules depend only on the seed).
    pub seed_replays: bool,
    /// The failing schedule.
    pub schedule: Schedule,
    /// The shrunk schedule (the failing schedule itself when [`shrank`](Self::shrank) is false).
    pub shrunk: Schedule,
    /// Replays spent shrinking.
    pub shrink_runs: usize,
    /// Whether the failing schedule was shrunk. A replay (`DETSIM_SEED`, `DETSIM_SCHEDULE`,
    /// [`replay_seed`](crate::Builder::replay_seed), [`replay_schedule`](crate::Builder::replay_schedule))
    /// is not shrunk again unless asked (`DETSIM_SHRINK=1`, [`shrink`](crate::Builder::shrink)).
    pub shrank: bool,
    /// Whether the run is a replay of a given seed or schedule string rather than a find.
    pub replayed: bool,
    /// Whether the run is the replay of a given schedule string (no seed is involved).
    pub given_schedule: bool,
    /// The determinism self-check.
    pub determinism: Determinism,
    /// How to run the test again (`cargo test …`), as far as the harness tells.
    pub test_command: String,
    /// Where the exploration found it: `schedule #12`, `the schedule of DETSIM_SEED`,
    /// `DETSIM_SCHEDULE`, `the FIFO schedule (asyncio's order), run first`.
    pub found_in: String,
    /// The `file:line:column` of the call that started the exploration (`detsim::check`,
    /// `Builder::check` or `Builder::explore`), so the report names the test's line.
    pub called_at: Option<String>,
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
        let what = summary_line(&self.original.kind);
        if self.given_schedule {
            writeln!(f, "detsim: the replayed schedule fails: {what}")?;
        } else {
            writeln!(f, "detsim found a failure: {what}")?;
        }
        if let Some(at) = &self.called_at {
            writeln!(f, "  explored at: {at}")?;
        }
        if self.given_schedule {
            writeln!(
                f,
                "  replayed: {} ({} decisions, {} away from FIFO), given by {}",
                self.schedule,
                self.original.decisions.len(),
                away_from_fifo(&self.original.decisions),
                self.found_in
            )?;
        } else {
            writeln!(
                f,
                "  strategy: {}, {}, after {}",
                self.strategy,
                self.found_in,
                super::progress::plural(self.schedules_run, "run")
            )?;
            if self.seed_replays {
                writeln!(f, "  seed: {}", self.seed)?;
            }
            writeln!(
                f,
                "  schedule: {} ({} decisions, {} away from FIFO)",
                self.schedule,
                self.original.decisions.len(),
                away_from_fifo(&self.original.decisions)
            )?;
        }
        if self.shrank {
            writeln!(
                f,
                "  shrunk:   {} ({} decisions, {} away from FIFO; {} replays spent shrinking)",
                self.shrunk,
                self.failure.decisions.len(),
                away_from_fifo(&self.failure.decisions),
                self.shrink_runs
            )?;
        } else if self.replayed {
            writeln!(
                f,
                "  not shrunk: a replay is not shrunk again (DETSIM_SHRINK=1 shrinks it)"
            )?;
        } else {
            writeln!(
                f,
                "  not shrunk: shrinking is off (DETSIM_SHRINK=0, Builder::shrink(false) or \
                 Builder::shrink_runs(0))"
            )?;
        }
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
        if self.shrank {
            writeln!(f, "\n  the shrunk run:")?;
        } else {
            writeln!(f, "\n  the run:")?;
        }
        let run = self.failure.render(self.seed_replays);
        for line in run.lines() {
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
/// thread after the test, nextest sets `NEXTEST_TEST_NAME` and `NEXTEST_BINARY_ID`, and cargo sets
/// `CARGO_PKG_NAME` and `CARGO_MANIFEST_DIR` for the test process.
pub(super) fn test_command() -> String {
    let env = |k: &str| std::env::var(k).ok();
    let harness = Harness {
        test_name: env("NEXTEST_TEST_NAME").or_else(|| {
            std::thread::current()
                .name()
                .filter(|n| *n != "main" && !n.starts_with("detsim-job"))
                .map(str::to_string)
        }),
        nextest_binary_id: env("NEXTEST_BINARY_ID"),
        exe: std::env::current_exe().ok(),
        manifest_dir: env("CARGO_MANIFEST_DIR").map(PathBuf::from),
        package: env("CARGO_PKG_NAME"),
        cfg_detsim: cfg!(detsim),
        target_dir_set: std::env::var_os("CARGO_TARGET_DIR").is_some(),
    };
    harness.command(|p| std::fs::read_to_string(p).ok())
}

/// What the harness and cargo tell about the running test.
pub(super) struct Harness {
    /// The test's name (libtest's thread name, or nextest's `NEXTEST_TEST_NAME`).
    pub(super) test_name: Option<String>,
    /// nextest's `NEXTEST_BINARY_ID`: `package`, `package::test-binary`, `package::bin/name`.
    pub(super) nextest_binary_id: Option<String>,
    /// The test executable, e.g. `…/target/debug/deps/explore_replay-0123abcd`.
    pub(super) exe: Option<PathBuf>,
    /// `CARGO_MANIFEST_DIR`: the package's directory.
    pub(super) manifest_dir: Option<PathBuf>,
    /// `CARGO_PKG_NAME`.
    pub(super) package: Option<String>,
    /// Whether this build has `--cfg detsim` (detsim-tokio's simulation).
    pub(super) cfg_detsim: bool,
    /// Whether `CARGO_TARGET_DIR` is set (then cargo finds the build without `--target-dir`).
    pub(super) target_dir_set: bool,
}

impl Harness {
    /// The `cargo test …` line; `read` reads a file (a `Cargo.toml`, or `None` if absent).
    pub(super) fn command(&self, read: impl Fn(&Path) -> Option<String>) -> String {
        let Some(name) = &self.test_name else {
            return "cargo test <test name>".to_string();
        };
        let cargo = self.cargo(&read);
        if name.contains(" - ") {
            // A doc test: "src/lib.rs - path (line N)".
            return format!("{cargo} --doc -- {name:?}");
        }
        let target = match &self.nextest_binary_id {
            Some(id) => match id.split_once("::") {
                Some((_, bin)) if !bin.contains('/') => format!("--test {bin}"),
                Some(_) => String::new(),
                None => "--lib".to_string(),
            },
            None => self.libtest_target(&read),
        };
        if target.is_empty() {
            format!("{cargo} -- --exact {name}")
        } else {
            format!("{cargo} {target} -- --exact {name}")
        }
    }

    /// `cargo test`, with what else the replay needs: `RUSTFLAGS="--cfg detsim"` when this build
    /// has it (detsim-tokio's simulation), `-p NAME` for a workspace member other than the root
    /// package (so the line works pasted at the workspace root), and `--target-dir DIR` when the
    /// test binary was built outside the workspace's `target/`.
    fn cargo(&self, read: &impl Fn(&Path) -> Option<String>) -> String {
        let mut cmd = String::new();
        if self.cfg_detsim {
            cmd.push_str("RUSTFLAGS=\"--cfg detsim\" ");
        }
        cmd.push_str("cargo test");
        let Some(manifest) = &self.manifest_dir else {
            return cmd;
        };
        let Some(root) = manifest.ancestors().find(|d| is_workspace(d, read)) else {
            return cmd;
        };
        if root != manifest {
            if let Some(pkg) = &self.package {
                cmd.push_str(&format!(" -p {pkg}"));
            }
        }
        // The binary lives in TARGET/PROFILE/deps/NAME-HASH.
        let target = self.exe.as_ref().and_then(|exe| exe.ancestors().nth(3));
        if let Some(target) = target {
            if target != root.join("target") && !self.target_dir_set {
                let shown = target.strip_prefix(root).unwrap_or(target);
                cmd.push_str(&format!(" --target-dir {}", shown.display()));
            }
        }
        cmd
    }

    /// `--lib` or `--test NAME` from the executable's name, when cargo's variables confirm it.
    fn libtest_target(&self, read: &impl Fn(&Path) -> Option<String>) -> String {
        let stem = self
            .exe
            .as_ref()
            .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
            .map(|s| match s.rsplit_once('-') {
                Some((base, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => {
                    base.to_string()
                }
                _ => s,
            });
        let crate_name = self.package.as_ref().map(|n| n.replace('-', "_"));
        match (stem, &self.manifest_dir) {
            (Some(stem), _) if Some(&stem) == crate_name.as_ref() => "--lib".to_string(),
            (Some(stem), Some(dir))
                if read(&dir.join("tests").join(format!("{stem}.rs"))).is_some() =>
            {
                format!("--test {stem}")
            }
            _ => String::new(),
        }
    }
}

/// Whether `dir` is a workspace's root: its `Cargo.toml` has a `[workspace]` table.
fn is_workspace(dir: &Path, read: &impl Fn(&Path) -> Option<String>) -> bool {
    read(&dir.join("Cargo.toml"))
        .is_some_and(|toml| toml.lines().any(|l| l.trim() == "[workspace]"))
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
    let task = |t: &crate::trace::TaskInfo| {
        let name = t
            .name
            .as_deref()
            .map_or(String::new(), |n| format!(" {n:?}"));
        let parent = t
            .parent
            .map_or(String::new(), |p| format!(", spawned by task {p}"));
        (
            format!("task {}", t.id),
            format!("task {}{name}{parent}", t.id),
        )
    };
    let resource = |r: &crate::trace::ResourceInfo| {
        let shown = match &r.name {
            Some(n) => format!("{} {n:?}", r.kind),
            None => format!("{} #{}", r.kind, r.id),
        };
        (format!("resource #{}", r.id), shown)
    };
    rows_difference(&ta.tasks, &tb.tasks, "spawned", "tasks", task).or_else(|| {
        rows_difference(
            &ta.resources,
            &tb.resources,
            "created",
            "resources",
            resource,
        )
    })
}

/// The first differing row of two tables, or their lengths when one is a prefix of the other;
/// `show` gives a row's label and its full description.
fn rows_difference<T: PartialEq>(
    a: &[T],
    b: &[T],
    verb: &str,
    rows: &str,
    show: impl Fn(&T) -> (String, String),
) -> Option<String> {
    if let Some((x, y)) = a.iter().zip(b).find(|(x, y)| x != y) {
        let ((label, x), (_, y)) = (show(x), show(y));
        return Some(format!(
            "{label} differs:\n  first run:  {x}\n  second run: {y}"
        ));
    }
    (a.len() != b.len()).then(|| {
        format!(
            "the first run {verb} {} {rows}, the second {}",
            a.len(),
            b.len()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::{Harness, rows_difference};
    use std::path::{Path, PathBuf};

    /// A file system with these files (path, contents).
    fn files(list: &'static [(&'static str, &'static str)]) -> impl Fn(&Path) -> Option<String> {
        move |p: &Path| {
            list.iter()
                .find(|(q, _)| Path::new(q) == p)
                .map(|(_, c)| c.to_string())
        }
    }

    /// A test binary `stem` of the package in `dir`, built in `target`.
    fn built(dir: &str, target: &str, stem: &str) -> Harness {
        Harness {
            test_name: Some("finds_it".into()),
            nextest_binary_id: None,
            exe: Some(PathBuf::from(format!("{target}/debug/deps/{stem}"))),
            manifest_dir: Some(PathBuf::from(dir)),
            package: Some("my-crate".into()),
            cfg_detsim: false,
            target_dir_set: false,
        }
    }

    /// Built in `/w/target` (the workspace root is `/w` in most of these tests).
    fn harness(dir: &str, stem: &str) -> Harness {
        built(dir, "/w/target", stem)
    }

    #[test]
    fn a_single_package_needs_no_package_flag() {
        let fs = files(&[
            ("/w/Cargo.toml", "[package]\nname = \"my-crate\"\n"),
            ("/w/tests/bank.rs", ""),
        ]);
        let h = harness("/w", "bank-0123abcd");
        assert_eq!(h.command(&fs), "cargo test --test bank -- --exact finds_it");
        let h = harness("/w", "my_crate-0123abcd");
        assert_eq!(h.command(&fs), "cargo test --lib -- --exact finds_it");
    }

    #[test]
    fn a_workspace_member_gets_its_package_flag() {
        let fs = files(&[
            ("/w/Cargo.toml", "[workspace]\nmembers = [\"crates/*\"]\n"),
            (
                "/w/crates/my-crate/Cargo.toml",
                "[package]\nname = \"my-crate\"\n",
            ),
            ("/w/crates/my-crate/tests/bank.rs", ""),
        ]);
        let h = harness("/w/crates/my-crate", "bank-0123abcd");
        assert_eq!(
            h.command(&fs),
            "cargo test -p my-crate --test bank -- --exact finds_it"
        );
        let mut doc = harness("/w/crates/my-crate", "rust_out");
        doc.test_name = Some("src/lib.rs - check (line 10)".into());
        assert_eq!(
            doc.command(&fs),
            "cargo test -p my-crate --doc -- \"src/lib.rs - check (line 10)\""
        );
        // nextest names the binary itself.
        let mut n = harness("/w/crates/my-crate", "whatever");
        n.nextest_binary_id = Some("my-crate::bank".into());
        assert_eq!(
            n.command(&fs),
            "cargo test -p my-crate --test bank -- --exact finds_it"
        );
        // Built elsewhere: the line says where.
        let elsewhere = built(
            "/w/crates/my-crate",
            "/w/crates/my-crate/target",
            "bank-01ab",
        );
        assert_eq!(
            elsewhere.command(&fs),
            "cargo test -p my-crate --target-dir crates/my-crate/target --test bank -- --exact finds_it"
        );
        // A build with --cfg detsim says so.
        let mut sim = harness("/w/crates/my-crate", "bank-0123abcd");
        sim.cfg_detsim = true;
        assert!(
            sim.command(&fs)
                .starts_with("RUSTFLAGS=\"--cfg detsim\" cargo test -p my-crate ")
        );
    }

    #[test]
    fn the_root_package_of_a_workspace_needs_no_package_flag() {
        // `cargo test` at the root of a workspace whose root is a package tests that package.
        let fs = files(&[
            (
                "/w/Cargo.toml",
                "[package]\nname = \"my-crate\"\n\n[workspace]\nmembers = [\"x\"]\n",
            ),
            ("/w/tests/bank.rs", ""),
        ]);
        assert_eq!(
            harness("/w", "bank-0123abcd").command(&fs),
            "cargo test --test bank -- --exact finds_it"
        );
    }

    #[test]
    fn table_rows_report_the_first_difference_then_the_lengths() {
        let show = |x: &u32| (format!("row {x}"), format!("value {x}"));
        assert_eq!(
            rows_difference(&[1, 2], &[1, 2], "made", "rows", show),
            None
        );
        assert_eq!(
            rows_difference(&[1, 2, 3], &[1, 5], "made", "rows", show).as_deref(),
            Some("row 2 differs:\n  first run:  value 2\n  second run: value 5")
        );
        assert_eq!(
            rows_difference(&[1], &[1, 2], "made", "rows", show).as_deref(),
            Some("the first run made 1 rows, the second 2")
        );
    }

    #[test]
    fn without_a_test_name_it_says_so() {
        let mut h = harness("/w", "x");
        h.test_name = None;
        assert_eq!(h.command(files(&[])), "cargo test <test name>");
    }
}

//! Bad input never panics inside detsim, aborts or hangs: every `DETSIM_*` variable with empty,
//! garbage, negative, zero, huge, non-ASCII and boundary values gives either a correct run or an
//! error naming the variable and its accepted forms; schedule strings under random mutation and
//! truncation either parse or say why not, and a parsed one replays or reports a divergence.

use std::time::Duration;

use detsim::Builder;
use detsim::explore::{Overrides, Schedule, Strategy};

#[path = "common/child.rs"]
mod child;
#[path = "common/lost_update.rs"]
mod lost_update;
use child::{is_child, run_child};
use lost_update::lost_update;

/// Values every variable is tried with.
const VALUES: &[&str] = &[
    "",
    " ",
    "abc",
    "-1",
    "0",
    "1",
    "2",
    " 3 ",
    "1/1",
    "1/2",
    "2/2",
    "0/2",
    "3/2",
    "1/0",
    "1/18446744073709551615",
    "18446744073709551615",
    "18446744073709551616",
    "99999999999999999999999999999",
    "0x",
    "0xffffffffffffffff",
    "1e9",
    "1.5",
    "nan",
    "inf",
    "５",
    "é",
    "日本",
    "auto",
    "off",
    "500ms",
    "1ms",
    "true",
    "maybe",
    "pct:0",
    "pct:1000",
    "pct:1001",
    "dfs:4294967295",
    "delays:4294967296",
    "ds1.",
    "ds1.xZ0cgQ",
    "ds1.!!",
    "\u{0}",
];

fn lookup<'a>(var: &'a str, value: &'a str) -> impl Fn(&str) -> Option<String> + 'a {
    move |k| (k == var).then(|| value.to_string())
}

#[test]
fn every_variable_parses_or_names_itself_and_its_forms() {
    assert_eq!(Overrides::VARIABLES.len(), 10);
    for &var in Overrides::VARIABLES {
        for &value in VALUES {
            let got = std::panic::catch_unwind(|| Overrides::from_lookup(lookup(var, value)));
            let Ok(got) = got else {
                panic!("{var}={value:?}: parsing panicked");
            };
            if let Err(e) = got {
                assert_eq!(e.variable, var, "{var}={value:?}: {e}");
                let msg = e.to_string();
                assert!(
                    msg.starts_with(&format!("{var}={value:?} is not valid: expected ")),
                    "{msg}"
                );
                assert!(
                    msg.len() > var.len() + value.len() + 30,
                    "no accepted forms: {msg}"
                );
            }
        }
    }
}

#[test]
fn child_bad_input() {
    if !is_child() {
        return;
    }
    Builder::new().check(lost_update);
}

/// The values that parse, run for real in a child process: a pass, the failure report, or (for
/// a tiny poll timeout) the watchdog's report; never an internal panic, an abort or a hang.
#[test]
fn accepted_values_run_to_a_correct_end() {
    for &var in Overrides::VARIABLES {
        for &value in VALUES {
            if value.trim().is_empty() || value.contains('\u{0}') {
                continue; // unset; a NUL cannot be passed through the environment
            }
            if Overrides::from_lookup(lookup(var, value)).is_err() {
                continue; // covered above; one child run below shows how it surfaces
            }
            let out = run_child("child_bad_input", &[(var, value)], Duration::from_secs(120));
            let stderr = String::from_utf8_lossy(&out.stderr);
            let passed = out.status.success();
            // A find, or (DETSIM_SCHEDULE) the replay of a given schedule, which says so.
            let found = (stderr.contains("detsim found a failure")
                || stderr.contains("detsim: the replayed schedule fails"))
                && stderr.contains("lost update");
            let replay_diverged = stderr.contains("replay diverged");
            let watchdog = var == "DETSIM_POLL_TIMEOUT" && stderr.contains("a poll did not return");
            assert!(
                passed || found || replay_diverged || watchdog,
                "{var}={value:?} ended badly ({:?}):\n{stderr}",
                out.status
            );
        }
    }
}

#[test]
fn a_malformed_variable_fails_the_test_with_its_message() {
    for (var, value) in [
        ("DETSIM_ITERATIONS", "-1"),
        ("DETSIM_JOBS", "100000"),
        ("DETSIM_POLL_TIMEOUT", "forever"),
        ("DETSIM_STRATEGY", "pct:200000"),
    ] {
        let out = run_child("child_bad_input", &[(var, value)], Duration::from_secs(120));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success());
        assert!(
            stderr.contains(&format!("{var}={value:?} is not valid: expected")),
            "{stderr}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_value_that_is_not_utf8_is_an_error_not_ignored() {
    use std::os::unix::ffi::OsStrExt;
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_bad_input", "--nocapture"])
        .env("DETSIM_TEST_CHILD", "1")
        .env("DETSIM_ITERATIONS", std::ffi::OsStr::from_bytes(b"1\xff"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("DETSIM_ITERATIONS="), "{stderr}");
    assert!(stderr.contains("UTF-8"), "{stderr}");
}

/// A schedule that parses replays to a pass, the program's failure, or a divergence.
fn replays_or_diverges(schedule: Schedule, what: &str) {
    let out = Builder::new()
        .ignore_env()
        .shrink_runs(20)
        .replay_schedule(schedule)
        .explore(lost_update);
    if let Err(f) = out {
        let report = f.to_string();
        assert!(
            report.contains("lost update") || report.contains("replay diverged"),
            "{what}:\n{report}"
        );
    }
}

/// A tiny deterministic generator for the mutations.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn mutated_and_truncated_schedules_parse_or_explain_and_replay_or_diverge() {
    let found = Builder::new()
        .ignore_env()
        .strategy(Strategy::Random)
        .explore(lost_update)
        .unwrap_err();
    let text = found.schedule.to_string();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \xc3\xa9";
    let mut rng = Rng(13);
    let (mut parsed, mut rejected) = (0, 0);
    for _ in 0..2000 {
        let mut s: Vec<u8> = text.as_bytes().to_vec();
        for _ in 0..1 + rng.below(3) {
            match rng.below(4) {
                0 if !s.is_empty() => s.truncate(rng.below(s.len())),
                1 if !s.is_empty() => {
                    let i = rng.below(s.len());
                    s[i] = alphabet[rng.below(alphabet.len())];
                }
                2 => {
                    let i = rng.below(s.len() + 1);
                    s.insert(i, alphabet[rng.below(alphabet.len())]);
                }
                _ if !s.is_empty() => {
                    s.remove(rng.below(s.len()));
                }
                _ => {}
            }
        }
        let s = String::from_utf8_lossy(&s).into_owned();
        let r = std::panic::catch_unwind(|| s.parse::<Schedule>());
        let Ok(r) = r else {
            panic!("parsing {s:?} panicked")
        };
        match r {
            Err(e) => {
                rejected += 1;
                assert!(e.to_string().contains("ds1."), "{s:?}: {e}");
            }
            Ok(schedule) => {
                parsed += 1;
                replays_or_diverges(schedule, &s);
            }
        }
    }
    assert!(rejected > 1000, "{rejected} rejected, {parsed} parsed");
    // The checksum rejects most mutations of the text; mutate the decisions themselves too, so
    // that well-formed schedules the program never made are replayed.
    let log = found.schedule.decisions().to_vec();
    for _ in 0..300 {
        let mut d = log.clone();
        match rng.below(4) {
            0 => d.truncate(rng.below(d.len() + 1)),
            1 => d.push(detsim::scheduler::Decision::Random(rng.next())),
            2 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = detsim::scheduler::Decision::Task {
                    task: detsim::TaskId::from_u32(rng.below(6) as u32),
                    index: 0,
                    runnable: 0,
                };
            }
            _ => d.extend(log.iter().copied()),
        }
        let schedule: Schedule = Schedule::from_decisions(&d).to_string().parse().unwrap();
        replays_or_diverges(schedule, &format!("{d:?}"));
    }
}

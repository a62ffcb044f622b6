//! Environment overrides for explorations, read in one place.
//!
//! | variable | accepted values | effect |
//! |---|---|---|
//! | `DETSIM_SEED` | an integer (decimal, or hex with `0x`) | run only the schedule with this seed |
//! | `DETSIM_SCHEDULE` | a schedule string `ds1.…` | replay exactly this schedule |
//! | `DETSIM_ITERATIONS` | a positive integer | how many schedules to explore |
//! | `DETSIM_STRATEGY` | see [`Strategy`](super::Strategy)'s `FromStr` | the exploration strategy |
//! | `DETSIM_JOBS` | 1 to 1024, or `auto` (the number of CPUs) | OS threads running schedules |
//! | `DETSIM_SHARD` | `k/n` with `1 <= k <= n` | run only shard `k` of `n` of the schedules |
//! | `DETSIM_CHECK_DETERMINISM` | `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off` | run every schedule twice and compare |
//! | `DETSIM_SHRINK` | as above | shrink the failing schedule (default: on, but off for a replay) |
//! | `DETSIM_PROGRESS` | as above, or a delay such as `5s` / `500ms` | progress lines on stderr (default: on, after 2 s) |
//! | `DETSIM_POLL_TIMEOUT` | a duration (`5s`, `500ms`, `2m`, `10`), or `off` | the watchdog's limit on one poll (every run, not only explorations) |
//!
//! A malformed value (or one that is not UTF-8) is an error naming the variable and the accepted
//! forms; an empty value counts as unset.

use std::fmt;

use super::Strategy;
use super::progress::ProgressSetting;
use crate::base::Schedule;

/// The environment's overrides, as read by [`Overrides::from_env`].
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// `DETSIM_SEED`.
    pub seed: Option<u64>,
    /// `DETSIM_SCHEDULE`.
    pub schedule: Option<Schedule>,
    /// `DETSIM_ITERATIONS`.
    pub iterations: Option<u64>,
    /// `DETSIM_STRATEGY`.
    pub strategy: Option<Strategy>,
    /// `DETSIM_JOBS`.
    pub jobs: Option<usize>,
    /// `DETSIM_SHARD`, as `(k, n)` with `1 <= k <= n`.
    pub shard: Option<(u64, u64)>,
    /// `DETSIM_CHECK_DETERMINISM`.
    pub check_determinism: Option<bool>,
    /// `DETSIM_SHRINK`.
    pub shrink: Option<bool>,
    /// `DETSIM_PROGRESS`.
    pub progress: Option<ProgressSetting>,
    /// `DETSIM_POLL_TIMEOUT`: `Some(None)` turns the watchdog off.
    pub poll_timeout: Option<Option<std::time::Duration>>,
}

/// A malformed environment variable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvError {
    /// The variable's name.
    pub variable: &'static str,
    /// Its value.
    pub value: String,
    /// The forms it accepts.
    pub accepted: String,
}

impl fmt::Display for EnvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}={:?} is not valid: expected {}",
            self.variable, self.value, self.accepted
        )
    }
}

impl std::error::Error for EnvError {}

impl Overrides {
    /// Every variable read, in the order they are read.
    pub const VARIABLES: &[&str] = &[
        "DETSIM_SEED",
        "DETSIM_SCHEDULE",
        "DETSIM_ITERATIONS",
        "DETSIM_STRATEGY",
        "DETSIM_JOBS",
        "DETSIM_SHARD",
        "DETSIM_CHECK_DETERMINISM",
        "DETSIM_SHRINK",
        "DETSIM_PROGRESS",
        "DETSIM_POLL_TIMEOUT",
    ];

    /// Reads every `DETSIM_*` override from the process environment. A value that is not valid
    /// UTF-8 is an error too, never silently ignored.
    pub fn from_env() -> Result<Overrides, EnvError> {
        for &variable in Overrides::VARIABLES {
            if let Err(std::env::VarError::NotUnicode(v)) = std::env::var(variable) {
                return Err(EnvError {
                    variable,
                    value: v.to_string_lossy().into_owned(),
                    accepted: "text in UTF-8 (the value holds bytes that are not)".into(),
                });
            }
        }
        Overrides::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads the overrides through `get` (for tests and embedding).
    ///
    /// ```
    /// use detsim::explore::Overrides;
    /// let o = Overrides::from_lookup(|k| (k == "DETSIM_SHARD").then(|| "2/3".to_string())).unwrap();
    /// assert_eq!(o.shard, Some((2, 3)));
    /// let e = Overrides::from_lookup(|k| (k == "DETSIM_JOBS").then(|| "many".to_string())).unwrap_err();
    /// assert_eq!(e.variable, "DETSIM_JOBS");
    /// ```
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Overrides, EnvError> {
        let var = |name: &'static str| get(name).filter(|v| !v.trim().is_empty());
        let err = |variable: &'static str, value: &str, accepted: &str| EnvError {
            variable,
            value: value.to_string(),
            accepted: accepted.to_string(),
        };
        let mut o = Overrides::default();
        if let Some(v) = var("DETSIM_SEED") {
            o.seed = Some(parse_u64(&v).ok_or_else(|| {
                err(
                    "DETSIM_SEED",
                    &v,
                    "an unsigned 64-bit integer, decimal or 0x-hex (the seed printed by a failure report)",
                )
            })?);
        }
        if let Some(v) = var("DETSIM_SCHEDULE") {
            o.schedule = Some(
                v.parse::<Schedule>()
                    .map_err(|e| err("DETSIM_SCHEDULE", &v, &format!("a schedule string: {e}")))?,
            );
        }
        if let Some(v) = var("DETSIM_ITERATIONS") {
            o.iterations = Some(parse_u64(&v).filter(|n| *n > 0).ok_or_else(|| {
                err(
                    "DETSIM_ITERATIONS",
                    &v,
                    "a positive integer number of schedules",
                )
            })?);
        }
        if let Some(v) = var("DETSIM_STRATEGY") {
            o.strategy = Some(
                v.parse::<Strategy>()
                    .map_err(|accepted| err("DETSIM_STRATEGY", &v, &accepted))?,
            );
        }
        if let Some(v) = var("DETSIM_JOBS") {
            let t = v.trim();
            o.jobs = Some(if t.eq_ignore_ascii_case("auto") {
                std::thread::available_parallelism().map_or(1, |n| n.get())
            } else {
                t.parse::<usize>()
                    .ok()
                    .filter(|n| (1..=MAX_JOBS).contains(n))
                    .ok_or_else(|| {
                        err(
                            "DETSIM_JOBS",
                            &v,
                            "a number of threads from 1 to 1024, or `auto` (one per CPU)",
                        )
                    })?
            });
        }
        if let Some(v) = var("DETSIM_SHARD") {
            let parsed = v.trim().split_once('/').and_then(|(k, n)| {
                let (k, n) = (k.trim().parse::<u64>().ok()?, n.trim().parse::<u64>().ok()?);
                (1 <= k && k <= n).then_some((k, n))
            });
            o.shard = Some(parsed.ok_or_else(|| {
                err(
                    "DETSIM_SHARD",
                    &v,
                    "`k/n` with 1 <= k <= n, e.g. `2/4` for the second of four shards",
                )
            })?);
        }
        let switch = |name: &'static str| -> Result<Option<bool>, EnvError> {
            let Some(v) = var(name) else { return Ok(None) };
            match v.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "yes" | "on" => Ok(Some(true)),
                "0" | "false" | "no" | "off" => Ok(Some(false)),
                _ => Err(err(
                    name,
                    &v,
                    "`1`, `true`, `yes` or `on` to enable; `0`, `false`, `no` or `off` to disable",
                )),
            }
        };
        o.check_determinism = switch("DETSIM_CHECK_DETERMINISM")?;
        o.shrink = switch("DETSIM_SHRINK")?;
        if let Some(v) = var("DETSIM_PROGRESS") {
            let accepted = "`0`, `off`, `false` or `no` to turn progress lines off; `1`, `on`, \
                            `true` or `yes` for the default (after 2s); or a delay with its unit, \
                            such as `5s` or `500ms`, for the first line and between lines";
            o.progress = Some(match switch("DETSIM_PROGRESS") {
                Ok(Some(true)) => ProgressSetting::On,
                Ok(Some(false)) => ProgressSetting::Off,
                _ => parse_delay(&v)
                    .map(ProgressSetting::Every)
                    .ok_or_else(|| err("DETSIM_PROGRESS", &v, accepted))?,
            });
        }
        if let Some(v) = var("DETSIM_POLL_TIMEOUT") {
            o.poll_timeout = Some(
                crate::runtime::watchdog::parse_poll_timeout(&v)
                    .map_err(|accepted| err("DETSIM_POLL_TIMEOUT", &v, accepted))?,
            );
        }
        if o.seed.is_some() && o.schedule.is_some() {
            return Err(err(
                "DETSIM_SCHEDULE",
                "(set together with DETSIM_SEED)",
                "only one of DETSIM_SEED and DETSIM_SCHEDULE: a schedule string already fixes every decision",
            ));
        }
        Ok(o)
    }
}

/// `5s`, `0.5s`, `500ms`: a positive delay with its unit.
fn parse_delay(s: &str) -> Option<std::time::Duration> {
    let s = s.trim();
    let (number, scale) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else {
        (s.strip_suffix('s')?, 1.0)
    };
    let secs = number.trim().parse::<f64>().ok()? * scale;
    (secs.is_finite() && secs > 0.0 && secs < 1e9).then(|| std::time::Duration::from_secs_f64(secs))
}
/// The most threads `DETSIM_JOBS` asks for: more would only cost memory and start-up time.
const MAX_JOBS: usize = 1024;

fn parse_u64(s: &str) -> Option<u64> {
    let s = s.trim().replace('_', "");
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Overrides, EnvError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Overrides::from_lookup(move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn parses_every_variable() {
        let o = with(&[
            ("DETSIM_SEED", "0x10"),
            ("DETSIM_ITERATIONS", "5_000"),
            ("DETSIM_JOBS", "3"),
            ("DETSIM_SHARD", "1/2"),
            ("DETSIM_CHECK_DETERMINISM", "yes"),
            ("DETSIM_STRATEGY", "random"),
            ("DETSIM_SHRINK", "off"),
        ])
        .unwrap();
        assert_eq!(o.seed, Some(16));
        assert_eq!(o.iterations, Some(5000));
        assert_eq!(o.jobs, Some(3));
        assert_eq!(o.shard, Some((1, 2)));
        assert_eq!(o.check_determinism, Some(true));
        assert!(o.strategy.is_some());
        assert_eq!(o.shrink, Some(false));
        let p = |v: &str| with(&[("DETSIM_PROGRESS", v)]).unwrap().progress;
        assert_eq!(p("0"), Some(ProgressSetting::Off));
        assert_eq!(p("off"), Some(ProgressSetting::Off));
        assert_eq!(p("1"), Some(ProgressSetting::On));
        let ms = std::time::Duration::from_millis;
        assert_eq!(p("5s"), Some(ProgressSetting::Every(ms(5000))));
        assert_eq!(p("250ms"), Some(ProgressSetting::Every(ms(250))));
        assert_eq!(p("0.5 s"), Some(ProgressSetting::Every(ms(500))));
    }

    #[test]
    fn empty_is_unset() {
        let o = with(&[("DETSIM_SEED", " ")]).unwrap();
        assert_eq!(o.seed, None);
    }

    #[test]
    fn malformed_values_name_the_variable_and_forms() {
        for (k, v, needle) in [
            ("DETSIM_SEED", "-1", "unsigned 64-bit"),
            ("DETSIM_ITERATIONS", "0", "positive integer"),
            ("DETSIM_JOBS", "0", "or `auto`"),
            ("DETSIM_SHARD", "3/2", "1 <= k <= n"),
            ("DETSIM_SHARD", "1", "`k/n`"),
            ("DETSIM_CHECK_DETERMINISM", "maybe", "`1`, `true`"),
            ("DETSIM_SHRINK", "please", "`0`, `false`"),
            ("DETSIM_PROGRESS", "2", "such as `5s` or `500ms`"),
            ("DETSIM_PROGRESS", "fast", "`0`, `off`"),
            ("DETSIM_PROGRESS", "-1s", "a delay with its unit"),
            ("DETSIM_SCHEDULE", "abc", "must start with `ds1.`"),
            ("DETSIM_STRATEGY", "quantum", "random"),
            ("DETSIM_POLL_TIMEOUT", "soon", "`off`"),
        ] {
            let e = with(&[(k, v)]).unwrap_err();
            assert_eq!(e.variable, k);
            let msg = e.to_string();
            assert!(msg.starts_with(&format!("{k}=")), "{msg}");
            assert!(msg.contains(needle), "{msg}");
        }
    }

    #[test]
    fn seed_and_schedule_together_are_rejected() {
        let s = crate::explore::Schedule::default().to_string();
        let e = with(&[("DETSIM_SEED", "1"), ("DETSIM_SCHEDULE", &s)]).unwrap_err();
        assert!(e.to_string().contains("only one of"), "{e}");
    }
}

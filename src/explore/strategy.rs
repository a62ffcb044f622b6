//! `Strategy`: which schedules an exploration tries, as a recipe that can build a fresh
//! [`Scheduler`] on any thread.

use std::fmt;
use std::sync::Arc;

use crate::scheduler::{Dfs, Fifo, Pct, Portfolio, Random, Scheduler, Urw};

/// The deepest `pct:DEPTH` the strategy string accepts. A run of depth `d` finds a bug of depth
/// `d` with probability about `1 / (n · k^(d−1))`, so depths past a handful find nothing a
/// smaller one would not; a thousand leaves room for experiments without inviting a typo's
/// million change points per schedule. [`Pct::new`] itself takes any depth.
pub const MAX_PCT_DEPTH: u32 = 1000;

/// How an exploration chooses its schedules. Each variant builds the [`Scheduler`] of one
/// schedule; the schedule's seed (derived from the base seed and the schedule's index) seeds it.
///
/// Parsed from `DETSIM_STRATEGY` by its [`FromStr`](std::str::FromStr) form, which is also what
/// [`Display`](fmt::Display) prints.
///
/// ```
/// use detsim::explore::Strategy;
/// let s: Strategy = "random".parse().unwrap();
/// assert_eq!(s.to_string(), "random");
/// assert_eq!("pct:2".parse::<Strategy>().unwrap().to_string(), "pct:2");
/// assert_eq!("dfs".parse::<Strategy>().unwrap().to_string(), "dfs:2");
/// assert!("quantum".parse::<Strategy>().is_err());
/// assert!("pct:0".parse::<Strategy>().is_err());
/// assert!("pct:200000".parse::<Strategy>().is_err()); // above MAX_PCT_DEPTH
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// The default: asyncio's own order ([`Fifo`]) first, then [`Portfolio`] of Random,
    /// Pct { depth: 2 }, Pct { depth: 3 } and Urw, by seed.
    #[default]
    Portfolio,
    /// asyncio's order only (one schedule is enough: every seed gives the same run, unless the
    /// program draws random values).
    Fifo,
    /// A uniform choice among runnable tasks at every step ([`Random`]).
    Random,
    /// Probabilistic concurrency testing with this bug depth ([`Pct`]).
    Pct {
        /// The bug depth (1 or more).
        depth: u32,
    },
    /// Selectively uniform random walk ([`Urw`]).
    Urw,
    /// Bounded exhaustive search ([`Dfs`]), iterating the bound 0, 1, …, `max_bound`.
    Dfs {
        /// Count delays (ready-queue positions skipped) instead of preemptions.
        delays: bool,
        /// The largest bound to explore.
        max_bound: u32,
    },
    /// Any scheduler: `make` builds a fresh one per schedule (it must be history-free for
    /// parallel runs to find the same failure as a sequential one).
    Custom {
        /// A name for reports.
        name: String,
        /// Builds a scheduler.
        make: Arc<dyn Fn() -> Box<dyn Scheduler> + Send + Sync>,
    },
}

impl Strategy {
    /// A custom strategy from a scheduler constructor.
    ///
    /// ```
    /// use detsim::explore::Strategy;
    /// let s = Strategy::custom("lifo-ish", || detsim::scheduler::Random::new());
    /// assert_eq!(s.to_string(), "lifo-ish");
    /// ```
    pub fn custom<S, F>(name: impl Into<String>, make: F) -> Strategy
    where
        S: Scheduler + 'static,
        F: Fn() -> S + Send + Sync + 'static,
    {
        Strategy::Custom {
            name: name.into(),
            make: Arc::new(move || Box::new(make())),
        }
    }

    /// Builds the scheduler for one schedule.
    pub fn build(&self) -> Box<dyn Scheduler> {
        match self {
            Strategy::Portfolio => Box::new(Portfolio::new()),
            Strategy::Fifo => Box::new(Fifo::new()),
            Strategy::Random => Box::new(Random::new()),
            Strategy::Pct { depth } => Box::new(Pct::new(*depth)),
            Strategy::Urw => Box::new(Urw::new()),
            Strategy::Dfs {
                delays: false,
                max_bound,
            } => Box::new(Dfs::new().max_preemptions(*max_bound)),
            Strategy::Dfs {
                delays: true,
                max_bound,
            } => Box::new(Dfs::new().max_delays(*max_bound)),
            Strategy::Custom { make, .. } => make(),
        }
    }

    /// The forms `DETSIM_STRATEGY` accepts.
    pub fn accepted_forms() -> &'static str {
        "one of `portfolio`, `random`, `fifo`, `pct` or `pct:DEPTH` (depth 1 to 1000, default 3), `urw`, \
         `dfs` or `dfs:BOUND` (preemption bound, default 2), `delays:BOUND` (delay bound)"
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Portfolio => f.write_str("portfolio"),
            Strategy::Fifo => f.write_str("fifo"),
            Strategy::Random => f.write_str("random"),
            Strategy::Pct { depth } => write!(f, "pct:{depth}"),
            Strategy::Urw => f.write_str("urw"),
            Strategy::Dfs {
                delays: false,
                max_bound,
            } => write!(f, "dfs:{max_bound}"),
            Strategy::Dfs {
                delays: true,
                max_bound,
            } => write!(f, "delays:{max_bound}"),
            Strategy::Custom { name, .. } => f.write_str(name),
        }
    }
}

impl fmt::Debug for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Strategy({self})")
    }
}

impl std::str::FromStr for Strategy {
    /// The accepted forms, for the error message.
    type Err = String;

    fn from_str(s: &str) -> Result<Strategy, String> {
        let s = s.trim().to_ascii_lowercase();
        let (head, arg) = match s.split_once(':') {
            Some((h, a)) => (h, Some(a)),
            None => (s.as_str(), None),
        };
        let num = |default: u32, min: u32, max: u32| -> Result<u32, String> {
            match arg {
                None => Ok(default),
                Some(a) => a
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (min..=max).contains(n))
                    .ok_or_else(|| Strategy::accepted_forms().to_string()),
            }
        };
        match (head, arg) {
            ("portfolio", None) => Ok(Strategy::Portfolio),
            ("random", None) => Ok(Strategy::Random),
            ("fifo", None) => Ok(Strategy::Fifo),
            ("urw", None) => Ok(Strategy::Urw),
            ("pct", _) => Ok(Strategy::Pct {
                depth: num(3, 1, MAX_PCT_DEPTH)?,
            }),
            ("dfs", _) => Ok(Strategy::Dfs {
                delays: false,
                max_bound: num(2, 0, u32::MAX)?,
            }),
            ("delays", _) => Ok(Strategy::Dfs {
                delays: true,
                max_bound: num(2, 0, u32::MAX)?,
            }),
            _ => Err(Strategy::accepted_forms().to_string()),
        }
    }
}

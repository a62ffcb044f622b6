//! `Strategy`: which schedules an exploration tries, as a recipe that can build a fresh
//! [`Scheduler`] on any thread.

use std::fmt;
use std::sync::Arc;

use crate::scheduler::{Fifo, Random, Scheduler};

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
/// assert!("quantum".parse::<Strategy>().is_err());
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum Strategy {
    /// asyncio's order only (one schedule is enough: every seed gives the same run, unless the
    /// program draws random values).
    Fifo,
    /// A uniform choice among runnable tasks at every step ([`Random`]).
    #[default]
    Random,
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
            Strategy::Fifo => Box::new(Fifo::new()),
            Strategy::Random => Box::new(Random::new()),
            Strategy::Custom { make, .. } => make(),
        }
    }

    /// Whether a schedule of this strategy depends only on its seed (not on earlier runs), so
    /// that `DETSIM_SEED` alone replays it and parallel jobs find what a sequential run finds.
    pub fn seed_replays(&self) -> bool {
        matches!(self, Strategy::Fifo | Strategy::Random)
    }

    /// The forms `DETSIM_STRATEGY` accepts.
    pub fn accepted_forms() -> &'static str {
        "one of `random`, `fifo`"
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Fifo => f.write_str("fifo"),
            Strategy::Random => f.write_str("random"),
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
        match s.trim().to_ascii_lowercase().as_str() {
            "random" => Ok(Strategy::Random),
            "fifo" => Ok(Strategy::Fifo),
            _ => Err(Strategy::accepted_forms().to_string()),
        }
    }
}

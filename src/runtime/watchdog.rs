//! The watchdog: ends a test whose task never returns from a poll.
//!
//! detsim runs one task at a time and cannot preempt a poll, so a task that loops without an
//! `.await` (or blocks its thread) hangs the run; `max_steps` and the time budget count steps and
//! never see it. The run loop therefore mirrors what it is doing into a [`WatchState`] shared with
//! one process-wide watchdog thread: when a poll starts, one word per step (the task polled, and
//! whether the scheduler chose it among several) into chunks the watchdog can read, and the step
//! itself; when it ends, the step again; the simulated time when the clock moves; and each random
//! value handed to user code. The step words and the random values *are* the decision log up to
//! the current poll, so no decision is mirrored on its own. When one poll
//! has run longer than the wall-clock limit, the watchdog prints a report to the process's
//! standard error — which task, at which step and simulated time, with the seed and the schedule
//! that replay the run up to that poll — and exits the process with status 101, the status of a
//! failed test. A poll that never returns cannot be unwound, so ending the process is the only
//! way to end the test: under nextest (a process per test) exactly that test fails; under libtest
//! the test binary stops there, and the report names the test.
//!
//! # Invariants
//!
//! * The wall clock only ends a run, never steers it: nothing here feeds a decision, an event or
//!   a trace, and the run thread never reads what the watchdog writes.
//! * The run thread's cost is three plain stores per step (the step's word, the phase twice) and
//!   nothing per decision; a lock is taken only once per 4,096 steps (the next chunk), per random
//!   value drawn (a rare path), at the start of a run after a run that drew one, and once per
//!   thread (registration).
//! * The limit is `Builder::poll_timeout`, overridden by `DETSIM_POLL_TIMEOUT` (read once per
//!   process), default [`DEFAULT_POLL_TIMEOUT`].

use std::cell::Cell;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use crate::base::{Decision, Instant, Schedule, TaskId};

/// The default limit on one poll's wall-clock time.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(5);

/// Step words per chunk of the mirror.
const CHUNK: usize = 4096;

/// What one thread's runs show the watchdog. Written by the run thread only.
pub(crate) struct WatchState {
    /// The thread's name (libtest names it after the test), for the report.
    thread: Option<String>,
    /// Whether a run is active on the thread, and its limit in milliseconds (0: no watchdog).
    limit_ms: AtomicU64,
    /// Changes with every run, so that step `n` of one run is not taken for step `n` of the last.
    generation: AtomicU64,
    /// `2·step + 1` while step `step` is being polled, `2·step` once it returned. Stored with
    /// `Release` when a poll starts, after that step's word: every step word up to `step` is
    /// visible to a reader that loads `phase` with `Acquire`.
    phase: AtomicU64,
    now: AtomicU64,
    seed: AtomicU64,
    explored: AtomicBool,
    /// Word `s` (chunk `s / CHUNK`, slot `s % CHUNK`) is step `s` of the current run:
    /// `2·task + 1` if the scheduler chose `task` among several, `2·task` if it was the only one
    /// runnable. Together with `randoms` this is the run's decision log; slots past the current
    /// step hold older runs' words and are never read.
    steps: Mutex<Vec<Chunk>>,
    /// The random values handed to user code this run, with the step that drew them (a rare
    /// path: a lock per draw).
    randoms: Mutex<Vec<(u64, u64)>>,
    fired: AtomicBool,
}

/// The run thread's side of its [`WatchState`].
pub(crate) struct Watch {
    state: Arc<WatchState>,
    /// Chunk 0, which the run loop starts every run with (no lock).
    first: Chunk,
    /// Whether this run drew a random value (so the next run clears `randoms`).
    drew: Cell<bool>,
}

/// The run loop's handle on the mirror, held in a local for the whole run: the shared state and
/// the chunk the current step's word goes to, each one pointer away.
pub(crate) struct StepCursor<'a> {
    state: &'a WatchState,
    chunk: Chunk,
}

thread_local! {
    static LOCAL: Rc<Watch> = Rc::new(Watch::register());
}

/// A fixed-size chunk: indexing it with `step % CHUNK` needs no bounds check.
type Chunk = Arc<[AtomicU64; CHUNK]>;

fn new_chunk() -> Chunk {
    Arc::new([const { AtomicU64::new(0) }; CHUNK])
}

/// Every thread that has run detsim, for the watchdog thread.
fn registry() -> &'static Mutex<Vec<Weak<WatchState>>> {
    static REGISTRY: OnceLock<Mutex<Vec<Weak<WatchState>>>> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        std::thread::Builder::new()
            .name("detsim-watchdog".into())
            .spawn(watch_loop)
            .expect("spawning the detsim watchdog thread");
        Mutex::new(Vec::new())
    })
}

impl Watch {
    fn register() -> Watch {
        let first = new_chunk();
        let state = Arc::new(WatchState {
            thread: std::thread::current().name().map(str::to_string),
            limit_ms: AtomicU64::new(0),
            generation: AtomicU64::new(0),
            phase: AtomicU64::new(0),
            now: AtomicU64::new(0),
            seed: AtomicU64::new(0),
            explored: AtomicBool::new(false),
            steps: Mutex::new(vec![first.clone()]),
            randoms: Mutex::new(Vec::new()),
            fired: AtomicBool::new(false),
        });
        let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
        reg.retain(|w| w.strong_count() > 0);
        reg.push(Arc::downgrade(&state));
        drop(reg);
        Watch {
            state,
            first,
            drew: Cell::new(false),
        }
    }

    /// This thread's watch, reset for a new run with this seed and limit.
    pub(crate) fn begin_run(seed: u64, limit: Option<Duration>, explored: bool) -> Rc<Watch> {
        let w = LOCAL.with(Rc::clone);
        let s = &w.state;
        s.limit_ms.store(0, Relaxed);
        s.generation.fetch_add(1, Relaxed);
        s.phase.store(0, Relaxed);
        s.now.store(0, Relaxed);
        s.seed.store(seed, Relaxed);
        s.explored.store(explored, Relaxed);
        if w.drew.replace(false) {
            s.randoms.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
        let ms = limit.map_or(0, |d| d.as_millis().clamp(1, u64::MAX as u128) as u64);
        s.limit_ms.store(ms, Release);
        w
    }

    /// The run ended: nothing to watch until the next one.
    pub(crate) fn end_run(&self) {
        self.state.limit_ms.store(0, Release);
    }

    /// The cursor a run loop starts at (step 0 is in chunk 0).
    pub(crate) fn cursor(&self) -> StepCursor<'_> {
        StepCursor {
            state: &self.state,
            chunk: self.first.clone(),
        }
    }

    /// The clock moved to `now`.
    #[inline]
    pub(crate) fn time(&self, now: Instant) {
        self.state.now.store(now.as_nanos(), Relaxed);
    }

    /// User code at step `step` drew the random value `value`.
    pub(crate) fn random(&self, step: u64, value: u64) {
        self.drew.set(true);
        self.state
            .randoms
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((step, value));
    }
}

impl StepCursor<'_> {
    /// Step `step` starts polling `task`, which the scheduler `chose` among several runnable
    /// tasks (or which was the only one). With [`poll_done`](Self::poll_done) this is the whole
    /// per-step cost of the watchdog: a plain store of the step's word and one of the phase, and
    /// a lock once per 4,096 steps.
    #[inline(always)]
    pub(crate) fn poll_started(&mut self, step: u64, task: TaskId, chosen: bool) {
        let off = step as usize % CHUNK;
        if off == 0 {
            self.chunk = self.state.chunk(step as usize / CHUNK);
        }
        self.chunk[off].store((u64::from(task.as_u32()) << 1) | u64::from(chosen), Relaxed);
        self.state.phase.store(step.wrapping_mul(2) | 1, Release);
    }

    /// The poll of step `step` returned.
    #[inline(always)]
    pub(crate) fn poll_done(&self, step: u64) {
        self.state.phase.store(step.wrapping_mul(2), Relaxed);
    }
}

impl WatchState {
    /// Chunk `k` of the step mirror, added if this thread never reached it.
    #[cold]
    #[inline(never)]
    fn chunk(&self, k: usize) -> Chunk {
        let mut chunks = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        while chunks.len() <= k {
            chunks.push(new_chunk());
        }
        chunks[k].clone()
    }
}

/// What the watchdog last saw of one thread.
struct Seen {
    state: Weak<WatchState>,
    generation: u64,
    phase: u64,
    since: std::time::Instant,
}

fn watch_loop() {
    let mut seen: Vec<Seen> = Vec::new();
    loop {
        let states: Vec<Arc<WatchState>> = registry()
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        let mut tick = Duration::from_millis(250);
        let now = std::time::Instant::now();
        let mut next: Vec<Seen> = Vec::with_capacity(states.len());
        for s in &states {
            let limit = s.limit_ms.load(Acquire);
            let generation = s.generation.load(Relaxed);
            let phase = s.phase.load(Acquire);
            if limit == 0 || phase % 2 == 0 {
                continue;
            }
            let limit = Duration::from_millis(limit);
            tick = tick.min(limit / 8).max(Duration::from_millis(5));
            let since = seen
                .iter()
                .find(|x| {
                    x.state.as_ptr() == Arc::as_ptr(s)
                        && x.generation == generation
                        && x.phase == phase
                })
                .map_or(now, |x| x.since);
            if now.duration_since(since) >= limit && !s.fired.swap(true, Relaxed) {
                fire(s, phase / 2, limit);
            }
            next.push(Seen {
                state: Arc::downgrade(s),
                generation,
                phase,
                since,
            });
        }
        seen = next;
        drop(states);
        std::thread::sleep(tick);
    }
}

/// Prints the report and ends the process.
fn fire(s: &WatchState, step: u64, limit: Duration) -> ! {
    let report = report(s, step, limit);
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(report.as_bytes());
    let _ = err.flush();
    std::process::exit(101);
}

/// The report of a poll that ran past `limit`.
pub(crate) fn report(s: &WatchState, step: u64, limit: Duration) -> String {
    let (log, task) = s.decisions(step);
    let now = Instant::from_nanos(s.now.load(Relaxed));
    let seed = s.seed.load(Relaxed);
    let schedule = Schedule::from_decisions(&log);
    let test = s
        .thread
        .as_deref()
        .filter(|n| *n != "main" && !n.starts_with("detsim-job"));
    let run = match test {
        Some(t) => format!("cargo test -- --exact {t}"),
        None => "cargo test <test name>".into(),
    };
    let replay = if s.explored.load(Relaxed) {
        format!("DETSIM_SCHEDULE={schedule} {run}\n    DETSIM_SEED={seed} {run}")
    } else {
        format!(
            "Builder::new().seed({seed}).scheduler(Replay::new(\"{schedule}\".parse::<Schedule>()\
             .unwrap().decisions().to_vec())).run(…)"
        )
    };
    format!(
        "\ndetsim: a poll did not return within {limit:?} of wall-clock time (the poll timeout)\n  \
         task {task} was polled at step {step}, simulated time {now}, and has not returned: a loop \
         without an .await, a blocking call (std::thread::sleep, a blocking lock, channel or I/O), \
         or a long computation. detsim runs one task at a time and cannot preempt a poll, so the \
         test was ended here.\n  test: {test}\n  seed: {seed}\n  schedule up to that poll: \
         {schedule}\n  replay it (it hangs at the same poll; to stop there in a debugger, add \
         DETSIM_POLL_TIMEOUT=off):\n    \
         {replay}\n  if the poll is real \
         work, raise the limit: DETSIM_POLL_TIMEOUT=60s or Builder::poll_timeout (`off` disables \
         the watchdog)\n",
        test = test.unwrap_or("(unnamed thread)"),
    )
}

impl WatchState {
    /// The decision log of the current run up to and including the poll of step `last`, and the
    /// task that poll runs: each step's choice (if there was one), then the random values its
    /// poll drew. Index and runnable count are not mirrored (a schedule keeps only the task).
    fn decisions(&self, last: u64) -> (Vec<Decision>, TaskId) {
        let chunks = self.steps.lock().unwrap_or_else(|e| e.into_inner());
        let randoms = self.randoms.lock().unwrap_or_else(|e| e.into_inner());
        let mut randoms = randoms.iter().peekable();
        let mut log = Vec::new();
        let mut task = TaskId::from_u32(0);
        for step in 1..=last {
            let i = step as usize;
            let Some(chunk) = chunks.get(i / CHUNK) else {
                break;
            };
            let w = chunk[i % CHUNK].load(Relaxed);
            task = TaskId::from_u32((w >> 1) as u32);
            if w & 1 == 1 {
                log.push(Decision::Task {
                    task,
                    index: 1,
                    runnable: 2,
                });
            }
            while let Some(&(_, v)) = randoms.next_if(|(s, _)| *s <= step) {
                log.push(Decision::Random(v));
            }
        }
        (log, task)
    }
}

/// The limit from `DETSIM_POLL_TIMEOUT`, read once per process: `None` if unset, `Some(None)`
/// for `off`.
///
/// # Panics
///
/// When the variable is malformed, with a message naming it and the accepted forms.
pub(crate) fn env_limit() -> Option<Option<Duration>> {
    static ENV: OnceLock<Result<Option<Option<Duration>>, String>> = OnceLock::new();
    let r = ENV.get_or_init(|| match std::env::var("DETSIM_POLL_TIMEOUT") {
        Ok(v) if !v.trim().is_empty() => parse_poll_timeout(&v).map(Some).map_err(|accepted| {
            format!("DETSIM_POLL_TIMEOUT={v:?} is not valid: expected {accepted}")
        }),
        Ok(_) => Ok(None),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(v)) => Err(format!(
            "DETSIM_POLL_TIMEOUT={v:?} is not valid: expected {}",
            POLL_TIMEOUT_FORMS
        )),
    });
    match r {
        Ok(v) => *v,
        Err(e) => panic!("detsim: {e}"),
    }
}

/// The forms `DETSIM_POLL_TIMEOUT` accepts.
pub(crate) const POLL_TIMEOUT_FORMS: &str = "a positive duration such as `5s`, `500ms`, `2m` or \
     `10` (seconds), or `off` to disable the watchdog";

/// Parses a poll timeout: `None` for `off`.
pub(crate) fn parse_poll_timeout(v: &str) -> Result<Option<Duration>, &'static str> {
    let t = v.trim().to_ascii_lowercase();
    if matches!(t.as_str(), "off" | "none" | "never") {
        return Ok(None);
    }
    let (num, unit) = match t.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => t.split_at(i),
        None => (t.as_str(), "s"),
    };
    let scale = match unit.trim() {
        "ms" => 0.001,
        "s" | "sec" | "secs" => 1.0,
        "m" | "min" | "mins" => 60.0,
        _ => return Err(POLL_TIMEOUT_FORMS),
    };
    let n: f64 = num.parse().map_err(|_| POLL_TIMEOUT_FORMS)?;
    let secs = n * scale;
    // At least a millisecond, at most a day: past that a hang is not worth waiting for.
    if !(0.001..=86_400.0).contains(&secs) {
        return Err(POLL_TIMEOUT_FORMS);
    }
    Ok(Some(Duration::from_secs_f64(secs)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poll_timeouts_parse() {
        let ok = |v: &str| parse_poll_timeout(v).unwrap();
        assert_eq!(ok("5"), Some(Duration::from_secs(5)));
        assert_eq!(ok(" 2.5s "), Some(Duration::from_millis(2500)));
        assert_eq!(ok("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(ok("2m"), Some(Duration::from_secs(120)));
        assert_eq!(ok("OFF"), None);
        for bad in [
            "", "0", "-1", "5h", "abc", "1e400", "nan", "0.0001", "100000", "５s",
        ] {
            assert!(parse_poll_timeout(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_step_mirror_reads_back_as_the_decision_log() {
        let w = Watch::begin_run(9, None, false);
        let mut at = w.cursor();
        let mut log = Vec::new();
        let last = 2 * CHUNK as u64 + 7;
        for step in 1..=last {
            let task = TaskId::from_u32((step % 5) as u32);
            let chosen = step % 4 != 0;
            at.poll_started(step, task, chosen);
            if chosen {
                log.push(Decision::Task {
                    task,
                    index: 1,
                    runnable: 2,
                });
            }
            if step % 3 == 0 {
                w.random(step, step * 7);
                log.push(Decision::Random(step * 7));
            }
            at.poll_done(step);
        }
        assert_eq!(
            w.state.decisions(last),
            (log, TaskId::from_u32((last % 5) as u32))
        );
        // A new run starts an empty log, even where the last run's words are still in place.
        let w = Watch::begin_run(10, None, false);
        let mut at = w.cursor();
        assert_eq!(w.state.decisions(0).0, []);
        at.poll_started(1, TaskId::from_u32(3), false);
        w.random(1, 5);
        assert_eq!(
            w.state.decisions(1),
            (vec![Decision::Random(5)], TaskId::from_u32(3))
        );
        w.end_run();
    }
}

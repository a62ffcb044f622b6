//! The watchdog: ends a test whose task never returns from a poll.
//!
//! detsim runs one task at a time and cannot preempt a poll, so a task that loops without an
//! `.await` (or blocks its thread) hangs the run; `max_steps` and the time budget count steps and
//! never see it. The run loop therefore mirrors what it is doing into a [`WatchState`] shared with
//! one process-wide watchdog thread: the step being polled and its task (two relaxed stores when
//! a poll starts, one when it ends), the simulated time (a store when the clock moves), and the
//! decision log (a relaxed store per decision, into chunks the watchdog can read). When one poll
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
//! * The run thread's cost is a handful of relaxed stores per step and per decision; no lock is
//!   taken except once per 4,096 decision words (a new chunk, and once at the start of the run
//!   after a run that needed one) and once per thread (registration).
//! * The limit is `Builder::poll_timeout`, overridden by `DETSIM_POLL_TIMEOUT` (read once per
//!   process), default [`DEFAULT_POLL_TIMEOUT`].

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use crate::base::{Decision, Instant, TaskId};

/// The default limit on one poll's wall-clock time.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(5);

/// Decision words per chunk of the mirror.
const CHUNK: usize = 4096;

/// What one thread's runs show the watchdog. Written by the run thread only.
pub(crate) struct WatchState {
    /// The thread's name (libtest names it after the test), for the report.
    thread: Option<String>,
    /// Whether a run is active on the thread, and its limit in milliseconds (0: no watchdog).
    limit_ms: AtomicU64,
    /// Changes with every run, so that step `n` of one run is not taken for step `n` of the last.
    generation: AtomicU64,
    /// `2·step + 1` while step `step` is being polled, `2·step` once it returned.
    phase: AtomicU64,
    task: AtomicU32,
    now: AtomicU64,
    seed: AtomicU64,
    explored: AtomicBool,
    /// The decision log, encoded as in a schedule string: `2·id` for a task choice, `1` then the
    /// value for a random value.
    chunks: Mutex<Vec<Chunk>>,
    words: AtomicU64,
    fired: AtomicBool,
}

/// The run thread's side of its [`WatchState`]: where the next decision word goes.
pub(crate) struct Watch {
    state: Arc<WatchState>,
    chunk: RefCell<Chunk>,
    /// Which chunk `chunk` is (a run that stays within the first takes no lock at all).
    chunk_index: Cell<usize>,
    pos: Cell<usize>,
}

thread_local! {
    static LOCAL: Rc<Watch> = Rc::new(Watch::register());
}

/// A fixed-size chunk: indexing it with `pos % CHUNK` needs no bounds check.
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
            task: AtomicU32::new(0),
            now: AtomicU64::new(0),
            seed: AtomicU64::new(0),
            explored: AtomicBool::new(false),
            chunks: Mutex::new(vec![first.clone()]),
            words: AtomicU64::new(0),
            fired: AtomicBool::new(false),
        });
        let mut reg = registry().lock().unwrap_or_else(|e| e.into_inner());
        reg.retain(|w| w.strong_count() > 0);
        reg.push(Arc::downgrade(&state));
        drop(reg);
        Watch {
            state,
            chunk: RefCell::new(first),
            chunk_index: Cell::new(0),
            pos: Cell::new(0),
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
        s.words.store(0, Relaxed);
        w.pos.set(0);
        if w.chunk_index.get() != 0 {
            let first = s.chunks.lock().unwrap_or_else(|e| e.into_inner())[0].clone();
            *w.chunk.borrow_mut() = first;
            w.chunk_index.set(0);
        }
        let ms = limit.map_or(0, |d| d.as_millis().clamp(1, u64::MAX as u128) as u64);
        s.limit_ms.store(ms, Release);
        w
    }

    /// The run ended: nothing to watch until the next one.
    pub(crate) fn end_run(&self) {
        self.state.limit_ms.store(0, Release);
    }

    /// Step `step` starts polling `task`.
    #[inline(always)]
    pub(crate) fn poll_started(&self, step: u64, task: TaskId) {
        self.state.task.store(task.as_u32(), Relaxed);
        self.state.phase.store(step.wrapping_mul(2) | 1, Release);
    }

    /// The poll of step `step` returned.
    #[inline(always)]
    pub(crate) fn poll_done(&self, step: u64) {
        self.state.phase.store(step.wrapping_mul(2), Relaxed);
    }

    /// The clock moved to `now`.
    #[inline]
    pub(crate) fn time(&self, now: Instant) {
        self.state.now.store(now.as_nanos(), Relaxed);
    }

    /// A decision was recorded.
    #[inline]
    pub(crate) fn decision(&self, d: Decision) {
        match d {
            Decision::Task { task, .. } => self.push(2 * u64::from(task.as_u32())),
            Decision::Random(v) => {
                self.push(1);
                self.push(v);
            }
        }
    }

    #[inline(always)]
    fn push(&self, word: u64) {
        let pos = self.pos.get();
        let off = pos % CHUNK;
        if off == 0 && pos > 0 {
            self.next_chunk(pos / CHUNK);
        }
        self.chunk.borrow()[off].store(word, Relaxed);
        self.pos.set(pos + 1);
        self.state.words.store(pos as u64 + 1, Release);
    }

    #[cold]
    fn next_chunk(&self, k: usize) {
        let mut chunks = self.state.chunks.lock().unwrap_or_else(|e| e.into_inner());
        if chunks.len() <= k {
            chunks.push(new_chunk());
        }
        *self.chunk.borrow_mut() = chunks[k].clone();
        self.chunk_index.set(k);
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
    let task = TaskId::from_u32(s.task.load(Relaxed));
    let now = Instant::from_nanos(s.now.load(Relaxed));
    let seed = s.seed.load(Relaxed);
    let schedule = s.schedule();
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
    /// The decisions mirrored so far, as a schedule string.
    fn schedule(&self) -> String {
        let words = self.words.load(Acquire) as usize;
        let chunks = self.chunks.lock().unwrap_or_else(|e| e.into_inner());
        let word = |i: usize| chunks[i / CHUNK][i % CHUNK].load(Relaxed);
        let mut log = Vec::new();
        let mut i = 0;
        while i < words {
            let w = word(i);
            if w == 1 && i + 1 < words {
                log.push(Decision::Random(word(i + 1)));
                i += 2;
            } else {
                let task = TaskId::from_u32((w / 2) as u32);
                log.push(Decision::Task {
                    task,
                    index: 1,
                    runnable: 2,
                });
                i += 1;
            }
        }
        schedule_string(&log)
    }
}

/// A decision log as the schedule string that replays it. (The string format belongs to
/// `explore`, which the watchdog only calls when it reports.)
fn schedule_string(log: &[Decision]) -> String {
    crate::explore::Schedule::from_decisions(log).to_string()
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
    fn the_decision_mirror_reads_back_as_the_log() {
        let w = Watch::begin_run(9, None, false);
        let mut log = Vec::new();
        for i in 0..(2 * CHUNK as u32 + 7) {
            let d = if i % 3 == 0 {
                Decision::Random(u64::from(i) * 7)
            } else {
                Decision::Task {
                    task: TaskId::from_u32(i % 5),
                    index: 1,
                    runnable: 2,
                }
            };
            w.decision(d);
            log.push(d);
        }
        assert_eq!(w.state.schedule(), schedule_string(&log));
        // A new run starts an empty log.
        let w = Watch::begin_run(10, None, false);
        assert_eq!(w.state.schedule(), schedule_string(&[]));
        w.decision(Decision::Random(5));
        assert_eq!(w.state.schedule(), schedule_string(&[Decision::Random(5)]));
        w.end_run();
    }
}

//! "The runtime fuzzes itself": random programs built from detsim's primitives, run under a
//! schedule read from the same bytes, and checked against detsim's own invariants.
//!
//! This file is shared, unchanged, by the `runtime` fuzz target (`fuzz/src/lib.rs`) and by the
//! main crate's tests (`tests/proptest_runtime.rs`, `tests/fuzz_regressions.rs`, through
//! `#[path]`): one definition of what an input means, so a fuzzer's crash file replays in
//! `cargo test` through the very same code. It uses only detsim's public API, `futures` and `std`.
//!
//! # Input format
//!
//! An input is a byte string. [`Program::decode`] reads a program from its front (every byte
//! string is a program; bytes past the end read as 0, and the all-zero input is a main task that yields once); the rest of the bytes drive the schedule through
//! [`FuzzBytes`](detsim::scheduler::FuzzBytes). The decoding is this file's own, not `arbitrary`'s,
//! so that committed regression inputs keep their meaning when dependencies are upgraded — the
//! same reason detsim maps seeds with its own code.
//!
//! A header byte of 128 or more selects the *extended* opcode table, which adds detsim's own
//! primitives and combinators (`sync::Lock`, `BoundedSemaphore`, `Event`, `Queue`, `Condition`,
//! `Barrier`, `gather`, `gather_tasks`, `task_group`, `wait`, `shield`, `Promise`,
//! `timeout_scope`, `wait_for`) to the original table, whose inputs (header below 128) keep their
//! meaning. Every extended operation that can block runs under a timeout, and the tasks it spawns
//! only yield and sleep, so the deadlock oracle stays exact; each primitive has its own oracle:
//! the lock is never granted twice, the semaphore never goes over its bound or below zero, and no
//! queue item is lost, duplicated or invented.
//!
//! # Adding an operation
//!
//! Add a variant to [`Op`], a decoding arm in [`decode_op`] (append new opcodes at the end, so
//! old inputs keep their meaning), an execution arm in `exec`, and, if it can block, a [`Wait`]
//! and its deadlock rule in `deadlock_is_real`. detsim's own `sync` primitives slot in as new
//! resources next to the `futures` mutexes and channels.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use detsim::combinators::{ReturnWhen, gather, gather_tasks, shield, wait};
use detsim::event::{Event, EventKind, Outcome};
use detsim::explore::Schedule;
use detsim::promise::Promise;
use detsim::scheduler::{FuzzBytes, Replay, Scheduler};
use detsim::sync::{Barrier, BoundedSemaphore, Condition, Event as SyncEvent, Lock, Queue};
use detsim::task::CancelHandle;
use detsim::task_group::task_group;
use detsim::time::{Duration, sleep, timeout};
use detsim::time::{timeout_scope, wait_for};
use detsim::{Builder, FailureKind, JoinHandle, RunReport, TaskId};
use futures::StreamExt;
use futures::channel::mpsc;
use futures::lock::{Mutex, MutexGuard};

/// Task bodies in a program (the main task is body 0).
pub const MAX_BODIES: usize = 5;
/// Operations per body.
pub const MAX_OPS: usize = 8;
/// Mutexes shared by all tasks.
pub const MUTEXES: usize = 2;
/// Channels shared by all tasks.
pub const CHANNELS: usize = 2;
/// Spawns a run may perform; further `Spawn` operations do nothing.
pub const SPAWN_BUDGET: usize = 12;
/// The step limit of a run: the programs are finite, so reaching it is a detsim bug.
pub const MAX_STEPS: u64 = 100_000;
/// The message every deliberate panic starts with.
pub const DELIBERATE: &str = "deliberate panic";

/// One operation of a task body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `yield_now().await`.
    Yield,
    /// Sleep for `10 ms × n`.
    Sleep(u8),
    /// Spawn a task running body `n` (always a later body, so programs are finite).
    Spawn(usize),
    /// Await the most recently spawned, not yet joined or detached, handle of this task.
    Join,
    /// Drop the most recent handle: the task runs on, detached.
    Detach,
    /// Cancel the most recent handle (it stays joinable).
    Cancel,
    /// Cancel any task spawned so far in the run (possibly the caller itself), by index.
    CancelAny(u8),
    /// Acquire mutex `n` and hold it (no-op if this task holds it already).
    Lock(usize),
    /// Release mutex `n` if this task holds it.
    Unlock(usize),
    /// Send on channel `n` (unbounded: never blocks).
    Send(usize),
    /// Receive from channel `n` (blocks until a message is there).
    Recv(usize),
    /// Draw a random value and sleep `10 ms × (value mod 3)`.
    Random,
    /// Panic (a deliberate user panic; becomes the task's `JoinError`).
    Panic,
    /// Run a blocking operation (`Sleep`, `Lock`, `Recv`, `Join`) under a timeout of
    /// `10 ms × n`.
    Timeout(u8, Box<Op>),
    /// Extended table: one of detsim's own primitives or combinators (see [`Ext`]), with its
    /// timeout `10 ms × n` where it can block.
    Ext(Ext, u8),
}

/// The extended operations: detsim's own primitives and combinators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ext {
    /// Acquire the shared `sync::Lock`, hold it over a yield, release it.
    Lock,
    /// Acquire a permit of the shared `BoundedSemaphore(2)`, hold it over a yield, release it.
    Semaphore,
    /// Set the shared `Event`.
    EventSet,
    /// Clear the shared `Event`.
    EventClear,
    /// Wait for the shared `Event`.
    EventWait,
    /// Put a fresh item on the shared `Queue(2)`.
    Put,
    /// Get an item from the shared `Queue(2)`.
    Get,
    /// Wait on the shared `Condition`.
    CondWait,
    /// Notify one waiter of the shared `Condition`.
    CondNotify,
    /// Wait at the shared `Barrier(2)`.
    Barrier,
    /// `gather` three futures that sleep different times; results in argument order.
    Gather,
    /// `gather_tasks` of two spawned tasks.
    GatherTasks,
    /// A `task_group` of two children, one of which may fail.
    TaskGroup,
    /// `wait(FIRST_COMPLETED)` on two spawned tasks.
    Wait,
    /// `shield` a sleeping task, under a timeout.
    Shield,
    /// Await a `Promise` that a spawned task resolves after a yield.
    Promise,
    /// `timeout_scope` around a sleep.
    Scope,
    /// `wait_for` a spawned sleeping task.
    WaitFor,
}

const EXTS: [Ext; 18] = [
    Ext::Lock,
    Ext::Semaphore,
    Ext::EventSet,
    Ext::EventClear,
    Ext::EventWait,
    Ext::Put,
    Ext::Get,
    Ext::CondWait,
    Ext::CondNotify,
    Ext::Barrier,
    Ext::Gather,
    Ext::GatherTasks,
    Ext::TaskGroup,
    Ext::Wait,
    Ext::Shield,
    Ext::Promise,
    Ext::Scope,
    Ext::WaitFor,
];

/// A program: task bodies, body 0 being the main task.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Program {
    /// The bodies.
    pub bodies: Vec<Vec<Op>>,
    /// Whether each task joins its remaining (not detached) handles after its last operation.
    pub join_at_end: bool,
    /// Whether the extended opcode table (detsim's own primitives) was used to decode it.
    pub extended: bool,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn next(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    fn below(&mut self, n: usize) -> usize {
        usize::from(self.next()) % n
    }
}

fn decode_blocking(r: &mut Reader<'_>) -> Op {
    match r.below(4) {
        0 => Op::Sleep(r.next() % 4),
        1 => Op::Lock(r.below(MUTEXES)),
        2 => Op::Recv(r.below(CHANNELS)),
        _ => Op::Join,
    }
}

/// Decodes one operation of body `body` in a program of `bodies` bodies. The opcode byte is
/// weighted towards spawns and joins, so that most programs have several tasks; opcode 0 is the
/// simplest operation (a yield), so that minimising an input simplifies its program.
fn decode_op(r: &mut Reader<'_>, body: usize, bodies: usize, extended: bool) -> Op {
    let code = if extended {
        r.below(32 + EXTS.len())
    } else {
        r.below(32)
    };
    match code {
        0..=2 => Op::Yield,
        3..=8 if body + 1 < bodies => Op::Spawn(body + 1 + r.below(bodies - body - 1)),
        3..=8 => Op::Sleep(r.next() % 4),
        9 | 10 => Op::Sleep(r.next() % 4),
        11..=13 => Op::Join,
        14 => Op::Detach,
        15 | 16 => Op::Cancel,
        17 => Op::CancelAny(r.next()),
        18 | 19 => Op::Lock(r.below(MUTEXES)),
        20 | 21 => Op::Unlock(r.below(MUTEXES)),
        22 | 23 => Op::Send(r.below(CHANNELS)),
        24 | 25 => Op::Recv(r.below(CHANNELS)),
        26 => Op::Random,
        // A panic in main ends the run at once; keep main's panics out for richer runs.
        27 if body > 0 => Op::Panic,
        27 => Op::Yield,
        28..=31 => {
            let d = r.next() % 4;
            Op::Timeout(d, Box::new(decode_blocking(r)))
        }
        n => Op::Ext(EXTS[n - 32], r.next() % 4),
    }
}

impl Program {
    /// Reads a program from the front of `data`; returns it and how many bytes it took (at most
    /// `data.len()`). Total: every byte string is a program.
    pub fn decode(data: &[u8]) -> (Program, usize) {
        let mut r = Reader { data, pos: 0 };
        let header = usize::from(r.next());
        let n = 1 + header % MAX_BODIES;
        let join_at_end = (header / MAX_BODIES) % 4 != 0;
        let extended = header >= 128;
        let mut bodies = Vec::with_capacity(n);
        for body in 0..n {
            // Main has at least one operation; other bodies may be empty.
            let ops = if body == 0 {
                1 + r.below(MAX_OPS)
            } else {
                r.below(MAX_OPS + 1)
            };
            bodies.push(
                (0..ops)
                    .map(|_| decode_op(&mut r, body, n, extended))
                    .collect(),
            );
        }
        (
            Program {
                bodies,
                join_at_end,
                extended,
            },
            r.pos.min(data.len()),
        )
    }
}

/// What a blocked task waits for, as the program itself tracks it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Wait {
    Sleep,
    Lock(usize),
    Recv(usize),
    Join(usize),
}

#[derive(Debug, Default)]
struct Instance {
    body: usize,
    task: Option<TaskId>,
    /// What it awaits right now (`timed`: under a timeout), set before and cleared after.
    wait: Option<(Wait, bool)>,
    finished: bool,
    panicked: bool,
    dropped: bool,
    /// A cancellation it requested reached its own task, directly or down an await chain (see
    /// [`request_cancel`]): if its code then finishes without suspending, the task still ends
    /// cancelled (asyncio's `test_cancel_at_end`).
    cancelled_itself: bool,
}

impl Instance {
    /// Whether a cancelled outcome agrees with what the task's own code saw.
    fn may_end_cancelled(&self) -> bool {
        !self.panicked && (!self.finished || self.cancelled_itself)
    }

    /// Whether a finished outcome agrees with what the task's own code saw.
    fn may_end_finished(&self) -> bool {
        self.finished && !self.cancelled_itself
    }
}

/// State shared by every task of one run.
struct Ctx {
    program: Program,
    mutexes: Vec<Mutex<()>>,
    /// The instance that acquired each mutex and has not explicitly released it.
    holders: RefCell<Vec<Option<usize>>>,
    tx: Vec<mpsc::UnboundedSender<u32>>,
    rx: Vec<Mutex<mpsc::UnboundedReceiver<u32>>>,
    sent: RefCell<Vec<u64>>,
    received: RefCell<Vec<u64>>,
    spawns: Cell<usize>,
    cancel: RefCell<Vec<CancelHandle>>,
    instances: RefCell<Vec<Instance>>,
    /// Violations the program noticed while running (checked after the run).
    violations: RefCell<Vec<String>>,
    /// A user-level trace, compared between the two runs of one input.
    trace: RefCell<Vec<(usize, &'static str)>>,
    /// detsim's own primitives, for the extended operations.
    prims: Prims,
}

/// detsim's primitives shared by the tasks of one run, and what their oracles track.
struct Prims {
    lock: Lock,
    /// Tasks inside the lock's critical section: 0 or 1.
    in_lock: Cell<u32>,
    sem: BoundedSemaphore,
    /// Permits held: at most 2.
    in_sem: Cell<u32>,
    event: SyncEvent,
    queue: Queue<u64>,
    /// Items put (by number) and taken.
    next_item: Cell<u64>,
    put: RefCell<Vec<u64>>,
    taken: RefCell<Vec<u64>>,
    cond: Condition,
    barrier: Barrier,
}

impl Prims {
    fn new() -> Prims {
        Prims {
            lock: Lock::new(),
            in_lock: Cell::new(0),
            sem: BoundedSemaphore::new(2),
            in_sem: Cell::new(0),
            event: SyncEvent::new(),
            queue: Queue::new(2),
            next_item: Cell::new(0),
            put: RefCell::new(Vec::new()),
            taken: RefCell::new(Vec::new()),
            cond: Condition::new(),
            barrier: Barrier::new(2).expect("two parties"),
        }
    }
}

/// Counts a task inside a section for as long as it lives (a cancelled task's drop leaves too).
struct Inside<'a>(&'a Cell<u32>);

impl<'a> Inside<'a> {
    fn enter(c: &'a Cell<u32>) -> Inside<'a> {
        c.set(c.get() + 1);
        Inside(c)
    }
}

impl Drop for Inside<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

impl Ctx {
    fn new(program: Program) -> Rc<Ctx> {
        let (tx, rx): (Vec<_>, Vec<_>) = (0..CHANNELS)
            .map(|_| {
                let (t, r) = mpsc::unbounded();
                (t, Mutex::new(r))
            })
            .unzip();
        Rc::new(Ctx {
            program,
            mutexes: (0..MUTEXES).map(|_| Mutex::new(())).collect(),
            holders: RefCell::new(vec![None; MUTEXES]),
            tx,
            rx,
            sent: RefCell::new(vec![0; CHANNELS]),
            received: RefCell::new(vec![0; CHANNELS]),
            spawns: Cell::new(0),
            cancel: RefCell::new(Vec::new()),
            instances: RefCell::new(vec![Instance::default()]),
            violations: RefCell::new(Vec::new()),
            trace: RefCell::new(Vec::new()),
            prims: Prims::new(),
        })
    }

    fn note(&self, inst: usize, what: &'static str) {
        self.trace.borrow_mut().push((inst, what));
    }

    fn set_wait(&self, inst: usize, wait: Option<(Wait, bool)>) {
        self.instances.borrow_mut()[inst].wait = wait;
    }

    fn violation(&self, v: String) {
        self.violations.borrow_mut().push(v);
    }
}

/// Marks its instance dropped when the task's future is dropped (finished, cancelled, panicked
/// or dropped at the end of the run).
struct DropMark {
    ctx: Rc<Ctx>,
    inst: usize,
}

impl Drop for DropMark {
    fn drop(&mut self) {
        self.ctx.instances.borrow_mut()[self.inst].dropped = true;
    }
}

/// A task's own state: its handles and the mutex guards it holds.
struct Local<'a> {
    inst: usize,
    handles: Vec<(usize, JoinHandle<()>)>,
    held: Vec<Option<MutexGuard<'a, ()>>>,
}

type BoxFuture = Pin<Box<dyn Future<Output = ()>>>;

fn body_future(ctx: Rc<Ctx>, inst: usize) -> BoxFuture {
    // Made outside the async block, so that a future dropped before its first poll counts too.
    let mark = DropMark {
        ctx: ctx.clone(),
        inst,
    };
    Box::pin(async move {
        let mark = mark;
        let body = {
            let mut is = ctx.instances.borrow_mut();
            let me = detsim::task::current_id();
            match is[inst].task {
                None => is[inst].task = Some(me),
                Some(t) if t != me => {
                    drop(is);
                    ctx.violation(format!("instance {inst} spawned as task {t} runs as {me}"));
                    return;
                }
                Some(_) => {}
            }
            is[inst].body
        };
        let mut local = Local {
            inst,
            handles: Vec::new(),
            held: (0..MUTEXES).map(|_| None).collect(),
        };
        for op in ctx.program.bodies[body].clone() {
            exec(&ctx, &mut local, &op).await;
        }
        if ctx.program.join_at_end {
            while !local.handles.is_empty() {
                exec(&ctx, &mut local, &Op::Join).await;
            }
        }
        ctx.note(inst, "end");
        ctx.instances.borrow_mut()[inst].finished = true;
        drop(local);
        drop(mark);
    })
}

/// Requests `c`'s cancellation from instance `inst` and returns whether it was accepted.
///
/// The request may come back to the requesting task itself: directly, or down an await chain,
/// when `c`'s task is (transitively) joining the requester. A cancellation requested of the
/// running task is delivered at its next suspension or, if its code ends first, turns the end
/// into a cancellation (CPython's `Task.cancel` sets `_must_cancel` on a running task, and
/// `Task.__step` honours it when the coroutine returns). Either way, the instance is marked.
///
/// Whether it came back is read from the task's `cancelling()` count; the final check still
/// demands a cancel-request event in the trace for every cancelled task, and a request of the
/// task's own handle must raise the count.
fn request_cancel(ctx: &Ctx, inst: usize, c: &CancelHandle) -> bool {
    let me = detsim::task::current();
    let before = me.cancelling();
    let accepted = c.cancel();
    let after = me.cancelling();
    if accepted && c.id() == me.id() && after <= before {
        ctx.violation(format!(
            "instance {inst} cancelled its own task, but cancelling() went {before} -> {after}"
        ));
    }
    if accepted && after > before {
        ctx.instances.borrow_mut()[inst].cancelled_itself = true;
    }
    accepted
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(10 * n)
}

async fn exec<'a>(ctx: &'a Rc<Ctx>, local: &mut Local<'a>, op: &Op) {
    let inst = local.inst;
    match op {
        Op::Yield => {
            ctx.note(inst, "yield");
            detsim::yield_now().await;
        }
        Op::Spawn(body) => {
            if ctx.spawns.get() >= SPAWN_BUDGET {
                return;
            }
            ctx.spawns.set(ctx.spawns.get() + 1);
            let child = {
                let mut is = ctx.instances.borrow_mut();
                is.push(Instance {
                    body: *body,
                    ..Instance::default()
                });
                is.len() - 1
            };
            ctx.note(inst, "spawn");
            let h = detsim::spawn(body_future(ctx.clone(), child));
            ctx.instances.borrow_mut()[child].task = Some(h.id());
            ctx.cancel.borrow_mut().push(h.cancel_handle());
            local.handles.push((child, h));
        }
        Op::Detach => {
            ctx.note(inst, "detach");
            local.handles.pop();
        }
        Op::Cancel => {
            if let Some((_, h)) = local.handles.last() {
                let c = h.cancel_handle();
                let accepted = request_cancel(ctx, inst, &c);
                ctx.note(inst, if accepted { "cancel" } else { "cancel late" });
            }
        }
        Op::CancelAny(i) => {
            let c = {
                let cs = ctx.cancel.borrow();
                if cs.is_empty() {
                    return;
                }
                cs[usize::from(*i) % cs.len()].clone()
            };
            let accepted = request_cancel(ctx, inst, &c);
            ctx.note(inst, if accepted { "cancel" } else { "cancel late" });
        }
        Op::Unlock(m) => {
            if local.held[*m].take().is_some() {
                ctx.holders.borrow_mut()[*m] = None;
                ctx.note(inst, "unlock");
            }
        }
        Op::Send(c) => {
            if ctx.tx[*c].unbounded_send(inst as u32).is_err() {
                ctx.violation(format!("send on channel {c} failed: its receiver is gone"));
            }
            ctx.sent.borrow_mut()[*c] += 1;
            ctx.note(inst, "send");
        }
        Op::Random => {
            let n = detsim::random_below(3);
            ctx.note(inst, "random");
            ctx.set_wait(inst, Some((Wait::Sleep, true)));
            sleep(ms(n)).await;
            ctx.set_wait(inst, None);
        }
        Op::Panic => {
            ctx.instances.borrow_mut()[inst].panicked = true;
            panic!("{DELIBERATE} in instance {inst}");
        }
        Op::Timeout(d, inner) => {
            let r = timeout(ms(u64::from(*d)), blocking(ctx, local, inner, true)).await;
            ctx.set_wait(inst, None);
            ctx.note(inst, if r.is_ok() { "in time" } else { "timed out" });
        }
        Op::Sleep(_) | Op::Lock(_) | Op::Recv(_) | Op::Join => {
            blocking(ctx, local, op, false).await;
        }
        Op::Ext(e, d) => {
            // Under a timeout (or finite by construction): the timer keeps any deadlock report
            // out while the task is in here.
            ctx.set_wait(inst, Some((Wait::Sleep, true)));
            let done = timeout(ms(u64::from(*d) + 1), ext(ctx, inst, *e)).await;
            ctx.set_wait(inst, None);
            ctx.note(
                inst,
                if done.is_ok() {
                    "ext done"
                } else {
                    "ext timed out"
                },
            );
        }
    }
}

/// A task that only sleeps `10 ms × n` then yields: finite whatever the schedule.
async fn helper(n: u64) -> u64 {
    sleep(ms(n)).await;
    detsim::yield_now().await;
    n
}

/// One extended operation, with its primitive's oracle.
async fn ext(ctx: &Rc<Ctx>, inst: usize, e: Ext) {
    let p = &ctx.prims;
    match e {
        Ext::Lock => {
            let g = p.lock.acquire().await;
            if p.in_lock.get() != 0 {
                ctx.violation(format!(
                    "instance {inst} was granted the Lock while it was held"
                ));
            }
            let inside = Inside::enter(&p.in_lock);
            detsim::yield_now().await;
            drop(inside);
            drop(g);
        }
        Ext::Semaphore => {
            let permit = p.sem.acquire().await;
            let inside = Inside::enter(&p.in_sem);
            if p.in_sem.get() > 2 || p.sem.value() + p.in_sem.get() as usize > 2 {
                ctx.violation(format!(
                    "BoundedSemaphore(2) over its bound: {} held, value {}",
                    p.in_sem.get(),
                    p.sem.value()
                ));
            }
            detsim::yield_now().await;
            drop(inside);
            drop(permit);
            if p.sem.value() > 2 {
                ctx.violation(format!("BoundedSemaphore(2) has value {}", p.sem.value()));
            }
        }
        Ext::EventSet => p.event.set(),
        Ext::EventClear => p.event.clear(),
        Ext::EventWait => {
            p.event.wait().await;
        }
        Ext::Put => {
            let item = p.next_item.get();
            p.next_item.set(item + 1);
            if p.queue.put(item).await.is_ok() {
                p.put.borrow_mut().push(item);
            }
            check_queue(ctx);
        }
        Ext::Get => {
            if let Ok(item) = p.queue.get().await {
                if !p.put.borrow().contains(&item) {
                    ctx.violation(format!("Queue handed out item {item}, which was never put"));
                }
                if p.taken.borrow().contains(&item) {
                    ctx.violation(format!("Queue handed out item {item} twice"));
                }
                p.taken.borrow_mut().push(item);
            }
            check_queue(ctx);
        }
        Ext::CondWait => {
            let g = p.cond.acquire().await;
            let g = p.cond.wait(g).await;
            drop(g);
        }
        Ext::CondNotify => {
            let g = p.cond.acquire().await;
            p.cond.notify(1);
            drop(g);
        }
        Ext::Barrier => {
            let _ = p.barrier.wait().await;
        }
        Ext::Gather => {
            let r = gather([helper(2), helper(0), helper(1)]).await;
            if let Ok(v) = &r {
                if *v != [2, 0, 1] {
                    ctx.violation(format!("gather returned {v:?}, not in argument order"));
                }
            }
        }
        Ext::GatherTasks => {
            let hs = vec![detsim::spawn(helper(1)), detsim::spawn(helper(0))];
            if let Ok(v) = gather_tasks(hs).await {
                if v != [1, 0] {
                    ctx.violation(format!("gather_tasks returned {v:?}"));
                }
            }
        }
        Ext::TaskGroup => {
            let fail = detsim::random_below(2) == 0;
            let r = task_group(|g| async move {
                g.spawn(async move {
                    helper(1).await;
                    if fail { Err("child failed") } else { Ok(()) }
                })
                .map_err(|_| "spawn refused")?;
                g.spawn(async { Ok(helper(0).await) })
                    .map_err(|_| "spawn refused")?;
                Ok::<_, &str>(())
            })
            .await;
            if r.is_err() != fail {
                ctx.violation(format!(
                    "task_group returned {r:?} with a failing child: {fail}"
                ));
            }
        }
        Ext::Wait => {
            let hs = vec![detsim::spawn(helper(2)), detsim::spawn(helper(0))];
            let r = wait(hs, None, ReturnWhen::FirstCompleted).await;
            if r.done.is_empty() || r.done.len() + r.pending.len() != 2 {
                ctx.violation(format!(
                    "wait(FIRST_COMPLETED) returned {} done, {} pending",
                    r.done.len(),
                    r.pending.len()
                ));
            }
        }
        Ext::Shield => {
            let _ = shield(detsim::spawn(helper(2))).await;
        }
        Ext::Promise => {
            let promise: Promise<u64, ()> = Promise::new();
            let setter = promise.clone();
            let h = detsim::spawn(async move {
                detsim::yield_now().await;
                let _ = setter.set_result(7);
            });
            drop(h);
            if let Ok(v) = promise.wait().await {
                if v != 7 {
                    ctx.violation(format!("Promise resolved with 7 returned {v}"));
                }
            }
        }
        Ext::Scope => {
            let scope = timeout_scope(Some(ms(1)));
            let r = scope.run(helper(2)).await;
            if r.is_ok() {
                ctx.violation("a 10 ms timeout_scope let a 20 ms sleep finish".into());
            }
        }
        Ext::WaitFor => {
            let _ = wait_for(ms(1), detsim::spawn(helper(0))).await;
        }
    }
}

/// The queue's oracle: every item put and not yet taken is in it, no more and no fewer.
fn check_queue(ctx: &Ctx) {
    let p = &ctx.prims;
    let (put, taken) = (p.put.borrow().len(), p.taken.borrow().len());
    if put < taken || put - taken != p.queue.qsize() {
        ctx.violation(format!(
            "Queue holds {} items, but {put} were put and {taken} taken",
            p.queue.qsize()
        ));
    }
}

/// An operation that may block; `timed` when it runs under a timeout.
async fn blocking<'a>(ctx: &'a Rc<Ctx>, local: &mut Local<'a>, op: &Op, timed: bool) {
    let inst = local.inst;
    match op {
        Op::Sleep(n) => {
            ctx.set_wait(inst, Some((Wait::Sleep, timed)));
            sleep(ms(u64::from(*n))).await;
            ctx.note(inst, "slept");
        }
        Op::Lock(m) => {
            if local.held[*m].is_some() {
                return;
            }
            ctx.set_wait(inst, Some((Wait::Lock(*m), timed)));
            let g = ctx.mutexes[*m].lock().await;
            let mut holders = ctx.holders.borrow_mut();
            if let Some(h) = holders[*m] {
                let alive = !ctx.instances.borrow()[h].dropped;
                if alive {
                    ctx.violation(format!(
                        "instance {inst} acquired mutex {m} while instance {h} holds it"
                    ));
                }
            }
            holders[*m] = Some(inst);
            local.held[*m] = Some(g);
            ctx.note(inst, "locked");
        }
        Op::Recv(c) => {
            ctx.set_wait(inst, Some((Wait::Recv(*c), timed)));
            let mut rx = ctx.rx[*c].lock().await;
            match rx.next().await {
                Some(_) => ctx.received.borrow_mut()[*c] += 1,
                None => ctx.violation(format!("channel {c} closed while its senders live")),
            }
            ctx.note(inst, "received");
        }
        Op::Join => {
            let Some((child, h)) = local.handles.pop() else {
                return;
            };
            ctx.set_wait(inst, Some((Wait::Join(child), timed)));
            let r = h.await;
            let is = ctx.instances.borrow();
            let c = &is[child];
            let consistent = match &r {
                Ok(()) => c.may_end_finished(),
                Err(e) if e.is_cancelled() => c.may_end_cancelled(),
                Err(e) => {
                    c.panicked && e.panic_message().is_some_and(|m| m.starts_with(DELIBERATE))
                }
            };
            if !consistent {
                ctx.violation(format!(
                    "join of instance {child} returned {r:?}, but it finished: {}, panicked: {}",
                    c.finished, c.panicked
                ));
            }
            drop(is);
            ctx.note(inst, "joined");
        }
        _ => unreachable!("not a blocking operation: {op:?}"),
    }
    if !timed {
        ctx.set_wait(inst, None);
    }
}

/// What a run of a valid input ended with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The main task finished.
    Finished,
    /// A real deadlock.
    Deadlock,
    /// The main task panicked deliberately.
    MainPanicked,
}

/// A broken invariant of detsim, with what replays it.
#[derive(Debug)]
pub struct Violation {
    /// What went wrong.
    pub message: String,
    /// The program.
    pub program: Program,
    /// The schedule of the first run, for `DETSIM_SCHEDULE`-style replay of the program.
    pub schedule: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "detsim invariant violated: {}", self.message)?;
        writeln!(f, "  program: {:?}", self.program)?;
        write!(f, "  schedule: {}", self.schedule)
    }
}

/// One run of `program` under `scheduler`, with the context it ran in.
fn run(program: &Program, scheduler: impl Scheduler + 'static) -> (RunReport<()>, Rc<Ctx>) {
    let ctx = Ctx::new(program.clone());
    let main = body_future(ctx.clone(), 0);
    let report = Builder::new()
        .scheduler(scheduler)
        .record()
        .fail_on_task_panic(false)
        // Listed, not failing: the check below verifies the list against the program.
        .on_unobserved_panic(detsim::OnUnseen::Warn)
        .max_steps(MAX_STEPS)
        .run_report(main);
    (report, ctx)
}

/// Runs `program` under the schedule `bytes` and returns the recorded decisions and events.
pub fn run_input(program: &Program, bytes: &[u8]) -> RunReport<()> {
    run(program, FuzzBytes::new(bytes)).0
}

/// The whole check of one input: decode, run, and check every invariant. This is the `runtime`
/// fuzz target's body, and what its regressions replay.
pub fn check_input(data: &[u8]) -> Result<Verdict, Violation> {
    let (program, used) = Program::decode(data);
    let bytes = &data[used..];
    let (first, ctx) = run(&program, FuzzBytes::new(bytes));
    let schedule = Schedule::from_decisions(&first.decisions);
    let fail = |message: String| Violation {
        message,
        program: program.clone(),
        schedule: schedule.to_string(),
    };
    let verdict = check_run(&first, &ctx).map_err(&fail)?;

    // Determinism: the same input gives the same events, decisions and user-level trace.
    let (second, ctx2) = run(&program, FuzzBytes::new(bytes));
    same_run(
        &first,
        &ctx,
        &second,
        &ctx2,
        "a second run of the same input",
    )
    .map_err(&fail)?;

    // The schedule string replays the run.
    let parsed: Schedule = schedule
        .to_string()
        .parse()
        .map_err(|e| fail(format!("the schedule string does not parse: {e}")))?;
    let (third, ctx3) = run(&program, Replay::new(parsed.decisions().to_vec()));
    same_run(
        &first,
        &ctx,
        &third,
        &ctx3,
        "the replay of its schedule string",
    )
    .map_err(&fail)?;
    Ok(verdict)
}

fn same_run(
    a: &RunReport<()>,
    actx: &Ctx,
    b: &RunReport<()>,
    bctx: &Ctx,
    what: &str,
) -> Result<(), String> {
    if let Some(i) = (0..a.trace.events.len().max(b.trace.events.len()))
        .find(|&i| a.trace.events.get(i) != b.trace.events.get(i))
    {
        return Err(format!(
            "{what} differs at event {i}: {:?} vs {:?}",
            a.trace.events.get(i).map(|e| e.to_string()),
            b.trace.events.get(i).map(|e| e.to_string())
        ));
    }
    if let Some(i) = (0..=a.decisions.len()).find(|&i| a.decisions.get(i) != b.decisions.get(i)) {
        return Err(format!(
            "{what} has a different decision log from decision {i}"
        ));
    }
    if a.trace.tasks != b.trace.tasks || a.trace.resources != b.trace.resources {
        return Err(format!("{what} has different task or resource tables"));
    }
    let kind = |r: &RunReport<()>| r.output.as_ref().err().map(|f| f.kind.clone());
    if kind(a) != kind(b) || a.steps != b.steps || a.end_time != b.end_time {
        return Err(format!(
            "{what} ends differently: {:?} at step {} vs {:?} at step {}",
            kind(a),
            a.steps,
            kind(b),
            b.steps
        ));
    }
    if *actx.trace.borrow() != *bctx.trace.borrow() {
        return Err(format!("{what} has a different user-level trace"));
    }
    Ok(())
}

/// Checks one run's events and the program's own bookkeeping against detsim's invariants.
fn check_run(report: &RunReport<()>, ctx: &Ctx) -> Result<Verdict, String> {
    if let Some(v) = ctx.violations.borrow().first() {
        return Err(v.clone());
    }
    let instances = ctx.instances.borrow();
    let spawned_by_program = instances.len() - 1;
    // Every instance's body started (a task's first poll records its id), and every future was
    // dropped by the end of the run.
    let mut ids = Vec::with_capacity(instances.len());
    for (i, inst) in instances.iter().enumerate() {
        if !inst.dropped {
            return Err(format!("the future of instance {i} was never dropped"));
        }
        ids.push(inst.task);
    }

    // Events: spawns, completions, cancellations, and no polls after completion.
    let mut spawned: BTreeMap<TaskId, usize> = BTreeMap::new();
    let mut completed: BTreeMap<TaskId, Outcome> = BTreeMap::new();
    let mut cancel_requested: BTreeMap<TaskId, ()> = BTreeMap::new();
    for Event { task, kind, .. } in &report.trace.events {
        match kind {
            EventKind::Spawn { child } if spawned.contains_key(child) => {
                return Err(format!("task {child} spawned twice"));
            }
            EventKind::Spawn { child } => {
                spawned.insert(*child, spawned.len() + 1);
            }
            EventKind::Cancel { target } => {
                cancel_requested.insert(*target, ());
            }
            EventKind::Poll => {
                let t = task.ok_or("a poll outside any task")?;
                if let Some(o) = completed.get(&t) {
                    return Err(format!("task {t} polled after it ended ({o:?})"));
                }
            }
            EventKind::Complete { outcome } => {
                let t = task.ok_or("a completion outside any task")?;
                if t.as_u32() != 0 && !spawned.contains_key(&t) {
                    return Err(format!("task {t} completed but was never spawned"));
                }
                if completed.insert(t, outcome.clone()).is_some() {
                    return Err(format!("task {t} completed twice"));
                }
            }
            _ => {}
        }
    }
    // Extended operations spawn helper tasks (and detsim's combinators their own): only the
    // program's spawns are counted there.
    let helpers_allowed = ctx.program.extended;
    if spawned.len() < spawned_by_program
        || (!helpers_allowed && spawned.len() != spawned_by_program)
    {
        return Err(format!(
            "{} spawn events for {spawned_by_program} spawns",
            spawned.len()
        ));
    }

    // Every task accounted for: finished + cancelled + panicked + dropped at the end = spawned,
    // and each outcome agrees with what the task's own code saw.
    let (mut fin, mut can, mut pan, mut at_end) = (0, 0, 0, 0);
    for (i, inst) in instances.iter().enumerate().skip(1) {
        let t = inst.task.ok_or(format!("instance {i} has no task id"))?;
        if !spawned.contains_key(&t) {
            return Err(format!("task {t} (instance {i}) has no spawn event"));
        }
        match completed.get(&t) {
            Some(Outcome::Finished) if inst.may_end_finished() => fin += 1,
            Some(Outcome::Cancelled) if inst.may_end_cancelled() => {
                if !cancel_requested.contains_key(&t) {
                    return Err(format!("task {t} cancelled without a cancel request"));
                }
                can += 1
            }
            Some(Outcome::Panicked(m)) if inst.panicked && m.starts_with(DELIBERATE) => pan += 1,
            None if !inst.finished => at_end += 1,
            other => {
                return Err(format!(
                    "task {t} ended {other:?}, but its code finished: {}, panicked: {}",
                    inst.finished, inst.panicked
                ));
            }
        }
    }
    if fin + can + pan + at_end != spawned_by_program {
        return Err(format!(
            "{spawned_by_program} spawned, but {fin} finished + {can} cancelled + {pan} \
             panicked + {at_end} dropped at the end"
        ));
    }

    match &report.output {
        Ok(()) => {
            if !instances[0].finished {
                return Err("the run succeeded but main did not finish".into());
            }
            // Every task listed as an unseen panic did panic.
            for u in &report.unseen {
                if let detsim::Unseen::Panicked(_) = u.what {
                    let i = ids.iter().position(|t| *t == Some(u.task.id));
                    if !i.is_some_and(|i| instances[i].panicked) {
                        return Err(format!("{u} is listed, but its code did not panic"));
                    }
                }
            }
            Ok(Verdict::Finished)
        }
        Err(f) => match &f.kind {
            FailureKind::Panic { task, message, .. }
                if task.id.as_u32() == 0 && message.starts_with(DELIBERATE) =>
            {
                Ok(Verdict::MainPanicked)
            }
            FailureKind::Deadlock { blocked } => {
                let mut alive: Vec<(usize, TaskId)> = Vec::new();
                for (i, t) in ids.iter().enumerate() {
                    match t {
                        Some(t) if !completed.contains_key(t) => alive.push((i, *t)),
                        Some(_) => {}
                        None => return Err(format!("instance {i} has no task id")),
                    }
                }
                let listed: Vec<TaskId> = blocked.iter().map(|b| b.task.id).collect();
                let alive_ids: Vec<TaskId> = alive.iter().map(|(_, t)| *t).collect();
                if sorted(listed) != sorted(alive_ids) {
                    return Err(format!(
                        "deadlock report lists {:?}, but the live tasks are {:?}",
                        blocked.iter().map(|b| b.task.id).collect::<Vec<_>>(),
                        alive.iter().map(|(_, t)| *t).collect::<Vec<_>>()
                    ));
                }
                deadlock_is_real(ctx, &instances, &ids, &alive, &completed)?;
                Ok(Verdict::Deadlock)
            }
            other => Err(format!("unexpected failure: {other:?}\n{f}")),
        },
    }
}

fn sorted(mut v: Vec<TaskId>) -> Vec<TaskId> {
    v.sort();
    v
}

/// A reported deadlock is real when every live task waits for something that cannot happen
/// without another live task: no timer (sleep, timeout) pending, no message waiting, no mutex free.
fn deadlock_is_real(
    ctx: &Ctx,
    instances: &[Instance],
    ids: &[Option<TaskId>],
    alive: &[(usize, TaskId)],
    completed: &BTreeMap<TaskId, Outcome>,
) -> Result<(), String> {
    let holders = ctx.holders.borrow();
    for &(i, t) in alive {
        let why = match &instances[i].wait {
            None => {
                return Err(format!(
                    "task {t} reported blocked, but its code awaits nothing"
                ));
            }
            Some((_, true)) | Some((Wait::Sleep, _)) => {
                return Err(format!("task {t} reported deadlocked with a timer pending"));
            }
            Some((w, false)) => w.clone(),
        };
        match why {
            Wait::Lock(m) => match holders[m] {
                Some(h) if ids[h].is_some_and(|ht| !completed.contains_key(&ht)) => {}
                other => {
                    return Err(format!(
                        "task {t} deadlocked on mutex {m}, but it is held by {other:?} (free)"
                    ));
                }
            },
            Wait::Recv(c) => {
                let waiting = ctx.sent.borrow()[c] - ctx.received.borrow()[c];
                if waiting != 0 {
                    return Err(format!(
                        "task {t} deadlocked on channel {c} with {waiting} messages in it"
                    ));
                }
            }
            Wait::Join(child) => {
                let Some(ct) = ids[child] else {
                    return Err(format!("instance {child} has no task id"));
                };
                if completed.contains_key(&ct) {
                    return Err(format!(
                        "task {t} deadlocked joining task {ct}, which ended"
                    ));
                }
            }
            Wait::Sleep => unreachable!(),
        }
    }
    Ok(())
}

//! Shared pieces of detsim's custom benchmark harnesses (no criterion): a counting global
//! allocator for peak-heap measurements, a poll counter, and interleaved timing with medians.
//!
//! Timing discipline: the machine the numbers come from is shared and noisy, so absolute times
//! mean little. Every group of contenders is run interleaved (A, B, C, A, B, C, ...) in one
//! process, and ratios are taken per round before the median, which cancels slow drift.

#![allow(dead_code)] // not every bench binary uses every helper

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

// ----- peak heap -----------------------------------------------------------------------------

/// `System`, plus live/peak byte counters that are updated only while tracking is switched on,
/// so timed runs (tracking off) pay one relaxed load per allocation.
pub struct CountingAlloc;

static TRACKING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);
static COUNT: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; the counters do not affect allocation.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && TRACKING.load(Ordering::Relaxed) {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
            COUNT.fetch_add(1, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        if TRACKING.load(Ordering::Relaxed) {
            LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && TRACKING.load(Ordering::Relaxed) {
            COUNT.fetch_add(1, Ordering::Relaxed);
            if new_size >= layout.size() {
                let live = LIVE.fetch_add(new_size - layout.size(), Ordering::Relaxed)
                    + (new_size - layout.size());
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Peak heap bytes allocated by `f` above what was live when it started (frees of memory
/// allocated before `f` are counted as negative, so the counter may only undercount by that).
pub fn peak_heap<R>(f: impl FnOnce() -> R) -> (R, usize) {
    LIVE.store(0, Ordering::SeqCst);
    PEAK.store(0, Ordering::SeqCst);
    TRACKING.store(true, Ordering::SeqCst);
    let r = f();
    TRACKING.store(false, Ordering::SeqCst);
    (r, PEAK.load(Ordering::SeqCst))
}

/// How many allocations (`alloc` calls; a `realloc` counts once) `f` made.
pub fn count_allocs<R>(f: impl FnOnce() -> R) -> (R, usize) {
    COUNT.store(0, Ordering::SeqCst);
    TRACKING.store(true, Ordering::SeqCst);
    let r = f();
    TRACKING.store(false, Ordering::SeqCst);
    (r, COUNT.load(Ordering::SeqCst))
}

// ----- poll counting -------------------------------------------------------------------------

thread_local! {
    static POLLS: Cell<u64> = const { Cell::new(0) };
}

/// Task polls counted so far on this thread by [`Counted`] wrappers with `C = true`.
pub fn polls() -> u64 {
    POLLS.with(|p| p.get())
}

/// Whether a [`Counted`] wrapper counts.
pub trait Mode: Send + Sync + 'static {
    /// `true`: count polls.
    const ON: bool;
}

/// Count polls (the untimed counting pass).
pub struct On;
/// Do not count: the wrapper compiles to the bare future (timed runs).
pub struct Off;

impl Mode for On {
    const ON: bool = true;
}
impl Mode for Off {
    const ON: bool = false;
}

pin_project_lite::pin_project! {
    /// Wraps a task's future; under [`On`] every poll of it bumps the thread's poll counter.
    pub struct Counted<F, M> {
        #[pin]
        inner: F,
        mode: PhantomData<M>,
    }
}

/// Wraps `f` in a [`Counted`].
pub fn counted<M: Mode, F: Future>(f: F) -> Counted<F, M> {
    Counted {
        inner: f,
        mode: PhantomData,
    }
}

impl<F: Future, M: Mode> Future for Counted<F, M> {
    type Output = F::Output;
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        if M::ON {
            POLLS.with(|p| p.set(p.get() + 1));
        }
        self.project().inner.poll(cx)
    }
}

// ----- timing --------------------------------------------------------------------------------

/// Wall time of one call.
pub fn time<R>(f: impl FnOnce() -> R) -> Duration {
    let t = Instant::now();
    std::hint::black_box(f());
    t.elapsed()
}

/// The median of `xs` (the mean of the two middle values for an even count).
pub fn median(xs: &[f64]) -> f64 {
    assert!(!xs.is_empty());
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

/// Runs every contender once per round, `rounds` times, interleaved; returns the seconds of each
/// run, `[contender][round]`.
pub fn interleaved(runs: &mut [&mut dyn FnMut()], rounds: usize) -> Vec<Vec<f64>> {
    let mut out = vec![Vec::with_capacity(rounds); runs.len()];
    for _ in 0..rounds {
        for (i, r) in runs.iter_mut().enumerate() {
            out[i].push(time(&mut **r).as_secs_f64());
        }
    }
    out
}

/// A duration in the most readable unit.
pub fn fmt_secs(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else if s >= 1e-6 {
        format!("{:.1} µs", s * 1e6)
    } else {
        format!("{:.0} ns", s * 1e9)
    }
}

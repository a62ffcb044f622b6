//! Random values for user code, drawn from the scheduler and recorded as decisions.
//!
//! Test code that needs randomness (a jittered backoff, a random key) must draw it here, never from
//! `rand::thread_rng()` or the clock: then the seed determines it, replay reproduces it, and
//! shrinking can simplify it (towards 0).

use crate::runtime;

/// A random `u64` from the run's scheduler, recorded in the decision log.
///
/// # Panics
///
/// Outside a detsim run.
///
/// ```
/// let draw = |seed| detsim::Builder::new().seed(seed).run(async { detsim::random_u64() }).unwrap();
/// assert_eq!(draw(1), draw(1));
/// assert_ne!(draw(1), draw(2));
/// ```
pub fn random_u64() -> u64 {
    runtime::with_core("detsim::random_u64", |c| c.draw_random())
}

/// A random number in `0..n`, uniformly (one recorded decision).
///
/// # Panics
///
/// If `n` is 0, or outside a detsim run.
///
/// ```
/// detsim::run(async {
///     let d = detsim::random_below(6) + 1;
///     assert!((1..=6).contains(&d));
/// });
/// ```
pub fn random_below(n: u64) -> u64 {
    assert!(
        n > 0,
        "detsim::random_below(0): the range 0..0 is empty; pass n >= 1"
    );
    crate::scheduler::index_below(random_u64(), n)
}

/// A random `bool` (one recorded decision).
///
/// ```
/// detsim::run(async {
///     let coin = detsim::random_bool();
///     assert!(coin || !coin);
/// });
/// ```
pub fn random_bool() -> bool {
    random_u64() >> 63 == 1
}

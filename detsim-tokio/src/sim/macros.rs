//! `select!`: tokio's expansion with the start branch drawn from detsim.

/// The branch an unbiased `select!` polls first: one decision of detsim's scheduler, in
/// `0..branches` (none is drawn for a single branch). Used by [`select!`](crate::sim::select).
///
/// # Panics
///
/// Outside a detsim run.
#[doc(hidden)]
pub fn select_start(branches: u32) -> u32 {
    if branches <= 1 {
        return 0;
    }
    detsim::random_below(u64::from(branches)) as u32
}

/// `select!` on detsim; see [`crate::sim::select`].
///
/// tokio's own `select!` has an internal entry point that takes the expression computing the
/// start branch (its public arms pass tokio's thread-local generator there). This macro passes
/// [`select_start`] instead, so everything else is tokio's code. `BRANCHES` is the constant that
/// expansion defines (items are not hygienic), as tokio's own arm relies on.
#[doc(hidden)]
#[macro_export]
macro_rules! __sim_select {
    ($(biased;)? else => $else:expr $(,)? ) => {{
        $else
    }};
    (biased; $($t:tt)*) => {
        $crate::__private::real::select!(biased; $($t)*)
    };
    ( $p:pat = $($t:tt)* ) => {
        $crate::__private::real::select!(@{
            start={ $crate::sim::select_start(BRANCHES) }; ()
        } $p = $($t)*)
    };
    () => {
        compile_error!("select! requires at least one branch.")
    };
}

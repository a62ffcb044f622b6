//! `assert_trace_snapshot!`: snapshot tests of traces through insta.

/// Asserts that a [`Trace`](crate::trace::Trace)'s text form matches the snapshot `name`, stored
/// in the **calling crate's** `snapshots/` folder at its root (`$CARGO_MANIFEST_DIR/snapshots`,
/// expanded in the caller's crate, so the folder is yours, not detsim's).
///
/// It is insta's `assert_snapshot!` underneath, so the usual workflow applies: a new or changed
/// trace fails the test and leaves a `.snap.new` file next to the snapshot; review it with
/// `cargo insta review` (or accept every pending one with `cargo insta accept`), and commit the
/// `.snap` files. `INSTA_UPDATE=always` writes them directly; on CI (`CI` set) nothing is written.
/// The snapshot file is `snapshots/<test module>__<name>.snap`.
///
/// Requires the `snapshots` feature (on by default).
///
/// ```no_run
/// let report = detsim::Builder::new().seed(1).record().run_report(async {
///     detsim::spawn(async { detsim::yield_now().await }).await.unwrap();
/// });
/// detsim::assert_trace_snapshot!("one_child", report.trace);
/// ```
#[macro_export]
macro_rules! assert_trace_snapshot {
    ($name:expr, $trace:expr $(,)?) => {{
        let __detsim_trace_text = $crate::trace::Trace::render(&$trace);
        let mut __detsim_settings = $crate::__private::insta::Settings::clone_current();
        __detsim_settings.set_snapshot_path(::std::concat!(
            ::std::env!("CARGO_MANIFEST_DIR"),
            "/snapshots"
        ));
        __detsim_settings.set_omit_expression(true);
        __detsim_settings.set_description(::std::stringify!($trace));
        __detsim_settings.bind(|| {
            $crate::__private::insta::assert_snapshot!($name, __detsim_trace_text);
        });
    }};
}

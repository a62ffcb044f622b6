//! Procedural macros of [detsim](https://docs.rs/detsim).
//!
//! * `#[detsim::test]` (re-exported as `detsim::test`): an `async fn` test explored under many
//!   schedules with `detsim::check`.
//! * `#[tokio::test]` and `#[tokio::main]` of `detsim-tokio` under `--cfg detsim` (re-exported
//!   there; this crate names them [`tokio_test`] and [`tokio_main`]).
//!
//! Use them through `detsim` and `detsim-tokio`, not directly. Every expansion names the runtime
//! through a path the caller can change (`crate = "…"`), as tokio's own macros do, so a crate that
//! renames its dependency still works.
//!
//! # Invariants
//!
//! * A malformed attribute is a compile error that names the argument and says what to write;
//!   nothing is silently ignored.
//! * The generated `#[test]` function keeps the user's name and attributes, so libtest and nextest
//!   name it as written, and detsim's replay line names it correctly.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod args;
mod expand;

use proc_macro::TokenStream;

/// Explores an `async fn` test under many schedules with `detsim::check`; see `detsim::test`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::detsim_test(args.into(), item.into()).into()
}

/// `#[tokio::test]` under `--cfg detsim`: the test body explored as `detsim::check` does; see
/// `detsim_tokio::test`.
#[proc_macro_attribute]
pub fn tokio_test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::tokio_test(args.into(), item.into()).into()
}

/// `#[tokio::main]` under `--cfg detsim`: the body as one detsim run; see `detsim_tokio::main`.
#[proc_macro_attribute]
pub fn tokio_main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::tokio_main(args.into(), item.into()).into()
}

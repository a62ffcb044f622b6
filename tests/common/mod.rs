//! Shared by `tests/explore_demos.rs`, `examples/find_bugs.rs` and `benches/explore.rs` (the
//! latter two include it with `#[path]`).

#![allow(dead_code)] // each includer uses a different part

pub mod broken;
pub mod demos;

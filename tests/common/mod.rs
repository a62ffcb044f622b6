//! Shared by `tests/explore_demos.rs`, `examples/find_bugs.rs` and `benches/explore.rs` (the
//! latter two include it with `#[path]`).

#![allow(dead_code)] // each includer uses a different part

pub mod broken;
pub mod demos;

/// `cargo test`, with `-p NAME` when this package is a workspace member other than the root
/// package: how detsim's replay lines start (they name the package so that they work from the
/// workspace root).
pub fn cargo_test() -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let root = dir.ancestors().find(|d| {
        std::fs::read_to_string(d.join("Cargo.toml"))
            .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
    });
    match root {
        Some(root) if root != dir => format!("cargo test -p {}", env!("CARGO_PKG_NAME")),
        _ => "cargo test".to_string(),
    }
}

//! Shared by `tests/explore_demos.rs`, `examples/find_bugs.rs` and `benches/explore.rs` (the
//! latter two include it with `#[path]`).

#![allow(dead_code)] // each includer uses a different part

pub mod broken;
pub mod demos;

/// `cargo test`, with `-p detsim` when this package is in a workspace: how detsim's replay lines
/// start (they name the package so that they work from the workspace root).
pub fn cargo_test() -> String {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let workspace = dir.ancestors().any(|d| {
        std::fs::read_to_string(d.join("Cargo.toml")).is_ok_and(|t| {
            t.lines()
                .any(|l| l.trim() == "[workspace]" || l.trim().starts_with("[workspace."))
        })
    });
    if workspace {
        format!("cargo test -p {}", env!("CARGO_PKG_NAME"))
    } else {
        "cargo test".to_string()
    }
}

//! detsim's fuzz targets' code, shared with the main crate's tests through `#[path]` (see
//! CONTRIBUTING.md, "Fuzzing"). The `fuzz_targets/` binaries are thin wrappers around these functions.
#![forbid(unsafe_code)]

pub mod buffer;
pub mod program;

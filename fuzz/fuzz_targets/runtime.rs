//! The runtime fuzzes itself: a random program and its schedule from one input, checked against
//! detsim's invariants (no internal panic, every task accounted for, determinism, real deadlocks).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(v) = detsim_fuzz::program::check_input(data) {
        panic!("{v}");
    }
});

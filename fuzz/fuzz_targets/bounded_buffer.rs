//! A bounded buffer with a deliberate check-then-act bug; the input is the schedule. A crash is
//! the bug found; `cargo run --example fuzz_input_to_schedule` turns it into a `DETSIM_SCHEDULE`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(failure) = detsim_fuzz::buffer::run_input(data).output {
        panic!("{failure}");
    }
});

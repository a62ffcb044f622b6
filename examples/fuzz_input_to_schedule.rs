//! Turns a fuzz input (a crash artifact or a committed regression) into the `DETSIM_SCHEDULE`
//! string that replays its interleaving in an ordinary `cargo test`.
//!
//! ```text
//! cargo run --example fuzz_input_to_schedule -- bounded_buffer fuzz/artifacts/bounded_buffer/crash-…
//! cargo run --example fuzz_input_to_schedule -- runtime fuzz/regressions/runtime/<file>
//! ```
//!
//! It runs the input through the same code as the target (`fuzz/src/*.rs`) and prints the outcome,
//! the schedule string and the replay command. For `runtime` the program is part of the input
//! too: it prints the decoded program next to the schedule, and the input file itself is the
//! replay (commit it under `fuzz/regressions/runtime/`, and `tests/fuzz_regressions.rs` runs it).

#[allow(dead_code)]
#[path = "../fuzz/src/buffer.rs"]
mod buffer;
#[allow(dead_code)]
#[path = "../fuzz/src/program.rs"]
mod program;

use detsim::explore::Schedule;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [target, file] = args.as_slice() else {
        eprintln!("usage: fuzz_input_to_schedule <bounded_buffer|runtime> <input file>");
        std::process::exit(2);
    };
    let data = std::fs::read(file).unwrap_or_else(|e| {
        eprintln!("{file}: {e}");
        std::process::exit(2);
    });
    match target.as_str() {
        "bounded_buffer" => {
            let report = buffer::run_input(&data);
            let schedule = Schedule::from_decisions(&report.decisions);
            match &report.output {
                Ok(v) => println!("passes (consumer got {v:?})"),
                Err(f) => println!("{f}"),
            }
            println!("schedule: {schedule}");
            println!(
                "replay: DETSIM_SCHEDULE={schedule} cargo test --test fuzz_regressions -- --exact bounded_buffer_under_check"
            );
        }
        "runtime" => {
            let (p, used) = program::Program::decode(&data);
            let report = program::run_input(&p, &data[used..]);
            println!("program: {p:?}");
            match &report.output {
                Ok(()) => println!("main finished"),
                Err(f) => println!("{f}"),
            }
            println!("schedule: {}", Schedule::from_decisions(&report.decisions));
            match program::check_input(&data) {
                Ok(v) => println!("invariants hold ({v:?})"),
                Err(v) => println!("{v}"),
            }
            println!(
                "replay: cp {file} fuzz/regressions/runtime/ && cargo test --test fuzz_regressions"
            );
        }
        other => {
            eprintln!("unknown target `{other}`: bounded_buffer or runtime");
            std::process::exit(2);
        }
    }
}

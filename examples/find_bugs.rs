//! Finds seven classic concurrency bugs by exploring schedules, and replays each one.
//!
//! Every program below passes in asyncio's own order (detsim's FIFO schedule), so running it once
//! proves nothing. For each program and each of two strategies (uniform Random and PCT of depth
//! 3), the example explores up to 1,000 schedules, prints the cause, the seed and the shrunk
//! schedule, and confirms that the failure replays from the seed and from the shrunk schedule.
//! Where there is a correct version (the fixed code, or detsim's real primitive in place of a
//! deliberately broken copy), it explores that too and shows it passes.
//!
//! `cargo run --example find_bugs`

#[path = "../tests/common/mod.rs"]
mod common;

use detsim::explore::{Found, Strategy};
use detsim::{Builder, FailureKind};

/// The cause in one line: the panic message, or the blocked tasks that wait for a resource.
fn cause(found: &Found) -> String {
    match &found.original.kind {
        FailureKind::Panic { task, message, .. } => {
            format!("panic in {task}: {}", message.lines().next().unwrap_or(""))
        }
        FailureKind::Deadlock { blocked } => {
            let waits: Vec<String> = blocked
                .iter()
                .filter(|b| !b.waiting_for.ends_with("to finish"))
                .map(|b| b.to_string())
                .collect();
            format!("deadlock: {}", waits.join("; "))
        }
        other => other.name().to_string(),
    }
}

fn away_from_fifo(found: &Found, shrunk: bool) -> usize {
    let d = if shrunk {
        &found.failure.decisions
    } else {
        &found.original.decisions
    };
    d.iter()
        .filter(|d| matches!(d, detsim::scheduler::Decision::Task { index, .. } if *index != 0))
        .count()
}

struct Row {
    demo: &'static str,
    strategy: String,
    schedules: u64,
    before: (usize, usize),
    after: (usize, usize),
    replays: bool,
    fixed: String,
}

fn main() {
    let strategies = [Strategy::Random, Strategy::Pct { depth: 3 }];
    let mut rows = Vec::new();
    for demo in common::demos::all() {
        println!("== {} — {}", demo.name, demo.bug);
        let fifo = Builder::new()
            .ignore_env()
            .strategy(Strategy::Fifo)
            .schedules(1)
            .explore(demo.program);
        println!(
            "   asyncio's order (FIFO): {}",
            if fifo.is_ok() { "passes" } else { "FAILS" }
        );
        let fixed = match demo.fixed {
            None => "—".to_string(),
            Some(fixed) => {
                let mut ok = 0;
                for s in &strategies {
                    if let Ok(summary) = Builder::new()
                        .ignore_env()
                        .strategy(s.clone())
                        .explore(fixed)
                    {
                        ok += summary.schedules;
                    }
                }
                format!("{ok}/2000 pass")
            }
        };
        for strategy in &strategies {
            let found = match Builder::new()
                .ignore_env()
                .strategy(strategy.clone())
                .explore(demo.program)
            {
                Ok(summary) => {
                    println!("   {strategy}: NOT FOUND ({summary})");
                    continue;
                }
                Err(found) => found,
            };
            let by_seed = Builder::new()
                .ignore_env()
                .strategy(strategy.clone())
                .replay_seed(found.seed)
                .explore(demo.program)
                .err()
                .is_some_and(|f| f.original.decisions == found.original.decisions);
            let by_schedule = Builder::new()
                .ignore_env()
                .replay_schedule(found.shrunk.clone())
                .explore(demo.program)
                .err()
                .is_some_and(|f| f.original.kind == found.failure.kind);
            println!(
                "   {strategy}: found in {} schedule(s), {}",
                found.schedules_run, found.found_in
            );
            println!("     cause:  {}", cause(&found));
            println!("     seed:   {}", found.seed);
            println!(
                "     shrunk: {} ({} → {} decisions, {} → {} away from FIFO)",
                found.shrunk,
                found.original.decisions.len(),
                found.failure.decisions.len(),
                away_from_fifo(&found, false),
                away_from_fifo(&found, true),
            );
            println!(
                "     replay: from the seed {}, from the shrunk schedule {}",
                if by_seed { "ok" } else { "FAILED" },
                if by_schedule { "ok" } else { "FAILED" }
            );
            rows.push(Row {
                demo: demo.name,
                strategy: strategy.to_string(),
                schedules: found.schedules_run,
                before: (
                    found.original.decisions.len(),
                    away_from_fifo(&found, false),
                ),
                after: (found.failure.decisions.len(), away_from_fifo(&found, true)),
                replays: by_seed && by_schedule,
                fixed: fixed.clone(),
            });
        }
        println!();
    }
    println!(
        "{:<28} {:<8} {:>9} {:>15} {:>15} {:>8} {:>15}",
        "program",
        "strategy",
        "schedules",
        "decisions",
        "away from FIFO",
        "replays",
        "correct version"
    );
    for r in &rows {
        println!(
            "{:<28} {:<8} {:>9} {:>15} {:>15} {:>8} {:>15}",
            r.demo,
            r.strategy,
            r.schedules,
            format!("{} → {}", r.before.0, r.after.0),
            format!("{} → {}", r.before.1, r.after.1),
            if r.replays { "yes" } else { "NO" },
            r.fixed
        );
    }
}

//! Every asyncio conformance case (a program whose output CPython 3.13.0 recorded) is either
//! ported — a test whose name starts with its id (`lck_01_…`) — or listed with a reason in
//! `tests/UNPORTED.md`.
//!
//! The case ids, with the CPython test or source each program comes from, are listed in
//! `tests/asyncio_cases.txt`.

use std::path::Path;

fn case_ids(expected: &str) -> Vec<String> {
    expected
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let first = words.next()?;
            let id = if first.chars().all(|c| c.is_ascii_digit()) {
                words.next()?
            } else {
                first
            };
            let (kind, num) = id.split_once('-')?;
            let ok = !kind.is_empty()
                && kind.chars().all(|c| c.is_ascii_uppercase())
                && !num.is_empty()
                && num.chars().all(|c| c.is_ascii_digit())
                && words.next().is_some_and(|w| w.starts_with('['));
            ok.then(|| id.to_string())
        })
        .collect()
}

#[test]
fn every_case_is_ported_or_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let expected = std::fs::read_to_string(root.join("tests/asyncio_cases.txt")).unwrap();
    let ids = case_ids(&expected);
    assert_eq!(ids.len(), 143, "tests/asyncio_cases.txt lists 143 cases");
    let mut tests = String::new();
    for dir in [root.join("tests"), root.join("tests/common")] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "rs") {
                tests.push_str(&std::fs::read_to_string(p).unwrap());
            }
        }
    }
    let unported = std::fs::read_to_string(root.join("tests/UNPORTED.md")).unwrap();
    let missing: Vec<&String> = ids
        .iter()
        .filter(|id| {
            let stem = id.to_lowercase().replace('-', "_");
            let ported =
                tests.contains(&format!("fn {stem}_")) || tests.contains(&format!("fn {stem}("));
            let listed =
                unported.contains(&format!("{id} ")) || unported.contains(&format!("{id},"));
            !ported && !listed
        })
        .collect();
    assert!(
        missing.is_empty(),
        "cases neither ported (a test named after the id) nor listed in tests/UNPORTED.md: {missing:?}"
    );
}

/// The documentation claims that under the `Fifo` scheduler detsim reproduces asyncio's orderings
/// on the ported cases. Every ported case — a test named after a case id — must therefore run
/// under FIFO: through `detsim::run` or a `Builder` that sets no other scheduler, and never
/// through an exploration.
#[test]
fn fifo_claim_covers_every_ported_case() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    assert!(
        readme.contains("Under the `Fifo` scheduler detsim reproduces asyncio's orderings"),
        "README.md no longer states the claim this test guards"
    );
    let mut checked = 0;
    let mut bad = Vec::new();
    for entry in std::fs::read_dir(root.join("tests")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&p).unwrap();
        for chunk in text.split("#[test]").skip(1) {
            let Some(name) = chunk
                .split("fn ")
                .nth(1)
                .and_then(|r| r.split(['(', '<']).next())
            else {
                continue;
            };
            let mut parts = name.splitn(3, '_');
            let (Some(kind), Some(num)) = (parts.next(), parts.next()) else {
                continue;
            };
            let is_case = !kind.is_empty()
                && kind.chars().all(|c| c.is_ascii_lowercase())
                && kind.len() <= 4
                && num.len() == 2
                && num.chars().all(|c| c.is_ascii_digit());
            if !is_case {
                continue;
            }
            let file = p.file_name().unwrap().to_string_lossy().to_string();
            assert!(
                file.starts_with("conformance_") || file.starts_with("sync_"),
                "{name} is named after an asyncio case but lives in {file}"
            );
            // The body runs under FIFO: detsim::run, or a Builder without another scheduler; a
            // case with no run at all (a constructor's error) has no ordering to reproduce.
            let body = chunk;
            let runs = body.contains("detsim::run(") || body.contains("Builder::new()");
            let no_run = !body.contains(".await") && !body.contains("spawn(");
            if !runs && !no_run {
                bad.push(format!(
                    "{file}: {name} does not run through detsim::run or a Builder"
                ));
            }
            for other in [
                "Random",
                "Pct",
                "Urw",
                "Dfs",
                "Portfolio",
                ".explore(",
                "check(",
            ] {
                if body.contains(other) {
                    bad.push(format!("{file}: {name} uses {other}"));
                }
            }
            checked += 1;
        }
    }
    assert!(
        bad.is_empty(),
        "ported cases the Fifo claim does not cover:\n{}",
        bad.join("\n")
    );
    assert!(checked > 100, "found only {checked} ported case tests");
}

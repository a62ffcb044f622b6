//! The project's docs stand on their own: no citation of material that is not in the repository
//! (working notes, a private semantics write-up and its section numbers), and every relative link
//! of a Markdown file points at a file that exists. Reasons for asyncio rules cite asyncio's
//! documentation or CPython's sources (`Lib/asyncio/…`), or state the rule in place.

use std::path::{Path, PathBuf};

/// The repository's root: the package's directory, or the workspace root above it.
fn repo_root() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    dir.ancestors()
        .find(|d| d.join(".git").exists())
        .unwrap_or(dir)
        .to_path_buf()
}

/// Every Markdown and Rust file of the repository, without build output, fuzz corpora and
/// hidden directories.
fn files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                let skip = name.starts_with('.')
                    || ["target", "corpus", "artifacts", "snapshots"].contains(&name.as_str());
                if !skip {
                    walk(&path, out);
                }
            } else if name.ends_with(".md") || name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&repo_root(), &mut out);
    out.sort();
    out
}

/// What a citation of outside material looks like. Built from pieces so this file does not
/// match itself.
fn forbidden() -> Vec<String> {
    vec![
        ["SEMANTICS", ".md"].concat(),
        ["SEMANTICS", " \u{a7}"].concat(),
        ["CASES", ".md"].concat(),
        ["asyncio", "-semantics"].concat(),
        "\u{a7}".to_string(),
        ["notes", "/"].concat(),
    ]
}

/// A section number of the semantics write-up (a capital S, digits, maybe a dot and more digits),
/// as a word of its own.
fn section_number(line: &str) -> Option<&str> {
    let b = line.as_bytes();
    for i in 0..b.len() {
        let starts_word = i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
        if b[i] != b'S' || !starts_word {
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && (b[j].is_ascii_digit() || (b[j] == b'.' && j > i + 1)) {
            j += 1;
        }
        let ends_word = j == b.len() || !(b[j].is_ascii_alphanumeric() || b[j] == b'_');
        if j > i + 1 && b[i + 1].is_ascii_digit() && ends_word {
            return Some(line[i..j].trim_end_matches('.'));
        }
    }
    None
}

/// The lines of `path` that are prose: every line of a Markdown file and of the crate's own
/// sources (their strings ship in messages), and the comments of tests, examples and benches.
fn prose(path: &Path, text: &str) -> Vec<(usize, String)> {
    let rel = path.strip_prefix(repo_root()).unwrap_or(path);
    let shipped = rel.extension().is_some_and(|e| e == "md")
        || rel.components().any(|c| c.as_os_str() == "src");
    text.lines()
        .enumerate()
        .filter(|(_, l)| shipped || l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

#[test]
fn no_citation_of_material_outside_the_repository() {
    let mut found = Vec::new();
    for path in files() {
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in prose(&path, &text) {
            for pat in forbidden() {
                if line.contains(&pat) {
                    found.push(format!("{}:{n}: {pat:?} in {line:?}", path.display()));
                }
            }
            if let Some(s) = section_number(&line) {
                found.push(format!("{}:{n}: section {s:?} in {line:?}", path.display()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "cite asyncio's documentation or CPython's sources (Lib/asyncio/...), or state the rule \
         in place:\n{}",
        found.join("\n")
    );
}

#[test]
fn section_numbers_are_recognised() {
    assert_eq!(section_number("asyncio's S3, so"), Some("S3"));
    assert_eq!(section_number("see S7.3."), Some("S7.3"));
    assert_eq!(section_number("(S10 b)"), Some("S10"));
    assert_eq!(section_number("SHA256 and BS3 and S3x"), None);
    assert_eq!(section_number("Rust 2024's S"), None);
}

/// `[text](target)` and `![alt](target)` links of a Markdown line.
fn links(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = line;
    while let Some(i) = rest.find("](") {
        let after = &rest[i + 2..];
        let Some(end) = after.find(')') else { break };
        out.push(&after[..end]);
        rest = &after[end..];
    }
    out
}

#[test]
fn relative_links_in_markdown_point_at_files_that_exist() {
    let mut broken = Vec::new();
    for path in files()
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
    {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut in_code = false;
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("```") {
                in_code = !in_code;
            }
            if in_code {
                continue;
            }
            for target in links(line) {
                let target = target.split('#').next().unwrap().trim();
                if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                    continue;
                }
                if !path.parent().unwrap().join(target).exists() {
                    broken.push(format!("{}:{}: {target}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The README answers what detsim can and cannot find, and what leaks determinism (the crate docs
/// hold the same section with doc tests).
#[test]
fn readme_says_what_detsim_can_and_cannot_find() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("## What detsim can and cannot find")
        .expect("README section");
    let section = &readme[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    for needle in [
        "`.await`",
        "check-then-act",
        "loom",
        "shuttle",
        "std::time",
        "RandomState",
        "threads",
        "tokio::select!",
        "DETSIM_CHECK_DETERMINISM",
        "NOT deterministic",
    ] {
        assert!(section.contains(needle), "README section lacks {needle:?}");
    }
    let lib = include_str!("../src/lib.rs");
    assert!(lib.contains("//! ## What detsim can and cannot find"));
}

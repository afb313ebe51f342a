//! `docs/replace-the-domain.md` says which files removing the alert aggregate touches. This
//! test keeps that list true, in both directions:
//!
//! - every Rust file that names the alert (`alert`, in any case) is either one of the
//!   aggregate's own files (step 1 of the page) or one of the shared files of steps 2 and 3;
//! - every shared file the page lists still names it, so the list does not keep files the
//!   aggregate has left;
//! - every path the page names exists.
//!
//! A new shared file that learns about alerts fails here: either it belongs in the
//! aggregate's own modules, or the page (and its count) must say it.

// Helpers outside `#[test]` functions are test code too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

const PAGE: &str = "docs/replace-the-domain.md";

/// The word that marks a file as knowing the aggregate.
const AGGREGATE: &str = "alert";

/// This test names the aggregate too; it goes with the page, not with the aggregate.
const THIS_TEST: &str = "tests/tests/replace_the_domain.rs";

/// The workspace directories that hold Rust code.
const CODE_DIRS: [&str; 7] = [
    "domain",
    "application",
    "adapters",
    "bin",
    "tests",
    "bench",
    "examples",
];

fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// The backticked repository paths of the page's sections whose heading starts with one of
/// `numbers` (`## 1.`, `## 2.`, …).
fn paths_in_sections(page: &str, numbers: &[&str]) -> Vec<String> {
    let mut inside = false;
    let mut paths = Vec::new();
    for line in page.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            inside = numbers
                .iter()
                .any(|number| heading.starts_with(&format!("{number}.")));
            continue;
        }
        if inside {
            paths.extend(
                line.split('`')
                    .skip(1)
                    .step_by(2)
                    .filter(|span| looks_like_path(span))
                    .map(str::to_owned),
            );
        }
    }
    paths
}

/// Whether a code span is a repository path: no spaces, no glob, not a route or a comment
/// marker, and with a directory in it.
fn looks_like_path(span: &str) -> bool {
    span.contains('/') && !span.starts_with('/') && !span.contains([' ', '*', '<'])
}

/// Every `.rs` file under `dir`, relative to `root`, skipping build output.
fn rust_files(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(root, &path, found);
            }
        } else if name.ends_with(".rs") {
            let relative = path.strip_prefix(root).unwrap();
            found.push(relative.to_string_lossy().replace('\\', "/"));
        }
    }
}

fn names_the_aggregate(root: &Path, file: &str) -> bool {
    fs::read_to_string(root.join(file))
        .map(|text| text.to_lowercase().contains(AGGREGATE))
        .unwrap_or(false)
}

/// Whether `file` is `own` or lies in the directory `own` (written with a trailing `/`).
fn is_under(file: &str, own: &str) -> bool {
    file == own || (own.ends_with('/') && file.starts_with(own))
}

#[test]
fn the_files_the_page_lists_are_exactly_those_that_name_the_aggregate() {
    let root = workspace_root();
    let page = fs::read_to_string(root.join(PAGE)).unwrap();
    let own = paths_in_sections(&page, &["1"]);
    let shared: BTreeSet<String> = paths_in_sections(&page, &["2", "3"])
        .into_iter()
        .filter(|path| path.ends_with(".rs"))
        .collect();
    assert!(
        !own.is_empty() && !shared.is_empty(),
        "{PAGE} lists nothing"
    );

    let mut files = Vec::new();
    for dir in CODE_DIRS {
        rust_files(&root, &root.join(dir), &mut files);
    }
    let naming: BTreeSet<String> = files
        .into_iter()
        .filter(|file| file != THIS_TEST && !own.iter().any(|own| is_under(file, own)))
        .filter(|file| names_the_aggregate(&root, file))
        .collect();

    let unlisted: Vec<_> = naming.difference(&shared).collect();
    let stale: Vec<_> = shared.difference(&naming).collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "{PAGE} is out of date.\n\
         Shared files that name the {AGGREGATE} but are not listed: {unlisted:?}\n\
         Listed files that no longer name it (or do not exist): {stale:?}"
    );
}

#[test]
fn every_path_the_page_names_exists() {
    let root = workspace_root();
    let page = fs::read_to_string(root.join(PAGE)).unwrap();
    let missing: Vec<String> = paths_in_sections(&page, &["1", "2", "3", "4"])
        .into_iter()
        .filter(|path| !root.join(path).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "{PAGE} names paths that do not exist: {missing:?}"
    );
}

#[test]
fn section_paths_are_read_from_backticks_under_numbered_headings_only() {
    let page = "intro `a/b.rs`\n## 1. Own\n| x | `domain/src/alert/`, `c.rs`, `a/*/d.sql` |\n\
                ## 2. Shared\n1. `lib/x.rs` — the `mod alert;` line\n## Counted\n`z/y.rs`\n";
    assert_eq!(paths_in_sections(page, &["1"]), ["domain/src/alert/"]);
    assert_eq!(paths_in_sections(page, &["2"]), ["lib/x.rs"]);
    assert!(is_under("domain/src/alert/mod.rs", "domain/src/alert/"));
    assert!(!is_under("domain/src/alerting.rs", "domain/src/alert/"));
    assert!(is_under("a/b.rs", "a/b.rs"));
    assert!(!is_under("a/b.rs.bak", "a/b.rs"));
}

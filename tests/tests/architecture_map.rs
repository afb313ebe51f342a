//! ARCHITECTURE.md is a map, and a map is only useful while it is short and points at things
//! that exist. This test holds it to that:
//!
//! - it is at most [`MAX_LINES`] lines long;
//! - every repository path it names in backticks exists, and so does every path a decision
//!   record names;
//! - every decision record under `docs/adr/` is listed in it, and every record it lists
//!   exists;
//! - every decision record has the four headings of [`ADR_HEADINGS`].
//!
//! A path is written relative to the workspace root. `{a,b}` stands for both alternatives,
//! and a placeholder (`<verb>`, `*`) makes a template, of which the directory before the
//! first placeholder must exist. Paths in fenced code blocks are not checked: diagrams name
//! crates, not files.
//!
//! The extraction is tested on small strings at the bottom, so a checker that finds nothing
//! fails instead of passing.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The map must fit in a few screens; detail belongs in the module docs.
const MAX_LINES: usize = 300;

/// Where the decision records live, relative to the workspace root.
const ADR_DIR: &str = "docs/adr";

/// The sections every decision record has, in this order.
const ADR_HEADINGS: [&str; 4] = [
    "## Context",
    "## Decision",
    "## Consequences",
    "## When this does not apply",
];

/// File endings that make a backticked name a path even without a `/`.
const PATH_ENDINGS: [&str; 4] = [".rs", ".md", ".sql", ".toml"];

fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

fn read(relative: &str) -> io::Result<String> {
    fs::read_to_string(workspace_root().join(relative))
}

/// The text of every inline code span outside fenced code blocks, in order.
fn code_spans(markdown: &str) -> Vec<&str> {
    let mut in_fence = false;
    let mut spans = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
            continue;
        }
        if !in_fence {
            // Between the 1st and 2nd backtick, the 3rd and 4th, …
            spans.extend(line.split('`').skip(1).step_by(2));
        }
    }
    spans
}

/// Whether a code span names a repository path rather than a type, a route or a command.
fn looks_like_path(span: &str) -> bool {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._-/{},<>*".contains(c);
    !span.is_empty()
        && span.chars().all(allowed)
        && !span.starts_with('/') // an HTTP route such as `/v1/approvals`
        && (span.contains('/') || PATH_ENDINGS.iter().any(|ending| span.ends_with(ending)))
}

/// Every repository path a markdown text names in backticks, as written.
fn named_paths(markdown: &str) -> Vec<&str> {
    code_spans(markdown)
        .into_iter()
        .filter(|span| looks_like_path(span))
        .collect()
}

/// Expands each `{a,b,…}` group into every alternative: `x_{a,b}.rs` is `x_a.rs`, `x_b.rs`.
fn expand_braces(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else {
        return vec![path.to_owned()];
    };
    let Some(close) = path[open..].find('}').map(|offset| open + offset) else {
        return vec![path.to_owned()];
    };
    let (head, tail) = (&path[..open], &path[close + 1..]);
    path[open + 1..close]
        .split(',')
        .flat_map(|choice| expand_braces(&format!("{head}{choice}{tail}")))
        .collect()
}

/// What is wrong with one named path under `root`, if anything.
fn problem_with(root: &Path, named: &str) -> Option<String> {
    for path in expand_braces(named) {
        let problem = match path.find(['<', '*']) {
            Some(placeholder) => {
                // A template: the directory before its first placeholder must exist.
                let directory = &path[..path[..placeholder].rfind('/').map_or(0, |i| i + 1)];
                if directory.is_empty() {
                    Some(format!(
                        "`{named}` names no directory before its placeholder"
                    ))
                } else if !root.join(directory).is_dir() {
                    Some(format!("`{named}`: no directory `{directory}`"))
                } else {
                    None
                }
            }
            None if path.ends_with('/') && !root.join(&path).is_dir() => {
                Some(format!("`{named}`: no directory `{path}`"))
            }
            None if !root.join(&path).exists() => Some(format!("`{named}`: no file `{path}`")),
            None => None,
        };
        if problem.is_some() {
            return problem;
        }
    }
    None
}

/// The file names of the decision records, sorted.
fn decision_records() -> io::Result<Vec<String>> {
    let mut names = Vec::new();
    for entry in fs::read_dir(workspace_root().join(ADR_DIR))? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.ends_with(".md") {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// What is wrong with one decision record's name and headings, if anything.
fn problems_with_record(number: usize, name: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let prefix = format!("{number:04}-");
    if !name.starts_with(&prefix) || name.len() <= prefix.len() + ".md".len() {
        problems.push(format!(
            "{name}: expected `{prefix}short-title.md` (records are numbered from 0001, without gaps)"
        ));
    }
    let title = format!("# {number:04}. ");
    if !text
        .lines()
        .next()
        .is_some_and(|line| line.starts_with(&title))
    {
        problems.push(format!("{name}: the first line must be `{title}<title>`"));
    }
    let headings: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("## "))
        .collect();
    if headings != ADR_HEADINGS {
        problems.push(format!(
            "{name}: the sections must be exactly {ADR_HEADINGS:?}, in order; found {headings:?}"
        ));
    }
    problems
}

#[test]
fn the_map_is_at_most_three_hundred_lines() {
    let map = read("ARCHITECTURE.md").unwrap_or_else(|e| panic!("ARCHITECTURE.md: {e}"));
    let lines = map.lines().count();
    assert!(
        lines <= MAX_LINES,
        "ARCHITECTURE.md has {lines} lines, at most {MAX_LINES} allowed: move detail into the \
         module docs or a decision record"
    );
}

#[test]
fn every_path_the_map_names_exists() {
    let map = read("ARCHITECTURE.md").unwrap_or_else(|e| panic!("ARCHITECTURE.md: {e}"));
    let paths = named_paths(&map);
    // The map indexes dozens of files; finding only a few means the extraction broke.
    assert!(
        paths.len() >= 50,
        "only {} paths found: {paths:?}",
        paths.len()
    );
    let root = workspace_root();
    let problems: Vec<String> = paths
        .iter()
        .filter_map(|p| problem_with(&root, p))
        .collect();
    assert!(
        problems.is_empty(),
        "ARCHITECTURE.md names paths that do not exist:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_path_a_decision_record_names_exists() {
    let root = workspace_root();
    let mut problems = Vec::new();
    for name in decision_records().unwrap_or_else(|e| panic!("{ADR_DIR}: {e}")) {
        let record = format!("{ADR_DIR}/{name}");
        let text = read(&record).unwrap_or_else(|e| panic!("{record}: {e}"));
        for path in named_paths(&text) {
            if let Some(problem) = problem_with(&root, path) {
                problems.push(format!("{record}: {problem}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_decision_record_is_listed_in_the_map_and_every_listed_one_exists() {
    let map = read("ARCHITECTURE.md").unwrap_or_else(|e| panic!("ARCHITECTURE.md: {e}"));
    let records = decision_records().unwrap_or_else(|e| panic!("{ADR_DIR}: {e}"));
    assert!(!records.is_empty(), "no decision records in {ADR_DIR}");

    let listed: Vec<&str> = named_paths(&map)
        .into_iter()
        .filter(|path| path.starts_with(ADR_DIR) && path.ends_with(".md"))
        .collect();
    let unlisted: Vec<&String> = records
        .iter()
        .filter(|name| !listed.contains(&format!("{ADR_DIR}/{name}").as_str()))
        .collect();
    assert!(
        unlisted.is_empty(),
        "decision records missing from ARCHITECTURE.md: {unlisted:?}"
    );

    let missing: Vec<&&str> = listed
        .iter()
        .filter(|path| {
            !records
                .iter()
                .any(|name| path.ends_with(&format!("/{name}")))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md lists records that do not exist: {missing:?}"
    );
}

#[test]
fn every_decision_record_is_numbered_and_has_the_four_headings() {
    let mut problems = Vec::new();
    let records = decision_records().unwrap_or_else(|e| panic!("{ADR_DIR}: {e}"));
    for (index, name) in records.iter().enumerate() {
        let record = format!("{ADR_DIR}/{name}");
        let text = read(&record).unwrap_or_else(|e| panic!("{record}: {e}"));
        problems.extend(problems_with_record(index + 1, name, &text));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn path_extraction_finds_paths_and_skips_routes_types_commands_and_diagrams() {
    let markdown = "\
| shutdown | `bin/src/shutdown.rs` |
The store: `adapters/postgres/migrations/`, the manifest `Cargo.toml`, a `.ci/run` script.
Not paths: `Arc<dyn Port>`, `/v1/approvals/{id}`, `serve --no-relay`, `application/problem+json`,
`adapter_http::router`, `https://example.dev/problems/`, `take_events()`, ``.
```mermaid
    http[\"`adapters/http/src/lib.rs`\"]
```
A template: `application/src/use_cases/<verb>.rs`.";
    assert_eq!(
        named_paths(markdown),
        [
            "bin/src/shutdown.rs",
            "adapters/postgres/migrations/",
            "Cargo.toml",
            ".ci/run",
            "application/src/use_cases/<verb>.rs",
        ]
    );
}

#[test]
fn a_brace_group_stands_for_each_of_its_alternatives() {
    assert_eq!(
        expand_braces("tests/tests/contract_{memory,sqlite}.rs"),
        [
            "tests/tests/contract_memory.rs",
            "tests/tests/contract_sqlite.rs"
        ]
    );
    assert_eq!(
        expand_braces("a/{b,c}/{d,e}"),
        ["a/b/d", "a/b/e", "a/c/d", "a/c/e"]
    );
    assert_eq!(expand_braces("bin/src/app.rs"), ["bin/src/app.rs"]);
}

#[test]
fn a_path_that_does_not_exist_is_reported_and_one_that_does_is_not() {
    let root = workspace_root();
    assert_eq!(problem_with(&root, "bin/src/shutdown.rs"), None);
    assert_eq!(problem_with(&root, "adapters/postgres/migrations/"), None);
    assert_eq!(
        problem_with(&root, "tests/tests/contract_{memory,sqlite,postgres}.rs"),
        None
    );
    assert_eq!(
        problem_with(&root, "application/src/use_cases/<verb>.rs"),
        None
    );

    assert!(problem_with(&root, "bin/src/no_such_file.rs").is_some());
    assert!(problem_with(&root, "tests/tests/contract_{memory,nosuchstore}.rs").is_some());
    assert!(
        problem_with(&root, "bin/src/shutdown.rs/").is_some(),
        "a file is not a directory"
    );
    assert!(problem_with(&root, "no_such_crate/src/<verb>.rs").is_some());
    assert!(problem_with(&root, "<crate>/src/lib.rs").is_some());
}

#[test]
fn a_decision_record_needs_its_number_title_and_four_sections_in_order() {
    let good = "# 0003. A title\n\n## Context\nx\n## Decision\nx\n## Consequences\nx\n\
                ## When this does not apply\nx\n";
    assert!(problems_with_record(3, "0003-a-title.md", good).is_empty());

    assert_eq!(
        problems_with_record(4, "0003-a-title.md", good).len(),
        2,
        "wrong number"
    );
    assert_eq!(
        problems_with_record(3, "0003-.md", good).len(),
        1,
        "no title in the name"
    );
    let reordered = good.replace(
        "## Decision\nx\n## Consequences",
        "## Consequences\nx\n## Decision",
    );
    assert_eq!(
        problems_with_record(3, "0003-a-title.md", &reordered).len(),
        1
    );
    let without_limits = good.replace("## When this does not apply\n", "");
    assert_eq!(
        problems_with_record(3, "0003-a-title.md", &without_limits).len(),
        1
    );
}

//! The dependency rule of the hexagonal architecture, checked on the real crate graph.
//!
//! ```text
//! domain  ←  application  ←  adapters/*  ←  bin
//!                     ↖          ↙
//!                   support crates
//! ```
//!
//! - `domain` reaches no I/O, async runtime or framework crate, not even transitively.
//! - `application` reaches no adapter, no support crate and no framework crate (axum, sqlx,
//!   tokio, hyper, reqwest, tower).
//! - No adapter depends on another adapter.
//! - A support crate ([`SUPPORT_CRATES`]: code several adapters share, such as the SQL
//!   stores' row mapping) may be depended on by adapters, and itself depends on no adapter.
//!   It is the one way two adapters share code without knowing each other.
//! - Only the composition root (`bin`) and the cross-crate `tests` depend on adapters;
//!   only they and adapters depend on support crates.
//!
//! Crate boundaries already make the compiler enforce the rule *inside* the code (`domain`
//! cannot `use sqlx` unless its manifest lists it), so what needs guarding is the manifests.
//! This test reads `cargo metadata` and walks the resolved graph. Only normal dependencies
//! count: what a crate's tests use (an adapter's tests using the in-memory fakes, say) never
//! ships inside it.
//!
//! The checker is a set of pure functions over [`Graph`]; the unit tests at the bottom run
//! them on small hand-made graphs that break each rule, so a checker that silently passes
//! everything would fail here too.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// Crates `domain` must not reach: I/O, async runtimes and their plumbing, frameworks, and
/// test machinery. A trailing `*` matches any suffix (`sqlx*` covers `sqlx-core`).
const FORBIDDEN_IN_DOMAIN: &[&str] = &[
    "tokio*",
    "mio",
    "async-std",
    "smol",
    "futures*",
    "async-trait",
    "sqlx*",
    "diesel*",
    "axum*",
    "actix*",
    "hyper*",
    "h2",
    "tower*",
    "reqwest",
    "tonic",
    "mockall*",
    "tracing-subscriber",
];

/// Crates `application` must not reach: frameworks and drivers belong to adapters.
const FORBIDDEN_IN_APPLICATION: &[&str] = &[
    "axum*", "sqlx*", "tokio*", "hyper*", "reqwest", "tower*", "actix*", "diesel*",
];

/// Workspace packages allowed to depend on adapters.
const COMPOSITION_ROOTS: &[&str] = &[env!("SERVICE_NAME"), "tests"];

/// Workspace packages that adapters share: adapter-side code (they may use drivers and
/// frameworks) that is not an adapter itself, whatever its path. Listed by name, so a new one
/// is a decision someone wrote down, not an accident of where a crate was put.
const SUPPORT_CRATES: &[&str] = &["sql-support", "adapter-change-hub"];

/// The resolved dependency graph, reduced to what the rules need.
#[derive(Debug, Default)]
struct Graph {
    nodes: BTreeMap<String, Node>,
}

#[derive(Debug, Default)]
struct Node {
    name: String,
    /// The package's directory relative to the workspace root (`adapters/http`), for
    /// workspace members only.
    member_path: Option<String>,
    /// Ids of the packages this one needs to build as a library (not dev, not build).
    normal_deps: Vec<String>,
}

impl Node {
    fn is_member(&self) -> bool {
        self.member_path.is_some()
    }

    fn is_adapter(&self) -> bool {
        !self.is_support()
            && (self
                .member_path
                .as_deref()
                .is_some_and(|path| path.starts_with("adapters/"))
                || self.name.starts_with("adapter-"))
    }

    fn is_support(&self) -> bool {
        self.is_member() && SUPPORT_CRATES.contains(&self.name.as_str())
    }

    fn is_composition_root(&self) -> bool {
        self.is_member() && COMPOSITION_ROOTS.contains(&self.name.as_str())
    }
}

/// One broken rule: `package` reaches `forbidden` along `chain` (package names, in order).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Violation {
    rule: &'static str,
    package: String,
    forbidden: String,
    chain: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: {} reaches {} via {}",
            self.rule,
            self.package,
            self.forbidden,
            self.chain.join(" → ")
        )
    }
}

impl Graph {
    /// Builds the graph from `cargo metadata --format-version 1` output.
    fn from_metadata(metadata: &Value) -> Result<Self, String> {
        let root = metadata["workspace_root"]
            .as_str()
            .ok_or("metadata has no workspace_root")?;
        let members: BTreeSet<&str> = array(&metadata["workspace_members"])?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let mut graph = Self::default();
        for package in array(&metadata["packages"])? {
            let id = string(&package["id"])?;
            let member_path = if members.contains(id) {
                let manifest = Path::new(string(&package["manifest_path"])?);
                let dir = manifest.parent().ok_or("manifest path has no parent")?;
                let relative = dir.strip_prefix(root).map_err(|e| e.to_string())?;
                Some(relative.to_string_lossy().replace('\\', "/"))
            } else {
                None
            };
            graph.nodes.insert(
                id.to_owned(),
                Node {
                    name: string(&package["name"])?.to_owned(),
                    member_path,
                    normal_deps: Vec::new(),
                },
            );
        }
        for resolved in array(&metadata["resolve"]["nodes"])? {
            let id = string(&resolved["id"])?;
            let mut normal_deps = Vec::new();
            for dep in array(&resolved["deps"])? {
                // `kind` is null for normal dependencies, "dev" or "build" otherwise.
                let normal = array(&dep["dep_kinds"])?
                    .iter()
                    .any(|kind| kind["kind"].is_null());
                if normal {
                    normal_deps.push(string(&dep["pkg"])?.to_owned());
                }
            }
            graph
                .nodes
                .get_mut(id)
                .ok_or_else(|| format!("resolve node {id} is not a package"))?
                .normal_deps = normal_deps;
        }
        Ok(graph)
    }

    fn members(&self) -> impl Iterator<Item = (&String, &Node)> {
        self.nodes.iter().filter(|(_, node)| node.is_member())
    }

    fn member_named(&self, name: &str) -> Option<&String> {
        self.members()
            .find(|(_, node)| node.name == name)
            .map(|(id, _)| id)
    }

    /// Every package `from` reaches through normal dependencies, with the shortest chain
    /// of package names that leads there (breadth-first).
    fn reachable<'a>(&'a self, from: &'a str) -> BTreeMap<&'a str, Vec<String>> {
        let mut chains: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        let mut queue = VecDeque::from([from]);
        let name = |id: &str| {
            self.nodes
                .get(id)
                .map_or(id, |n| n.name.as_str())
                .to_owned()
        };
        chains.insert(from, vec![name(from)]);
        while let Some(id) = queue.pop_front() {
            let chain = chains[id].clone();
            for dep in self.nodes.get(id).into_iter().flat_map(|n| &n.normal_deps) {
                if !chains.contains_key(dep.as_str()) {
                    let mut longer = chain.clone();
                    longer.push(name(dep));
                    chains.insert(dep, longer);
                    queue.push_back(dep);
                }
            }
        }
        chains.remove(from);
        chains
    }

    /// Violations of `rule` for every package `from` reaches that `forbidden` says no to.
    fn forbid(
        &self,
        rule: &'static str,
        from: &str,
        forbidden: impl Fn(&str, &Node) -> bool,
    ) -> Vec<Violation> {
        self.reachable(from)
            .into_iter()
            .filter_map(|(id, chain)| {
                let node = self.nodes.get(id)?;
                forbidden(id, node).then(|| Violation {
                    rule,
                    package: self.nodes[from].name.clone(),
                    forbidden: node.name.clone(),
                    chain,
                })
            })
            .collect()
    }
}

fn array(value: &Value) -> Result<&Vec<Value>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("expected an array, found {value}"))
}

fn string(value: &Value) -> Result<&str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("expected a string, found {value}"))
}

fn matches_any(name: &str, patterns: &[&str]) -> bool {
    patterns
        .iter()
        .any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => name.starts_with(prefix),
            None => name == *pattern,
        })
}

/// `domain` reaches no workspace crate and no forbidden crate.
fn domain_is_pure(graph: &Graph) -> Vec<Violation> {
    let Some(domain) = graph.member_named("domain") else {
        return vec![missing("domain")];
    };
    graph.forbid("domain is pure", domain, |_, node| {
        node.is_member() || matches_any(&node.name, FORBIDDEN_IN_DOMAIN)
    })
}

/// `application` reaches no adapter, no support crate, no composition root and no framework
/// crate.
fn application_is_framework_free(graph: &Graph) -> Vec<Violation> {
    let Some(application) = graph.member_named("application") else {
        return vec![missing("application")];
    };
    graph.forbid("application is framework-free", application, |_, node| {
        node.is_adapter()
            || node.is_support()
            || node.is_composition_root()
            || matches_any(&node.name, FORBIDDEN_IN_APPLICATION)
    })
}

/// No adapter reaches another adapter.
fn adapters_are_independent(graph: &Graph) -> Vec<Violation> {
    graph
        .members()
        .filter(|(_, node)| node.is_adapter())
        .flat_map(|(id, _)| {
            graph.forbid("adapters are independent", id, |other, node| {
                node.is_adapter() && other != id.as_str()
            })
        })
        .collect()
}

/// No support crate reaches an adapter: what adapters share must not lead back into one of
/// them, or two adapters would know each other through it.
fn support_crates_know_no_adapter(graph: &Graph) -> Vec<Violation> {
    graph
        .members()
        .filter(|(_, node)| node.is_support())
        .flat_map(|(id, _)| {
            graph.forbid("support crates know no adapter", id, |_, node| {
                node.is_adapter()
            })
        })
        .collect()
}

/// Nothing but the composition roots (and adapters and support crates, checked above)
/// reaches an adapter or a support crate.
fn only_composition_roots_know_adapters(graph: &Graph) -> Vec<Violation> {
    graph
        .members()
        .filter(|(_, node)| !node.is_adapter() && !node.is_support() && !node.is_composition_root())
        .flat_map(|(id, _)| {
            graph.forbid("only the composition root knows adapters", id, |_, node| {
                node.is_adapter() || node.is_support()
            })
        })
        .collect()
}

fn missing(package: &str) -> Violation {
    Violation {
        rule: "the layers exist",
        package: package.to_owned(),
        forbidden: String::new(),
        chain: vec![format!("no workspace package named {package}")],
    }
}

fn all_violations(graph: &Graph) -> Vec<Violation> {
    [
        domain_is_pure(graph),
        application_is_framework_free(graph),
        adapters_are_independent(graph),
        support_crates_know_no_adapter(graph),
        only_composition_roots_know_adapters(graph),
    ]
    .concat()
}

/// Runs `cargo metadata` on this workspace and builds its graph.
///
/// `--filter-platform` keeps the graph to what is built for this machine: without it, cargo
/// lists every platform's dependencies, such as the WebAssembly-only crates `uuid` pulls in
/// there.
fn workspace_graph() -> Result<Graph, String> {
    let workspace_root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .ok_or("tests/ lives inside the workspace root")?;
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host_triple()?])
        .current_dir(workspace_root)
        .output()
        .map_err(|e| format!("cannot run cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata: Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| format!("cargo metadata printed invalid JSON: {e}"))?;
    Graph::from_metadata(&metadata)
}

/// The target triple of this machine, from `rustc -vV`. The rustc beside the cargo running
/// this test is the one of the same toolchain; a plain `rustc` from `PATH` is the fallback.
fn host_triple() -> Result<String, String> {
    let beside_cargo = Path::new(env!("CARGO")).with_file_name("rustc");
    let rustc = if beside_cargo.exists() {
        beside_cargo
    } else {
        "rustc".into()
    };
    let output = Command::new(&rustc)
        .arg("-vV")
        .output()
        .map_err(|e| format!("cannot run {}: {e}", rustc.display()))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV printed no host triple".to_owned())
}

#[test]
fn the_workspace_follows_the_dependency_rule() {
    let graph = workspace_graph().unwrap_or_else(|e| panic!("{e}"));

    // Guards the guard: if parsing found nothing, every rule would pass vacuously.
    let adapters: BTreeSet<&str> = graph
        .members()
        .filter(|(_, node)| node.is_adapter())
        .map(|(_, node)| node.name.as_str())
        .collect();
    for expected in [
        "adapter-http",
        "adapter-memory",
        "adapter-postgres",
        "adapter-sqlite",
    ] {
        assert!(
            adapters.contains(expected),
            "{expected} not found: {adapters:?}"
        );
    }
    for support in SUPPORT_CRATES {
        assert!(
            graph.member_named(support).is_some(),
            "the support crate {support} is not a workspace member"
        );
    }
    let root = graph
        .member_named(env!("SERVICE_NAME"))
        .expect("the composition root is a workspace member");
    assert!(
        graph.reachable(root).len() > 50,
        "the composition root should reach the whole dependency tree"
    );

    let violations = all_violations(&graph);
    assert!(
        violations.is_empty(),
        "the dependency rule is broken:\n{}",
        violations
            .iter()
            .map(|v| format!("  {v}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Hand-made graphs: one clean workspace, and one broken variant per rule.
mod checker {
    use super::*;

    /// A graph of workspace members (`name` at `path`) and third-party crates (no path).
    fn graph(members: &[(&str, &str)], deps: &[(&str, &str)]) -> Graph {
        let mut graph = Graph::default();
        for (name, path) in members {
            graph.nodes.insert(
                (*name).to_owned(),
                Node {
                    name: (*name).to_owned(),
                    member_path: Some((*path).to_owned()),
                    normal_deps: Vec::new(),
                },
            );
        }
        for (from, to) in deps {
            graph.nodes.entry((*to).to_owned()).or_insert_with(|| Node {
                name: (*to).to_owned(),
                ..Node::default()
            });
            graph
                .nodes
                .entry((*from).to_owned())
                .or_insert_with(|| Node {
                    name: (*from).to_owned(),
                    ..Node::default()
                })
                .normal_deps
                .push((*to).to_owned());
        }
        graph
    }

    const MEMBERS: &[(&str, &str)] = &[
        ("domain", "domain"),
        ("application", "application"),
        ("adapter-http", "adapters/http"),
        ("adapter-slack", "adapters/slack"),
        ("adapter-memory", "adapters/memory"),
        ("adapter-sqlite", "adapters/sqlite"),
        ("sql-support", "adapters/sql-support"),
        (env!("SERVICE_NAME"), "bin"),
        ("tests", "tests"),
    ];

    const CLEAN: &[(&str, &str)] = &[
        ("domain", "chrono"),
        ("application", "domain"),
        ("application", "async-trait"),
        ("adapter-http", "application"),
        ("adapter-http", "axum"),
        ("axum", "tokio"),
        ("adapter-slack", "application"),
        ("adapter-slack", "reqwest"),
        ("adapter-memory", "application"),
        ("adapter-sqlite", "application"),
        ("adapter-sqlite", "sql-support"),
        ("sql-support", "application"),
        ("sql-support", "sqlx"),
        (env!("SERVICE_NAME"), "adapter-http"),
        (env!("SERVICE_NAME"), "adapter-slack"),
        ("tests", "adapter-memory"),
    ];

    fn with(extra: &[(&str, &str)]) -> Graph {
        graph(MEMBERS, &[CLEAN, extra].concat())
    }

    /// The violation of `rule` along `chain`: by its first package, of its last.
    fn violation(rule: &'static str, chain: &[&str]) -> Violation {
        Violation {
            rule,
            package: chain[0].into(),
            forbidden: chain[chain.len() - 1].into(),
            chain: chain.iter().map(|n| (*n).to_owned()).collect(),
        }
    }

    /// What the violations found forbidden, whoever reached it.
    fn forbidden(violations: Vec<Violation>) -> BTreeSet<String> {
        violations.into_iter().map(|v| v.forbidden).collect()
    }

    /// The violations of the composition-root rule in the clean graph, with one more member,
    /// `reporting`, that depends on `dependency`.
    fn reporting_depending_on(dependency: &str) -> Vec<Violation> {
        let members = [MEMBERS, &[("reporting", "reporting")]].concat();
        let graph = graph(&members, &[CLEAN, &[("reporting", dependency)]].concat());
        only_composition_roots_know_adapters(&graph)
    }

    #[test]
    fn a_clean_graph_passes_every_rule() {
        assert_eq!(all_violations(&with(&[])), []);
    }

    #[test]
    fn domain_reaching_tokio_even_transitively_is_reported() {
        let graph = with(&[("chrono", "tokio")]);
        assert_eq!(
            domain_is_pure(&graph),
            [violation("domain is pure", &["domain", "chrono", "tokio"])]
        );
    }

    #[test]
    fn domain_depending_on_another_layer_is_reported() {
        let graph = with(&[("domain", "application")]);
        let violations = domain_is_pure(&graph);
        assert!(violations.iter().any(|v| v.forbidden == "application"));
    }

    #[test]
    fn application_depending_on_an_adapter_is_reported() {
        let graph = with(&[("application", "adapter-http")]);
        // The adapter itself, and the framework it drags in with it.
        assert_eq!(
            forbidden(application_is_framework_free(&graph)),
            BTreeSet::from(["adapter-http".into(), "axum".into(), "tokio".into()])
        );
    }

    #[test]
    fn an_adapter_depending_on_another_adapter_is_reported() {
        let graph = with(&[("adapter-slack", "adapter-http")]);
        assert_eq!(
            adapters_are_independent(&graph),
            [violation(
                "adapters are independent",
                &["adapter-slack", "adapter-http"]
            )]
        );
    }

    #[test]
    fn an_adapter_depending_on_a_support_crate_passes() {
        let graph = with(&[("adapter-memory", "sql-support")]);
        assert_eq!(all_violations(&graph), []);
    }

    #[test]
    fn a_support_crate_depending_on_an_adapter_is_reported() {
        let graph = with(&[("sql-support", "adapter-memory")]);
        assert_eq!(
            support_crates_know_no_adapter(&graph),
            [violation(
                "support crates know no adapter",
                &["sql-support", "adapter-memory"]
            )]
        );
        // And through it, the adapter that uses the support crate now reaches another one.
        assert_eq!(
            adapters_are_independent(&graph),
            [violation(
                "adapters are independent",
                &["adapter-sqlite", "sql-support", "adapter-memory"]
            )]
        );
    }

    #[test]
    fn a_support_crate_used_by_the_core_is_reported() {
        let graph = with(&[("application", "sql-support")]);
        assert_eq!(
            forbidden(application_is_framework_free(&graph)),
            BTreeSet::from(["sql-support".into(), "sqlx".into()])
        );
    }

    #[test]
    fn a_support_crate_is_not_an_adapter_though_it_lives_among_them() {
        let support = Node {
            name: "sql-support".into(),
            member_path: Some("adapters/sql-support".into()),
            ..Node::default()
        };
        // A third-party crate of the same name is neither.
        let third_party = Node {
            name: "sql-support".into(),
            ..Node::default()
        };
        assert!(support.is_support() && !support.is_adapter());
        assert!(!third_party.is_support());
    }

    #[test]
    fn an_adapter_used_outside_the_composition_root_is_reported() {
        let violations = reporting_depending_on("adapter-memory");
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].package, "reporting");
        assert_eq!(violations[0].forbidden, "adapter-memory");
    }

    #[test]
    fn a_support_crate_used_outside_the_adapters_is_reported() {
        let violations = reporting_depending_on("sql-support");
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].package, "reporting");
        assert_eq!(violations[0].forbidden, "sql-support");
    }

    #[test]
    fn adapters_are_recognised_by_path_or_by_name() {
        let by_path = Node {
            name: "chat-discord".into(),
            member_path: Some("adapters/discord".into()),
            ..Node::default()
        };
        let by_name = Node {
            name: "adapter-nats".into(),
            member_path: Some("nats".into()),
            ..Node::default()
        };
        let neither = Node {
            name: "application".into(),
            member_path: Some("application".into()),
            ..Node::default()
        };
        assert!(by_path.is_adapter() && by_name.is_adapter() && !neither.is_adapter());
    }

    #[test]
    fn patterns_match_exact_names_or_prefixes() {
        assert!(matches_any("sqlx-core", &["sqlx*"]));
        assert!(matches_any("mio", &["mio"]));
        assert!(!matches_any("miow", &["mio"]));
        assert!(!matches_any("tokenizers", &["tokio*"]));
    }

    #[test]
    fn metadata_is_parsed_into_members_and_normal_dependencies() {
        let metadata = serde_json::json!({
            "workspace_root": "/ws",
            "workspace_members": ["d", "a"],
            "packages": [
                {"id": "d", "name": "domain", "manifest_path": "/ws/domain/Cargo.toml"},
                {"id": "a", "name": "adapter-x", "manifest_path": "/ws/adapters/x/Cargo.toml"},
                {"id": "t", "name": "tokio", "manifest_path": "/registry/tokio/Cargo.toml"},
                {"id": "p", "name": "proptest", "manifest_path": "/registry/proptest/Cargo.toml"},
            ],
            "resolve": {"nodes": [
                {"id": "d", "deps": [
                    {"pkg": "p", "dep_kinds": [{"kind": "dev", "target": null}]},
                ]},
                {"id": "a", "deps": [
                    {"pkg": "d", "dep_kinds": [{"kind": null, "target": null}]},
                    {"pkg": "t", "dep_kinds": [
                        {"kind": "dev", "target": null},
                        {"kind": null, "target": "cfg(unix)"},
                    ]},
                ]},
                {"id": "t", "deps": []},
                {"id": "p", "deps": []},
            ]},
        });
        let graph = Graph::from_metadata(&metadata).unwrap();
        assert_eq!(graph.nodes["a"].member_path.as_deref(), Some("adapters/x"));
        assert!(graph.nodes["a"].is_adapter());
        assert_eq!(graph.nodes["t"].member_path, None);
        assert_eq!(graph.nodes["a"].normal_deps, ["d", "t"]);
        assert!(
            graph.nodes["d"].normal_deps.is_empty(),
            "dev-dependencies do not count"
        );
    }
}

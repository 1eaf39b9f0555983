//! House rules over the whole workspace: every Rust file opens with its `//!` line, and the
//! dependency rules of ARCHITECTURE.md hold in the resolved graph `cargo metadata` reports.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value;

use crate::{files_with, root};

#[test]
fn every_rust_file_opens_with_a_module_doc_and_has_no_trailing_whitespace() {
    let root = root();
    let mut files = Vec::new();
    for dir in ["crates", "plugins", "xtask", "examples", "fuzz"] {
        files_with(&root.join(dir), ".rs", &mut files);
    }
    assert!(files.len() > 100, "found only {} Rust files under {}", files.len(), root.display());
    let mut bad = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("reading a source file");
        if !text.starts_with("//! ") {
            bad.push(format!("{}: does not open with a `//!` line", f.display()));
        }
        if let Some(n) = text.lines().position(|l| l.ends_with(' ') || l.ends_with('\t')) {
            bad.push(format!("{}:{}: trailing whitespace", f.display(), n + 1));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

/// What each rule's packages reach: package name -> every package its normal and build
/// dependencies pull in, with features resolved for that package alone (`cargo tree -p`), as
/// when it is built by itself; dev-dependencies are the tests' business.
struct Graph {
    reach: BTreeMap<String, BTreeSet<String>>,
    members: BTreeSet<String>,
    plugins: BTreeSet<String>,
}

fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

fn graph() -> Graph {
    let out = cargo()
        .args(["metadata", "--format-version", "1", "--offline", "--no-deps"])
        .output()
        .expect("running cargo metadata");
    assert!(out.status.success(), "cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    let meta: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    let plugin_dir = root().join("plugins");
    let mut members = BTreeSet::new();
    let mut plugins = BTreeSet::new();
    for p in meta["packages"].as_array().expect("packages") {
        let name = p["name"].as_str().expect("a package name").to_string();
        if std::path::Path::new(p["manifest_path"].as_str().expect("a manifest path")).starts_with(&plugin_dir) {
            plugins.insert(name.clone());
        }
        members.insert(name);
    }
    let mut reach = BTreeMap::new();
    for name in HOST_SIDE.iter().chain(["tmu-plugin"].iter()).map(|s| s.to_string()).chain(plugins.iter().cloned()) {
        let out = cargo()
            .args(["tree", "--offline", "-e", "normal,build", "--prefix", "none", "--format", "{p}", "-p", &name])
            .output()
            .expect("running cargo tree");
        assert!(out.status.success(), "cargo tree -p {name} failed: {}", String::from_utf8_lossy(&out.stderr));
        let deps = String::from_utf8_lossy(&out.stdout)
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().next().map(str::to_string))
            .collect();
        reach.insert(name, deps);
    }
    Graph { reach, members, plugins }
}

/// The crates of the host side, which never link candle: tensors live in plugins.
const HOST_SIDE: [&str; 4] = ["tmu-core", "tmu-host", "tmu-cli", "xtask"];

/// Every broken rule, one line each, with the command that shows the path.
fn violations(g: &Graph) -> Vec<String> {
    let mut bad = Vec::new();
    let how = |from: &str, to: &str| format!("`cargo tree -e normal,build -p {from} -i {to}` shows how");
    for host_side in HOST_SIDE {
        for dep in g.reach[host_side].iter().filter(|d| d.starts_with("candle")) {
            bad.push(format!(
                "{host_side} must not link candle (plugins own the tensors): it reaches {dep}; {}",
                how(host_side, dep)
            ));
        }
    }
    for plugin in &g.plugins {
        for dep in g.reach[plugin].iter().filter(|d| *d == "tmu-host" || (g.plugins.contains(*d) && *d != plugin)) {
            bad.push(format!(
                "plugin {plugin} must depend on neither the host nor another plugin: it reaches {dep}; {}",
                how(plugin, dep)
            ));
        }
    }
    for dep in g.reach["tmu-plugin"].iter().filter(|d| g.members.contains(*d)) {
        bad.push(format!(
            "tmu-plugin (the ABI every plugin links) must depend on nothing of ours: it reaches {dep}; {}",
            how("tmu-plugin", dep)
        ));
    }
    bad
}

#[test]
fn dependency_rules_hold_in_the_resolved_graph() {
    let g = graph();
    for name in ["tmu-core", "tmu-host", "tmu-cli", "xtask", "tmu-plugin"] {
        assert!(g.members.contains(name), "{name} is no longer a workspace member: update this test");
    }
    assert!(g.plugins.len() >= 7, "found only {:?} under plugins/", g.plugins);
    let bad = violations(&g);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_rules_see_a_forbidden_edge() {
    // The check itself: the real graph with one forbidden dependency added per rule fails each.
    let mut g = graph();
    let plugin = g.plugins.iter().next().expect("a plugin").clone();
    let other = g.plugins.iter().nth(1).expect("a second plugin").clone();
    g.reach.get_mut("tmu-core").expect("tmu-core").insert("candle-core".into());
    g.reach.get_mut(&plugin).expect("a plugin").insert(other.clone());
    g.reach.get_mut("tmu-plugin").expect("tmu-plugin").insert("tmu-stats".into());
    let bad = violations(&g);
    assert_eq!(bad.len(), 3, "{bad:#?}");
    assert!(bad[0].starts_with("tmu-core must not link candle"), "{bad:#?}");
    assert!(
        bad[1].contains(&format!(
            "plugin {plugin} must depend on neither the host nor another plugin: it reaches {other}"
        )),
        "{bad:#?}"
    );
    assert!(bad[2].contains("it reaches tmu-stats"), "{bad:#?}");
}

//! Builds, once per test binary, the real plugin libraries that end-to-end tests load through
//! the real loader: the first-party plugins and the example third-party plugin.
//!
//! - **First-party plugins** come from `cargo test --workspace --no-run` on the workspace's own
//!   build folder. Under `cargo test --workspace` (CI, `cargo xtask ci`) that is the build that
//!   just ran, so it is a no-op that says where the fresh libraries are; under
//!   `cargo test -p tmu-cli` it builds them. It must be that command: `cargo build -p <plugins>`
//!   resolves features without dev-dependencies (a test build unifies, for instance,
//!   serde_json's `float_roundtrip` into every crate), so it would rebuild candle and every
//!   plugin a second time. Cargo holds its build-folder lock only while it builds, not while
//!   tests run, so this cannot deadlock against the `cargo test` that runs us.
//! - **The example plugin** (`examples/tmu-example-margin`, its own cargo project) is built as
//!   its author would build it, into `<target>/out-of-tree`: its dependencies resolve to other
//!   features than the workspace's (no csv, so serde_core without `default`), so it could share
//!   no compiled crate with the workspace anyway, and its `libtmu_*` library must not land next
//!   to `target/debug/tmu`, where `tmu` would load it as first-party. Its `cargo build` and
//!   `cargo test` share that folder and the same compiled dependencies.
//!
//! `--offline` everywhere: tests never use the network (the lock files pin crates that the
//! workspace build fetched).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).ancestors().nth(2).expect("tmu-cli lives in <root>/crates/").to_path_buf()
}

/// The workspace's build folder (`target/`).
pub fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").to_path_buf()
}

/// Runs `cargo <args> --offline --manifest-path <manifest> --target-dir <target_dir>`, fails the
/// test with cargo's output when it fails, and returns its standard output.
pub fn cargo(args: &[&str], manifest: &Path, target_dir: &Path) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(args)
        .arg("--offline")
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir)
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "`cargo {}` for {} failed:\n{stdout}{}",
        args.join(" "),
        manifest.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The shared libraries cargo reported building (or finding fresh) for the library targets
/// named `targets`, from its `--message-format=json` output, in the order of `targets`.
fn cdylibs(json_lines: &str, targets: &[String]) -> Vec<PathBuf> {
    let mut found = std::collections::HashMap::new();
    for line in json_lines.lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let is_cdylib = msg["target"]["kind"].as_array().is_some_and(|k| k.iter().any(|k| k == "cdylib"));
        if msg["reason"] != "compiler-artifact" || !is_cdylib {
            continue;
        }
        let name = msg["target"]["name"].as_str().unwrap_or_default().to_string();
        let lib = msg["filenames"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(std::env::consts::DLL_SUFFIX));
        if let Some(lib) = lib {
            found.insert(name, PathBuf::from(lib));
        }
    }
    targets
        .iter()
        .map(|t| found.remove(t).unwrap_or_else(|| panic!("cargo built no shared library for `{t}`")))
        .collect()
}

/// Package names of the first-party plugins: the folders of `plugins/` with a Cargo.toml
/// (folder name = package name), sorted.
pub fn first_party_packages() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("plugins"))
        .expect("reading plugins/")
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.join("Cargo.toml").is_file())
        .map(|p| p.file_name().expect("a folder name").to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every first-party plugin library (debug), sorted by name: the order `tmu` loads them in from
/// the folder of its binary. A test build leaves them in `target/debug/deps` (only a plain
/// `cargo build` copies them next to `tmu`), where cargo's messages say they are. Call it
/// before running `tmu` in any test of a binary that uses it: the build may relink
/// `target/debug/tmu`.
pub fn first_party_plugins() -> &'static [PathBuf] {
    static BUILT: OnceLock<Vec<PathBuf>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let json = cargo(
            &["test", "--workspace", "--no-run", "--quiet", "--message-format=json"],
            &root().join("Cargo.toml"),
            &target_dir(),
        );
        let targets: Vec<String> = first_party_packages().iter().map(|p| p.replace('-', "_")).collect();
        cdylibs(&json, &targets)
    })
}

/// The example third-party plugin's manifest.
pub fn example_manifest() -> PathBuf {
    root().join("examples/tmu-example-margin/Cargo.toml")
}

/// `<target>/out-of-tree`, where the example plugin is built.
pub fn out_of_tree_dir() -> PathBuf {
    target_dir().join("out-of-tree")
}

/// The example third-party plugin library (`features.margin`), built in debug.
pub fn example_plugin() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        let json = cargo(&["build", "--quiet", "--message-format=json"], &example_manifest(), &out_of_tree_dir());
        cdylibs(&json, &["tmu_example_margin".to_string()]).remove(0)
    })
}

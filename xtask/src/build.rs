//! Building the release `tmu` binary with every first-party plugin next to it, and running it.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result};

use crate::{root, sh};

/// Package names of the first-party plugins: every `plugins/*/Cargo.toml`.
pub fn plugin_packages() -> Result<Vec<String>> {
    let mut names = Vec::new();
    let dir = root().join("plugins");
    let Ok(entries) = std::fs::read_dir(&dir) else { return Ok(names) };
    for entry in entries {
        let manifest = entry?.path().join("Cargo.toml");
        if !manifest.is_file() {
            continue;
        }
        let text = std::fs::read_to_string(&manifest).with_context(|| format!("reading {}", manifest.display()))?;
        let name = text
            .lines()
            .skip_while(|l| l.trim() != "[package]")
            .find_map(|l| l.trim().strip_prefix("name").and_then(|r| r.trim().strip_prefix('=')))
            .map(|v| v.trim().trim_matches('"').to_string())
            .with_context(|| format!("{} has no [package] name", manifest.display()))?;
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// `cargo build --release` of `tmu` and every plugin; returns the path of the `tmu` binary.
/// The plugin libraries land next to it, where `tmu` looks for first-party plugins.
pub fn build_release(extra_features: &[&str]) -> Result<PathBuf> {
    let mut cmd = Command::new(cargo());
    cmd.args(["build", "--release", "-p", "tmu-cli"]);
    for p in plugin_packages()? {
        cmd.args(["-p", &p]);
    }
    for f in extra_features {
        cmd.args(["--features", f]);
    }
    sh(&mut cmd)?;
    Ok(target_dir().join("release").join(format!("tmu{}", std::env::consts::EXE_SUFFIX)))
}

/// Builds, then runs the release `tmu` with `args` in the workspace root. `tmu` prints its own
/// errors, so a failure only passes its exit code on.
pub fn run_tmu(args: &[String]) -> Result<()> {
    let tmu = build_release(&[])?;
    let status = Command::new(&tmu)
        .args(args)
        .current_dir(root())
        .status()
        .with_context(|| format!("cannot start {}", tmu.display()))?;
    if !status.success() {
        std::process::exit(status.code().unwrap_or(1));
    }
    Ok(())
}

pub fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_string())
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| root().join("target"))
}

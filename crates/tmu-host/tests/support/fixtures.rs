//! Builds the fixture plugins (an out-of-tree cargo workspace) once per test binary, exactly as
//! a third party builds a plugin, and says where their libraries are. Shared by tmu-host's and
//! tmu-cli's tests (`#[path]`).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// `<workspace>/crates/tmu-host/tests/fixtures`.
fn fixtures_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tmu-host/tests/fixtures")
}

/// `<target>/fixtures`: next to the workspace's own build folder, never inside it.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target dir").join("fixtures")
}

fn cargo_build(packages: &[&str], env: &[(&str, &Path)]) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.arg("build").arg("--quiet").arg("--manifest-path").arg(fixtures_root().join("Cargo.toml"));
    cmd.arg("--target-dir").arg(target_dir());
    for p in packages {
        cmd.arg("-p").arg(p);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cargo runs");
    assert!(
        out.status.success(),
        "building fixture plugins {packages:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The folder holding the built fixture libraries.
pub fn fixture_dir() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(|| {
        cargo_build(&["fixture-stages", "fixture-abi999", "fixture-norun", "fixture-dep"], &[]);
        target_dir().join("debug")
    })
}

/// The file name of a shared library on this platform (`libfoo.so`).
pub fn dll_name(stem: &str) -> String {
    format!("{}{stem}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)
}

/// A built fixture library: `stages`, `abi999`, `norun`, `dep`.
pub fn fixture(name: &str) -> PathBuf {
    let path = fixture_dir().join(dll_name(&format!("fixture_{name}")));
    assert!(path.is_file(), "{} was not built", path.display());
    path
}

/// `fixture-linked`: a plugin that needs `libfixture_dep` at load time, which the loader cannot
/// find (it is not on the library path and the plugin has no rpath).
pub fn linked_fixture() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = fixture_dir();
            cargo_build(&["fixture-linked"], &[("FIXTURE_DEP_DIR", dir)]);
            dir.join(dll_name("fixture_linked"))
        })
        .clone()
}

/// Copies a library into `dir` under `name` (a file name).
pub fn copy_as(lib: &Path, dir: &Path, name: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let dst = dir.join(name);
    std::fs::copy(lib, &dst).unwrap();
    dst
}

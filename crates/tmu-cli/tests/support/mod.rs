//! Running the real `tmu` binary in a temp folder with the fixture plugins.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[path = "../../../tmu-host/tests/support/fixtures.rs"]
pub mod fixtures;

/// A temp folder holding pipeline files and `runs/`; the working directory of `tmu`.
pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace { dir: tempfile::tempdir().unwrap() }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn runs(&self) -> PathBuf {
        self.path().join("runs")
    }

    /// Writes a pipeline file and returns its name.
    pub fn write(&self, name: &str, text: &str) -> String {
        std::fs::write(self.path().join(name), text).unwrap();
        name.to_string()
    }

    /// `tmu <args>` with the fixture plugin on TMU_PLUGIN_PATH and the binary's folder off.
    pub fn tmu(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tmu"));
        cmd.current_dir(self.path()).env("TMU_PLUGIN_PATH", fixtures::fixture("stages")).arg("--no-default-plugins");
        cmd.args(args);
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.tmu(args).output().unwrap())
    }
}

/// A finished `tmu` process.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

impl Run {
    /// Asserts exit status 0 and returns self.
    pub fn ok(self) -> Run {
        assert_eq!(self.code, Some(0), "tmu failed:\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    /// The summary table row of a stage, split into columns.
    pub fn row(&self, stage: &str) -> Vec<String> {
        self.stdout
            .lines()
            .map(|l| l.split("  ").map(str::trim).filter(|c| !c.is_empty()).map(String::from).collect::<Vec<_>>())
            .find(|cols| cols.first().is_some_and(|c| c == stage))
            .unwrap_or_else(|| panic!("no row for `{stage}` in:\n{}", self.stdout))
    }

    /// The result column of a stage in the summary table (`ran`, `cached`, ...).
    pub fn result(&self, stage: &str) -> String {
        self.row(stage)[1].clone()
    }
}

/// Waits (up to two minutes) for a file to appear.
pub fn wait_for(path: &Path) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !path.exists() {
        assert!(std::time::Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())))
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

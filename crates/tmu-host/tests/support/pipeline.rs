//! Test helpers: the fixture registry, plans from TOML text, runs that collect their events,
//! and readers for the records a run leaves.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::channel;

use tmu_core::{Plan, RenderStyle};
use tmu_host::record::StageRecord;
use tmu_host::{Event, ExecOptions, Origin, Registry, RunError, RunReport, RunsDir, SearchPaths, run_plan};

use super::fixtures::fixture;

/// The registry of the `fixture-stages` plugin, loaded once per test binary.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let search = SearchPaths { binary_folder: None, paths: vec![(fixture("stages"), Origin::CommandLine)] };
        Registry::load(&search).expect("the fixture plugin loads")
    })
}

/// Writes `pipeline.toml` into `dir` and validates it against the fixture registry.
pub fn plan(dir: &Path, toml: &str) -> Plan {
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, toml).unwrap();
    tmu_core::load(&path, toml, registry())
        .unwrap_or_else(|d| panic!("invalid pipeline:\n{}", d.render(RenderStyle::Plain)))
}

/// Runs `plan` in `runs` with `opts`; returns the result and every event, in order.
pub fn run_with(plan: &Plan, runs: &Path, opts: &ExecOptions) -> (Result<RunReport, RunError>, Vec<Event>) {
    let runs = RunsDir::open(runs).unwrap();
    let (tx, rx) = channel();
    let cancel = AtomicBool::new(false);
    let result = run_plan(plan, registry(), &runs, opts, &tx, &cancel);
    drop(tx);
    (result, rx.into_iter().collect())
}

/// Runs `plan` with default options and expects success.
pub fn run(plan: &Plan, runs: &Path) -> RunReport {
    match run_with(plan, runs, &ExecOptions::default()).0 {
        Ok(r) => r,
        Err(e) => panic!("run failed: {e}\nhelp: {:?}", e.help()),
    }
}

/// `(stage, outcome)` for every stage of a report, in plan order.
pub fn outcomes(report: &RunReport) -> Vec<(String, &'static str)> {
    report.stages.iter().map(|s| (s.stage.clone(), s.outcome.as_str())).collect()
}

/// The names of the stages that ran.
pub fn ran(report: &RunReport) -> Vec<String> {
    report.stages.iter().filter(|s| s.outcome == tmu_host::Outcome::Ran).map(|s| s.stage.clone()).collect()
}

/// `runs/<pipeline>/<stage>/stage.json` of a finished stage.
pub fn stage_record(runs: &Path, pipeline: &str, stage: &str) -> StageRecord {
    let path = runs.join(pipeline).join(stage).join("stage.json");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_json::from_slice(&bytes).unwrap()
}

/// Any stage.json as JSON (also those of failed stages).
pub fn stage_json(runs: &Path, pipeline: &str, stage: &str) -> serde_json::Value {
    let path = runs.join(pipeline).join(stage).join("stage.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// The folders left in `runs/.tmp` (attempts in progress or abandoned).
pub fn tmp_attempts(runs: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(runs.join(".tmp"))
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_dir()).collect())
        .unwrap_or_default()
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))).unwrap()
}

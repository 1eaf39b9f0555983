//! Before a run: the slice (`--from`, `--to`, `--force`), what is already cached, and the
//! plugins' preflight checks of every stage that will run.

use tmu_core::Plan;
use tmu_plugin::NullHost;
use tmu_plugin::protocol::RunRequest;

use super::error::{RunError, StageFailure};
use super::resolve::{resolve_device, stage_key, stage_plugins};
use super::types::ExecOptions;
use crate::loader::LoadedPlugin;
use crate::record::CacheRecord;
use crate::registry::Registry;
use crate::store::{Corruption, RunsDir};

/// Per-stage facts fixed for the whole run, in plan order.
pub(super) struct Prepared<'r> {
    pub plugins: Vec<&'r LoadedPlugin>,
    /// The resolved device of each stage (`cpu`, `cuda:N`).
    pub devices: Vec<String>,
    /// Selected by `--from` / `--to`.
    pub in_slice: Vec<bool>,
    /// In the slice, or a dependency (direct or not) of a stage in it.
    pub needed: Vec<bool>,
    pub forced: Vec<bool>,
}

pub(super) fn prepare<'r>(plan: &Plan, registry: &'r Registry, opts: &ExecOptions) -> Result<Prepared<'r>, RunError> {
    let plugins = stage_plugins(plan, registry)?;
    let devices = plan.stages.iter().zip(&plugins).map(|(s, p)| resolve_device(s.device, p.description.cuda)).collect();
    let from: Vec<&str> = opts.from.iter().map(String::as_str).collect();
    let to: Vec<&str> = opts.to.iter().map(String::as_str).collect();
    let n = plan.stages.len();
    let mut in_slice = vec![false; n];
    let mut needed = vec![false; n];
    for i in plan.slice(&from, &to)? {
        in_slice[i] = true;
        for j in plan.ancestors(i) {
            needed[j] = true;
        }
    }
    let mut forced = vec![false; n];
    for name in &opts.force {
        for i in plan.select(name)? {
            if !in_slice[i] {
                return Err(RunError::ForceOutsideSlice { stage: name.clone() });
            }
            forced[i] = true;
        }
    }
    Ok(Prepared { plugins, devices, in_slice, needed, forced })
}

/// What a run would do with a stage, known before it starts.
#[derive(Clone, Debug, PartialEq)]
pub enum StageStatus {
    /// A cached result exists for its key.
    Cached { key: String },
    /// It will run: not cached, or forced (`key` is known).
    Run { key: String, forced: bool },
    /// Its key depends on outputs of stages that will run first: it runs unless they
    /// reproduce their previous outputs exactly.
    AfterUpstream,
    /// Left out by `--from` / `--to`.
    Excluded,
}

impl StageStatus {
    pub fn describe(&self) -> &'static str {
        match self {
            StageStatus::Cached { .. } => "cached",
            StageStatus::Run { forced: true, .. } => "will run (forced)",
            StageStatus::Run { forced: false, .. } => "will run",
            StageStatus::AfterUpstream => "will run unless its inputs come out unchanged",
            StageStatus::Excluded => "excluded",
        }
    }
}

/// The status of every stage, in plan order; a stage the slice needs but cannot run that has
/// no cached result is an error. Cached results are verified (unless the runs folder trusts
/// its cache); a corrupt one is passed to `corrupt` with the stage's index and, with `evict`,
/// removed.
pub(super) fn statuses(
    plan: &Plan,
    prepared: &Prepared,
    runs: &RunsDir,
    evict: bool,
    corrupt: &mut dyn FnMut(usize, &Corruption),
) -> Result<(Vec<StageStatus>, Vec<Option<CacheRecord>>), RunError> {
    let n = plan.stages.len();
    let mut done: Vec<Option<CacheRecord>> = vec![None; n];
    let mut out = Vec::with_capacity(n);
    for (i, stage) in plan.stages.iter().enumerate() {
        if !prepared.needed[i] {
            out.push(StageStatus::Excluded);
            continue;
        }
        if stage.dependencies.iter().any(|&d| done[d].is_none()) {
            out.push(StageStatus::AfterUpstream);
            continue;
        }
        let key = stage_key(plan, stage, &stage.inputs, prepared.plugins[i], &prepared.devices[i], &done);
        let cached = if prepared.forced[i] { None } else { runs.lookup_verified(&key, evict, &mut |c| corrupt(i, c)) };
        match cached {
            Some(record) => {
                done[i] = Some(record);
                out.push(StageStatus::Cached { key });
            }
            None if !prepared.in_slice[i] => return Err(RunError::NotCached { stage: stage.name.clone() }),
            None => out.push(StageStatus::Run { key, forced: prepared.forced[i] }),
        }
    }
    Ok((out, done))
}

/// Asks each plugin whether the stages that will run can run (files present, options
/// consistent), before anything runs; every failure is reported.
pub(super) fn preflight(
    plan: &Plan,
    prepared: &Prepared,
    statuses: &[StageStatus],
    runs: &RunsDir,
) -> Result<(), RunError> {
    let mut failures = Vec::new();
    for (i, stage) in plan.stages.iter().enumerate() {
        if matches!(statuses[i], StageStatus::Cached { .. } | StageStatus::Excluded) {
            continue;
        }
        let plugin = prepared.plugins[i];
        // Nothing is read or written in a preflight: the folders need not exist.
        let nowhere = runs.root().join(".tmp").join("preflight");
        let request = RunRequest {
            stage: stage.name.clone(),
            kind: stage.kind.clone(),
            config: stage.config.clone(),
            inputs: Default::default(),
            output_dir: nowhere.clone(),
            work_dir: nowhere,
            seed: stage.seed,
            device: prepared.devices[i].clone(),
            preflight: true,
        };
        if let Err(error) = plugin.run(&request, &NullHost) {
            failures.push(StageFailure {
                stage: stage.name.clone(),
                kind: stage.kind.clone(),
                plugin: plugin.description.name.clone(),
                plugin_file: plugin.path.clone(),
                error,
            });
        }
    }
    if failures.is_empty() { Ok(()) } else { Err(RunError::Preflight { failures }) }
}

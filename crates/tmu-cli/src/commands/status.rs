//! `tmu status`: what a run of a pipeline has done (cached stages) and what is still on its way
//! (the Slurm jobs of a detached run).

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use tmu_host::{ExecOptions, RunsDir, StageStatus, plan_status};

use crate::args::PluginArgs;
use crate::load::{Loaded, load_pipeline, print_diagnostics};

pub fn status(pipeline: &Path, runs_dir: &Path, plugins: &PluginArgs) -> anyhow::Result<ExitCode> {
    let (plan, registry) = match load_pipeline(pipeline, plugins, true)? {
        Loaded::Valid(plan, registry) => (plan, registry),
        Loaded::Invalid(d) => {
            print_diagnostics(pipeline, &d);
            return Ok(ExitCode::FAILURE);
        }
    };
    let runs =
        RunsDir::open(runs_dir).with_context(|| format!("cannot open the runs folder {}", runs_dir.display()))?;
    let statuses = plan_status(&plan, &registry, &runs, &ExecOptions::default())?;
    let cached = statuses.iter().filter(|s| matches!(s, StageStatus::Cached { .. })).count();
    let jobs = tmu_host::exec::slurm::active_jobs(&runs, &plan.name).map_err(anyhow::Error::msg)?;
    let running = jobs.iter().filter(|j| j.2 == "RUNNING").count();
    for (stage, id, state) in &jobs {
        println!("  {stage:<40}  job {id:<10}  {}", state.to_lowercase());
    }
    let failed: Vec<&str> = plan
        .stages
        .iter()
        .zip(&statuses)
        .filter(|(s, st)| {
            !matches!(st, StageStatus::Cached { .. })
                && !jobs.iter().any(|j| j.0 == s.name)
                && std::fs::read(runs.stage_dir(&plan.name, &s.name).join("stage.json"))
                    .ok()
                    .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
                    .is_some_and(|v| v["status"] == "failed")
        })
        .map(|(s, _)| s.name.as_str())
        .collect();
    for stage in &failed {
        println!("  {stage:<40}  failed (see {})", runs.stage_dir(&plan.name, stage).join("stage.log").display());
    }
    println!(
        "pipeline `{}`: {cached} of {} stage run(s) done (cached), {running} running and {} waiting in Slurm, {} failed",
        plan.name,
        statuses.len(),
        jobs.len() - running,
        failed.len()
    );
    Ok(ExitCode::SUCCESS)
}

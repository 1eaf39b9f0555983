//! `tmu check` (validate, report every problem) and `tmu plan` (the DAG and what is cached).

use std::path::Path;
use std::process::ExitCode;

use tmu_core::{plan_dot, plan_text};
use tmu_host::{ExecOptions, RunsDir, StageStatus, plan_status};

use crate::args::{PluginArgs, SliceArgs};
use crate::load::{Loaded, load_pipeline, print_diagnostics};

pub fn check(pipeline: &Path, plugins: &PluginArgs) -> anyhow::Result<ExitCode> {
    match load_pipeline(pipeline, plugins, false)? {
        Loaded::Valid(plan, _) => {
            let n = plan.stages.len();
            let size = match &plan.sweep {
                Some(sweep) => {
                    let mut bases: Vec<&str> = plan.stages.iter().map(|s| s.base.as_str()).collect();
                    bases.sort_unstable();
                    bases.dedup();
                    let points = sweep.points.len();
                    format!(
                        "{} stage{} over {points} point{}: {n} stage runs",
                        bases.len(),
                        if bases.len() == 1 { "" } else { "s" },
                        if points == 1 { "" } else { "s" }
                    )
                }
                None => format!("{n} stage{}", if n == 1 { "" } else { "s" }),
            };
            println!("{}: pipeline `{}` is valid ({size})", pipeline.display(), plan.name);
            Ok(ExitCode::SUCCESS)
        }
        Loaded::Invalid(d) => {
            print_diagnostics(pipeline, &d);
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn plan(
    pipeline: &Path,
    dot: bool,
    slurm: Option<&Path>,
    slice: &SliceArgs,
    runs_dir: &Path,
    plugins: &PluginArgs,
) -> anyhow::Result<ExitCode> {
    let (plan, registry) = match load_pipeline(pipeline, plugins, false)? {
        Loaded::Valid(plan, registry) => (plan, registry),
        Loaded::Invalid(d) => {
            print_diagnostics(pipeline, &d);
            return Ok(ExitCode::FAILURE);
        }
    };
    if dot {
        print!("{}", plan_dot(&plan));
        return Ok(ExitCode::SUCCESS);
    }
    let slice_opts = || ExecOptions {
        force: slice.force.clone(),
        from: slice.from.clone(),
        to: slice.to.clone(),
        ..ExecOptions::default()
    };
    if let Some(dir) = slurm {
        // The jobs write into the runs folder, so it exists from here on.
        let runs = RunsDir::open(runs_dir)?;
        let cfg = crate::commands::run::slurm_config(pipeline, false, plugins)?;
        let (submit, n) = tmu_host::exec::slurm::export_scripts(&plan, &registry, &runs, &slice_opts(), &cfg, dir)?;
        println!("wrote {n} job script(s) and {} (run it to submit them with their dependencies)", submit.display());
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", plan_text(&plan));
    if !runs_dir.is_dir() {
        println!("\nnothing cached yet (no runs folder at {}): every stage would run", runs_dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let runs = RunsDir::open(runs_dir)?;
    let opts = slice_opts();
    let statuses = plan_status(&plan, &registry, &runs, &opts)?;
    println!("\nin {}:", runs_dir.display());
    let width = plan.stages.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for (stage, status) in plan.stages.iter().zip(&statuses) {
        let key = match status {
            StageStatus::Cached { key } | StageStatus::Run { key, .. } => format!("  key {}", &key[..12]),
            _ => String::new(),
        };
        println!("  {:<width$}  {}{key}", stage.name, status.describe());
    }
    if plan.sweep.is_some() {
        println!("{}", status_counts(&statuses));
    }
    Ok(ExitCode::SUCCESS)
}

/// `19 stage runs: 4 cached, 2 will run, 13 after upstream`.
fn status_counts(statuses: &[StageStatus]) -> String {
    let count = |f: fn(&StageStatus) -> bool| statuses.iter().filter(|s| f(s)).count();
    let cached = count(|s| matches!(s, StageStatus::Cached { .. }));
    let run = count(|s| matches!(s, StageStatus::Run { .. }));
    let after = count(|s| matches!(s, StageStatus::AfterUpstream));
    let excluded = count(|s| matches!(s, StageStatus::Excluded));
    let mut line = format!(
        "{} stage runs: {cached} cached, {run} will run, {after} will run unless their inputs come out unchanged",
        statuses.len()
    );
    if excluded > 0 {
        line.push_str(&format!(", {excluded} excluded"));
    }
    line
}

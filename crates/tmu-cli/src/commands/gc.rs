//! `tmu gc`: removes the cached results that no pipeline of a given set would reuse now.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use tmu_host::{ExecOptions, RunsDir, StageStatus, plan_status};

use crate::args::PluginArgs;
use crate::error::with_help;
use crate::load::{Loaded, load_pipeline, print_diagnostics};
use crate::summary::bytes;

pub fn gc(pipelines: &[PathBuf], runs_dir: &Path, delete: bool, plugins: &PluginArgs) -> anyhow::Result<ExitCode> {
    if !runs_dir.join(".cache").is_dir() {
        return Err(with_help(
            format!("no runs folder at {} (it has no .cache/)", runs_dir.display()),
            "give the folder `tmu run` wrote to with --runs-dir",
        ));
    }
    let runs =
        RunsDir::open(runs_dir).with_context(|| format!("cannot open the runs folder {}", runs_dir.display()))?;
    // The keys each pipeline would use now: cached results it reuses, and the stages it would
    // run (their checkpoints in `.work/` are kept).
    let mut keep = HashSet::new();
    for pipeline in pipelines {
        let (plan, registry) = match load_pipeline(pipeline, plugins, true)? {
            Loaded::Valid(plan, registry) => (plan, registry),
            Loaded::Invalid(d) => {
                // Collecting against a pipeline that cannot be read would remove its results.
                print_diagnostics(pipeline, &d);
                eprintln!("error: nothing was removed");
                return Ok(ExitCode::FAILURE);
            }
        };
        let statuses = plan_status(&plan, &registry, &runs, &ExecOptions::default())
            .with_context(|| format!("cannot resolve the stages of {}", pipeline.display()))?;
        let before = keep.len();
        for status in statuses {
            if let StageStatus::Cached { key } | StageStatus::Run { key, .. } = status {
                keep.insert(key);
            }
        }
        println!("{}: {} result(s) to keep", pipeline.display(), keep.len() - before);
    }
    let plan = runs.gc_plan(&keep).with_context(|| format!("cannot read {}", runs_dir.display()))?;
    for entry in &plan.entries {
        let by = entry
            .produced_by
            .as_ref()
            .map(|p| format!("stage `{}` of pipeline `{}`", p.stage, p.pipeline))
            .unwrap_or_else(|| "an unreadable record".into());
        println!("  {}  {:>10}  {by}", &entry.key[..entry.key.len().min(12)], bytes(entry.bytes));
    }
    for view in &plan.views {
        println!("  view {}", view.display());
    }
    let summary = format!(
        "{} of {} cached result(s), {}, {} stage view(s) and {} work folder(s)",
        plan.entries.len(),
        plan.entries.len() + plan.kept,
        bytes(plan.bytes()),
        plan.views.len(),
        plan.work_dirs.len()
    );
    if !delete {
        println!("would remove {summary}; nothing was changed (run again with --delete to remove them)");
        return Ok(ExitCode::SUCCESS);
    }
    let outcome = runs.gc_apply(&plan).with_context(|| format!("cannot clean {}", runs_dir.display()))?;
    println!("removed {} cached result(s), {}", outcome.removed, bytes(outcome.bytes));
    if !outcome.busy.is_empty() {
        println!("left {} result(s) alone: a running tmu process holds them", outcome.busy.len());
    }
    Ok(ExitCode::SUCCESS)
}

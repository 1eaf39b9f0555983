//! `tmu __stage`: one stage attempt in a process of its own. With a prepared request on standard
//! input (`--executor process`), or, with `--pipeline` and `--instance` (a Slurm job), an
//! instance whose inputs it resolves from the cache. Events and the outcome go to standard
//! output as JSON lines.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use tmu_host::exec::slurm::run_instance;
use tmu_host::exec::{JobSpec, run_child};
use tmu_host::{RunsDir, StoreOptions};

use crate::args::PluginArgs;
use crate::load::{Loaded, load_pipeline, render};

pub fn stage(
    runs_dir: &Path,
    trust_cache: bool,
    pipeline: Option<&Path>,
    instance: Option<&str>,
    plugins: &PluginArgs,
) -> anyhow::Result<ExitCode> {
    let runs = RunsDir::open_with(runs_dir, StoreOptions { verify: !trust_cache })
        .with_context(|| format!("cannot open the runs folder {}", runs_dir.display()))?;
    // SIGINT (the terminal's Ctrl-C) and SIGTERM (the parent cancelling, scancel) stop the stage
    // cleanly.
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).context("cannot install the signal handler")?;
    let mut out = std::io::stdout();
    match (pipeline, instance) {
        (Some(pipeline), Some(instance)) => {
            let (plan, registry) = match load_pipeline(pipeline, plugins, true)? {
                Loaded::Valid(plan, registry) => (plan, registry),
                Loaded::Invalid(d) => {
                    anyhow::bail!("{} no longer validates:\n{}", pipeline.display(), render(&d))
                }
            };
            run_instance(&plan, &registry, &runs, instance, &cancel, &mut out);
        }
        _ => {
            let mut body = Vec::new();
            std::io::stdin().read_to_end(&mut body).context("cannot read the stage request from standard input")?;
            let spec: JobSpec = serde_json::from_slice(&body).context("the stage request is not valid")?;
            run_child(&spec, &runs, &cancel, &mut out);
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! `tmu run`: load, validate, run with progress, then the summary table.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::channel;

use anyhow::Context;
use tmu_host::exec::slurm::SlurmConfig;
use tmu_host::{ExecOptions, Executor, RunError, RunsDir, StoreOptions, run_plan};

use crate::args::{ExecutorArg, PluginArgs, RunArgs};
use crate::load::{Loaded, load_pipeline, print_diagnostics};
use crate::progress::{self, Mode};

/// The exit status after Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_CANCELLED: u8 = 130;

/// The first Ctrl-C asks running stages to stop and starts no new one; the second exits at once.
fn install_ctrl_c(cancel: Arc<AtomicBool>) -> anyhow::Result<()> {
    ctrlc::set_handler(move || {
        if cancel.swap(true, Ordering::SeqCst) {
            eprintln!("\ninterrupted again: exiting now (finished stages are kept)");
            std::process::exit(i32::from(EXIT_CANCELLED));
        }
        eprintln!("\ncancelling: waiting for running stages to stop (Ctrl-C again to exit at once)");
    })
    .context("cannot install the Ctrl-C handler")
}

/// What the Slurm jobs need to run `tmu` as this process does: absolute paths (a job starts in
/// another folder, maybe on another machine) and the same plugin options.
pub(crate) fn slurm_config(
    pipeline: &std::path::Path,
    detach: bool,
    plugins: &PluginArgs,
) -> anyhow::Result<SlurmConfig> {
    let absolute =
        |p: &std::path::Path| std::fs::canonicalize(p).with_context(|| format!("cannot resolve {}", p.display()));
    let mut global_args = Vec::new();
    if plugins.no_default_plugins {
        global_args.push("--no-default-plugins".into());
    }
    for p in &plugins.plugin_path {
        global_args.push("--plugin-path".into());
        global_args.push(absolute(p)?.into_os_string());
    }
    Ok(SlurmConfig {
        tmu: std::env::current_exe().context("cannot find the tmu binary for the Slurm jobs")?,
        pipeline: absolute(pipeline)?,
        global_args,
        detach,
        poll: std::time::Duration::from_millis(500),
    })
}

pub fn run(args: &RunArgs, plugins: &PluginArgs) -> anyhow::Result<ExitCode> {
    let (plan, registry) = match load_pipeline(&args.pipeline, plugins, args.quiet)? {
        Loaded::Valid(plan, registry) => (plan, registry),
        Loaded::Invalid(d) => {
            print_diagnostics(&args.pipeline, &d);
            return Ok(ExitCode::FAILURE);
        }
    };
    let runs = RunsDir::open_with(&args.runs_dir, StoreOptions { verify: !args.trust_cache })
        .with_context(|| format!("cannot open the runs folder {}", args.runs_dir.display()))?;
    let cancel = Arc::new(AtomicBool::new(false));
    install_ctrl_c(cancel.clone())?;

    let mode = if args.quiet {
        Mode::Quiet
    } else if std::io::stderr().is_terminal() {
        Mode::Bars
    } else {
        Mode::Plain
    };
    let (tx, rx) = channel();
    let renderer = progress::spawn(rx, mode);
    let opts = ExecOptions {
        jobs: usize::from(args.jobs),
        gpu_jobs: usize::from(args.gpu_jobs),
        devices: devices(args)?,
        force: args.slice.force.clone(),
        from: args.slice.from.clone(),
        to: args.slice.to.clone(),
        keep_going: args.keep_going,
        executor: match args.executor {
            ExecutorArg::InProcess => Executor::InProcess,
            ExecutorArg::Process => Executor::Process {
                tmu: std::env::current_exe().context("cannot find the tmu binary to start stage processes")?,
            },
            ExecutorArg::Slurm => Executor::Slurm(slurm_config(&args.pipeline, args.detach, plugins)?),
        },
    };
    let started = std::time::Instant::now();
    let result = run_plan(&plan, &registry, &runs, &opts, &tx, &cancel);
    drop(tx);
    let _ = renderer.join();
    let elapsed = crate::summary::seconds(started.elapsed().as_secs_f64());

    let report = match &result {
        Ok(report) => Some(report),
        Err(e) => e.report(),
    };
    if let Some(report) = report {
        println!("pipeline `{}` ({}) in {elapsed}", plan.name, plan.source.display());
        print!("{}", crate::summary::table(report));
        let submitted = report.count(tmu_host::Outcome::Submitted);
        if submitted > 0 {
            println!(
                "submitted {submitted} Slurm job(s) (scripts and outputs in {}); `tmu status {}` follows them",
                runs.root().join(".slurm").join(&plan.name).display(),
                args.pipeline.display()
            );
        }
        let v = runs.verify_stats();
        if v.artifacts > 0 && !args.quiet {
            println!(
                "verified {} cached artifact{} ({}) against their recorded hashes in {}",
                v.artifacts,
                if v.artifacts == 1 { "" } else { "s" },
                crate::summary::bytes(v.bytes),
                crate::summary::seconds(v.seconds)
            );
        }
        if !args.quiet {
            crate::reports::print(&plan, report);
        }
    }
    match result {
        Ok(_) => Ok(ExitCode::SUCCESS),
        Err(e) => {
            let cancelled = matches!(e, RunError::Cancelled { .. });
            crate::error::print_error(&anyhow::Error::new(e));
            Ok(if cancelled { ExitCode::from(EXIT_CANCELLED) } else { ExitCode::FAILURE })
        }
    }
}

/// `--devices`, checked: each GPU once, and not with Slurm, which places jobs itself.
fn devices(args: &RunArgs) -> anyhow::Result<Vec<usize>> {
    if !args.devices.is_empty() && args.executor == ExecutorArg::Slurm {
        anyhow::bail!(
            "--devices does not apply to --executor slurm: each job asks Slurm for its GPUs (`[slurm] gpus_per_job`, docs/cluster.md)"
        );
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = args.devices.iter().find(|g| !seen.insert(**g)) {
        anyhow::bail!("--devices lists cuda:{twice} twice");
    }
    Ok(args.devices.clone())
}

//! `tmu`: run, check, plan, describe and schema for tmu pipelines; verify and gc for the runs
//! folder; new-plugin for plugin authors.
//!
//! Plugins load from the binary's folder (`libtmu_*`), `[plugins] paths` in the pipeline file,
//! `--plugin-path` and `TMU_PLUGIN_PATH`; each file loaded is named on stderr. Results go to
//! `--runs-dir` (default `runs/` in the current folder): `runs/<pipeline>/<stage>/` for each
//! stage and the shared stage cache `runs/.cache/`.

mod args;
mod commands;
mod error;
mod load;
mod progress;
mod reports;
mod summary;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.command {
        Command::Run(args) => commands::run(args, &cli.plugins),
        Command::Check { pipeline } => commands::check(pipeline, &cli.plugins),
        Command::Plan { pipeline, dot, slurm, slice, runs_dir } => {
            commands::plan(pipeline, *dot, slurm.as_deref(), slice, runs_dir, &cli.plugins)
        }
        Command::Status { pipeline, runs_dir } => commands::status(pipeline, runs_dir, &cli.plugins),
        Command::Describe { kind } => commands::describe(kind.as_deref(), &cli.plugins),
        Command::Schema { output } => commands::schema(output.as_deref(), &cli.plugins),
        Command::NewPlugin(args) => commands::new_plugin(args),
        Command::Stage { runs_dir, trust_cache, pipeline, instance } => {
            commands::stage(runs_dir, *trust_cache, pipeline.as_deref(), instance.as_deref(), &cli.plugins)
        }
        Command::Verify { runs_dir, evict } => commands::verify(runs_dir, *evict),
        Command::Gc { pipelines, runs_dir, delete } => commands::gc(pipelines, runs_dir, *delete, &cli.plugins),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            error::print_error(&e);
            ExitCode::FAILURE
        }
    }
}

//! `cargo xtask`: tmu's build tasks (run, check, plan, ci, expect, gpu-check, codegen, bench);
//! never links candle.

mod bench;
mod build;
mod ci;
mod codegen;
mod expect;
mod gpu_check;
mod slurm_check;

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

const USAGE: &str = "\
cargo xtask <task> [args]

tasks:
  run <pipeline.toml> [tmu run args]   build tmu and the plugins in release, then `tmu run`
  check <pipeline.toml>                build, then `tmu check` (every problem, with line:column)
  plan <pipeline.toml> [--dot]         build, then `tmu plan`
  tmu <args>                           build, then run the release `tmu` with any arguments
  ci [--no-smoke]                      fmt, clippy and doc with -D warnings, tests, and the checked
                                       pipelines' numbers (`expect`)
  expect [--update] [pipeline.toml...] run the checked pipelines (quickstart, synthetic-small) and
                                       compare every number they print with pipelines/expected/;
                                       --update rewrites those tables (say why in the commit)
  codegen [--check]                    regenerate (or check) docs/plugins/*.json, docs/stages.md and
                                       docs/pipeline.schema.json from the plugins' self-descriptions
  bench train-step [args]              candle vs PyTorch (same run) ResNet-18 training step, images/s
                                       and ratio (args: --rounds, --batch, --steps, --impl)
  bench data [scratch folder]          data-set stages vs NumPy/Pillow on full-size generated files
  slurm-check                          the quickstart through a one-node Slurm cluster started here
                                       (scripts/slurm-one-node.sh; needs root and Debian's slurm
                                       packages): same metrics as in-process; scancel, then a rerun
  gpu-check [--no-build]               build the CUDA parity tests and bench (target/cuda), check the
                                       PTX with ptxas, pack them into target/gpu-check/ and print the
                                       GPU run command (one run, one summary file)
";

/// Runs the task; a failure prints its error chain on one line and exits with 1. (Not `main() ->
/// Result`: with `RUST_BACKTRACE` set, that prints a stack backtrace after the message, which
/// pushes the message itself off the end of a cut CI log.)
fn main() -> std::process::ExitCode {
    match task() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn task() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let task = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match task.as_str() {
        "run" | "check" | "plan" => {
            let Some(pipeline) = rest.first() else { bail!("usage: cargo xtask {task} <pipeline.toml>\n\n{USAGE}") };
            let mut tmu_args = vec![task.clone(), pipeline.clone()];
            tmu_args.extend(rest[1..].iter().cloned());
            build::run_tmu(&tmu_args)
        }
        "tmu" => build::run_tmu(&rest),
        "ci" => ci::run(&rest),
        "codegen" => codegen::run(&rest),
        "expect" => expect::run(&rest),
        "gpu-check" => gpu_check::run(&rest),
        "bench" => bench::run(&rest),
        "slurm-check" => slurm_check::run(&rest),
        "" | "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown task `{other}`\n\n{USAGE}"),
    }
}

/// The workspace root (the parent of this crate's folder).
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// Runs a command in the workspace root, failing with the command line when it fails.
pub fn sh(cmd: &mut std::process::Command) -> Result<()> {
    let line = format!("{cmd:?}");
    eprintln!("$ {line}");
    let status = cmd.current_dir(root()).status().with_context(|| format!("cannot start {line}"))?;
    if !status.success() {
        bail!("{line} failed with {status}");
    }
    Ok(())
}

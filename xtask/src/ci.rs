//! `cargo xtask ci`: everything a submission must pass, in the order that fails fastest, with the
//! time each step took (CI runs on 2 cores; the whole must stay well under 30 minutes).

use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::build::cargo;
use crate::sh;

/// Runs `step`, then prints how long it took; a failure names the step and when it failed.
fn timed(name: &str, step: impl FnOnce() -> Result<()>) -> Result<f64> {
    let start = Instant::now();
    step().with_context(|| format!("ci step `{name}` failed after {:.0} s", start.elapsed().as_secs_f64()))?;
    let secs = start.elapsed().as_secs_f64();
    eprintln!("xtask ci: {name} took {secs:.0} s");
    Ok(secs)
}

pub fn run_ci(skip_smoke: bool) -> Result<()> {
    let mut total = 0.0;
    total += timed("fmt", || sh(Command::new(cargo()).args(["fmt", "--all", "--check"])))?;
    total += timed("clippy", || {
        sh(Command::new(cargo()).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))
    })?;
    // Doc comments are checked too (broken intra-doc links, tensor shapes read as links): 16-20 s
    // on a clean checkout, after clippy.
    total += timed("doc", || {
        sh(Command::new(cargo()).args(["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"))
    })?;
    total += timed("tests", || sh(Command::new(cargo()).args(["test", "--workspace"])))?;
    if !skip_smoke {
        // The headline numbers: the quickstart and a small synthetic run, built in release and
        // compared value by value with pipelines/expected/.
        total +=
            timed("expected numbers (release build, quickstart and synthetic-small runs)", || crate::expect::run(&[]))?;
    }
    // The Slurm executor against a real one-node cluster, where one can be started here (root,
    // Debian's slurm packages, which .ci/run installs); elsewhere the step says it was skipped.
    if !skip_smoke {
        match crate::slurm_check::missing() {
            None => {
                total += timed("slurm (one-node cluster: a cut-down sweep, scancel and rerun)", || {
                    crate::slurm_check::run(&[])
                })?
            }
            Some(why) => eprintln!("xtask ci: slurm step skipped: {why}"),
        }
    }
    eprintln!("xtask ci: all checks passed in {total:.0} s");
    Ok(())
}

pub fn run(args: &[String]) -> Result<()> {
    run_ci(args.iter().any(|a| a == "--no-smoke"))
}

//! `cargo xtask ci`: everything a submission must pass, in the order that fails fastest.

use std::process::Command;

use anyhow::Result;

use crate::build::{cargo, run_tmu};
use crate::sh;

pub fn run_ci(skip_smoke: bool) -> Result<()> {
    sh(Command::new(cargo()).args(["fmt", "--all", "--check"]))?;
    sh(Command::new(cargo()).args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]))?;
    sh(Command::new(cargo()).args(["test", "--workspace"]))?;
    if !skip_smoke {
        run_tmu(&["run".to_string(), "pipelines/quickstart.toml".to_string()])?;
    }
    eprintln!("xtask ci: all checks passed");
    Ok(())
}

pub fn run(args: &[String]) -> Result<()> {
    run_ci(args.iter().any(|a| a == "--no-smoke"))
}

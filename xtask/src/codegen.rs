//! `cargo xtask codegen [--check]`: the generated files, refreshed (or checked) by the tests
//! that own them.
//!
//! 1. every first-party plugin's test module `describe_snapshot` (in its one test binary `it`)
//!    writes its self-description to
//!    `docs/plugins/<plugin>.json` (plugin libraries cannot be linked into one binary: each
//!    exports the same C symbols, so each describes itself);
//! 2. tmu-cli's test module `generated_docs` renders `docs/pipeline.schema.json` and `docs/stages.md`
//!    from those snapshots, with the code `tmu schema` and `tmu describe` use.
//!
//! Without `--check` the tests run with `UPDATE_EXPECT=1`, which makes them write instead of
//! compare; with it they fail on any file that is out of date, as `cargo test` does.

use std::process::Command;

use anyhow::Result;

use crate::build::{cargo, plugin_packages};
use crate::sh;

pub fn run(args: &[String]) -> Result<()> {
    let check = args.iter().any(|a| a == "--check");
    // Every crate has one integration-test binary, `it`, with a module per topic: the filter
    // `<module>::` runs that module's tests.
    let tests = |packages: &[String], module: &str| -> Result<()> {
        let mut cmd = Command::new(cargo());
        cmd.args(["test", "--quiet", "--no-fail-fast"]);
        for p in packages {
            cmd.args(["-p", p]);
        }
        cmd.args(["--test", "it", &format!("{module}::")]);
        if !check {
            cmd.env("UPDATE_EXPECT", "1");
        }
        sh(&mut cmd)
    };
    tests(&plugin_packages()?, "describe_snapshot")?;
    tests(&["tmu-cli".to_string()], "generated_docs")?;
    eprintln!(
        "xtask codegen: {}",
        if check {
            "the generated files are up to date"
        } else {
            "regenerated docs/plugins, docs/pipeline.schema.json and docs/stages.md"
        }
    );
    Ok(())
}

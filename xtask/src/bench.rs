//! `cargo xtask bench <what>`: release benchmarks that print ratios against a reference measured
//! in the same run.
//!
//! - `train-step [args]`: the CIFAR ResNet-18 training step (batch 128, SGD momentum) in candle
//!   (tmu-nn) and, when `python3 -c "import torch"` works, in PyTorch, alternated round by round
//!   (`crates/tmu-nn/benches/compare_train_step.py`, which takes the args); without PyTorch,
//!   candle alone, and a line saying why there is no ratio.
//! - `data [scratch folder]`: reading the full-size CIFAR-10 binary layout and decoding 1,000
//!   JPEGs through the data-set stages, next to NumPy/Pillow on the same files
//!   (`plugins/tmu-datasets/examples/bench.rs`).

use std::process::Command;

use anyhow::{Result, bail};

use crate::build::{cargo, target_dir};
use crate::{root, sh};

const USAGE: &str = "usage: cargo xtask bench train-step [--rounds N] [--batch N] [--steps N] [--impl ops|zoo|candle] \
                     | cargo xtask bench data [scratch folder]";

pub fn run(args: &[String]) -> Result<()> {
    let Some((what, rest)) = args.split_first() else { bail!("{USAGE}") };
    match what.as_str() {
        "train-step" => train_step(rest),
        "data" => {
            let mut cmd = Command::new(cargo());
            cmd.args(["run", "--release", "-p", "tmu-datasets", "--example", "bench", "--"]).args(rest);
            sh(&mut cmd)
        }
        other => bail!("unknown benchmark `{other}`\n{USAGE}"),
    }
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

fn has_torch() -> bool {
    Command::new(python()).args(["-c", "import torch"]).output().is_ok_and(|o| o.status.success())
}

fn train_step(args: &[String]) -> Result<()> {
    sh(Command::new(cargo()).args(["build", "--release", "-p", "tmu-nn", "--example", "bench_train_step"]))?;
    if has_torch() {
        let script = root().join("crates/tmu-nn/benches/compare_train_step.py");
        return sh(Command::new(python()).arg(script).arg("--no-build").args(args));
    }
    eprintln!(
        "xtask bench: `{} -c \"import torch\"` fails, so there is no PyTorch reference and no ratio \
         (pip install torch); timing candle alone",
        python()
    );
    // compare_train_step.py's options that the candle bench also takes; --rounds is the script's.
    let mut passed = Vec::new();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--rounds" | "--torch-threads" => {
                it.next();
            }
            "--no-build" => {}
            _ => passed.push(a.clone()),
        }
    }
    let bench = target_dir().join("release/examples").join(format!("bench_train_step{}", std::env::consts::EXE_SUFFIX));
    sh(Command::new(bench).args(passed))
}

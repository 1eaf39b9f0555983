//! Writes the two outputs of `dataset.synthetic` (train and test `.safetensors`) into a folder,
//! for a given stage seed and config, so that `scripts/synthetic_accuracy.py` can measure how
//! hard the data set is (not a test).
//!
//! `cargo run --release -p tmu-datasets --example synthetic_dump -- <folder> [seed] [config]`
//! where `config` is the body of the stage's TOML config table, for example
//! `"noise = 20.0\noverlap = 0.4"` (empty: the defaults). The seed is the one the stage receives
//! (`RunRequest::seed`), 0 when left out.

use std::path::PathBuf;

use anyhow::Context;
use tmu_test_support::{RecordingHost, RunOptions, config, run_stage_with};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let folder = PathBuf::from(args.next().context("usage: synthetic_dump <folder> [seed] [config]")?);
    let seed: u64 = match args.next() {
        Some(s) => s.parse().with_context(|| format!("seed `{s}` is not an integer"))?,
        None => 0,
    };
    let body = args.next().unwrap_or_default().replace("\\n", "\n");
    let options = RunOptions { seed, ..RunOptions::default() };
    let run = run_stage_with(
        tmu_datasets::tmu_plugin(),
        "dataset.synthetic",
        tmu_plugin::Inputs::default(),
        config(&body),
        &options,
        &RecordingHost::default(),
    )
    .map_err(|e| anyhow::anyhow!("dataset.synthetic failed: {}", e.message))?;
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    for port in ["train", "test"] {
        let to = folder.join(format!("{port}.safetensors"));
        std::fs::copy(run.output(port), &to).with_context(|| format!("writing {}", to.display()))?;
    }
    println!("seed {seed}, config {body:?}: {}", serde_json::to_string(&run.response.summary)?);
    Ok(())
}

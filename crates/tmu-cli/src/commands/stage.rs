//! `tmu __stage`: the child side of `--executor process`: one prepared stage attempt from
//! standard input, its events and outcome as JSON lines on standard output.

use std::io::Read;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use tmu_host::exec::{JobSpec, run_child};
use tmu_host::{RunsDir, StoreOptions};

pub fn stage(runs_dir: &Path, trust_cache: bool) -> anyhow::Result<ExitCode> {
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body).context("cannot read the stage request from standard input")?;
    let spec: JobSpec = serde_json::from_slice(&body).context("the stage request is not valid")?;
    let runs = RunsDir::open_with(runs_dir, StoreOptions { verify: !trust_cache })
        .with_context(|| format!("cannot open the runs folder {}", runs_dir.display()))?;
    // SIGINT (the terminal's Ctrl-C) and SIGTERM (the parent cancelling) stop the stage cleanly.
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)).context("cannot install the signal handler")?;
    let mut out = std::io::stdout();
    run_child(&spec, &runs, &cancel, &mut out);
    Ok(ExitCode::SUCCESS)
}

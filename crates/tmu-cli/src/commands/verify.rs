//! `tmu verify`: every cached result against the hashes recorded when it was stored.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use tmu_host::RunsDir;

use crate::error::with_help;
use crate::summary::{bytes, seconds};

pub fn verify(runs_dir: &Path, evict: bool) -> anyhow::Result<ExitCode> {
    if !runs_dir.join(".cache").is_dir() {
        return Err(with_help(
            format!("no runs folder at {} (it has no .cache/)", runs_dir.display()),
            "give the folder `tmu run` wrote to with --runs-dir",
        ));
    }
    let runs =
        RunsDir::open(runs_dir).with_context(|| format!("cannot open the runs folder {}", runs_dir.display()))?;
    let started = Instant::now();
    let audit = runs.verify_store(evict).with_context(|| format!("cannot check {}", runs_dir.display()))?;
    for problem in &audit.problems {
        println!("corrupt: {problem}");
    }
    for view in &audit.views {
        println!("view: {} {}", view.file.display(), view.reason);
    }
    println!(
        "checked {} cached result{} ({}) in {}: {}",
        audit.entries,
        if audit.entries == 1 { "" } else { "s" },
        bytes(audit.bytes),
        seconds(started.elapsed().as_secs_f64()),
        if audit.problems.is_empty() { "all intact".to_string() } else { format!("{} corrupt", audit.problems.len()) }
    );
    if audit.made_read_only > 0 {
        println!("made {} intact result(s) of an older tmu read-only", audit.made_read_only);
    }
    if !audit.views.is_empty() {
        println!(
            "{} stage view file(s) differ from their cached results; the cache is not affected and the next run of their pipeline relinks them",
            audit.views.len()
        );
    }
    if audit.problems.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    if evict {
        println!("removed {} corrupt result(s): their stages run again when next needed", audit.evicted);
    } else {
        println!(
            "`tmu verify --evict` removes them; `tmu run` also drops a corrupt result it would reuse and recomputes it"
        );
    }
    Ok(ExitCode::FAILURE)
}

//! `--executor slurm`: every stage instance that is not cached becomes an `sbatch` job running
//! `tmu __stage --pipeline FILE --instance NAME` against the runs folder on shared storage, with
//! dependency edges to the jobs of the stages it reads. A job resolves its inputs from the cache
//! when it starts (its producers have finished by then), so the whole graph is submitted at
//! once; `tmu run` then follows the jobs (or, detached, returns at once). A rerun submits only
//! what is not cached.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;
use std::time::Duration;

use tmu_core::{Plan, PortBinding, SlurmSettings};
use tmu_plugin::protocol::{ErrorKind, WireError};

use super::attempt::{Env, Job, run_job};
use super::error::{RunError, StageFailure};
use super::gather::effective_inputs;
use super::job::{ChildMessage, JobOutcome};
use super::prepare::{StageStatus, preflight, prepare, statuses};
use super::resolve::{stage_inputs, stage_key};
use super::types::{Event, ExecOptions, Outcome, RunReport, StageReport};
use crate::record::CacheRecord;
use crate::registry::Registry;
use crate::store::{Corruption, RunsDir};

/// How `tmu run` reaches Slurm.
#[derive(Clone, Debug, PartialEq)]
pub struct SlurmConfig {
    /// The `tmu` binary the jobs run (on shared storage, like the runs folder).
    pub tmu: PathBuf,
    /// The pipeline file, absolute.
    pub pipeline: PathBuf,
    /// Arguments every job's `tmu` gets before its subcommand (`--plugin-path`, ...).
    pub global_args: Vec<OsString>,
    /// Submit and return without waiting.
    pub detach: bool,
    /// How often the jobs are looked at.
    pub poll: Duration,
}

/// `runs/.slurm/<pipeline>/`: job scripts, their outputs (`.jsonl`: events and outcome) and
/// standard errors.
pub fn jobs_dir(runs: &RunsDir, pipeline: &str) -> PathBuf {
    runs.root().join(".slurm").join(pipeline)
}

/// A file-name-safe form of an instance name (`seed=0,forget_class=3/split`).
fn file_stem(i: usize, instance: &str) -> String {
    let clean: String =
        instance.chars().map(|c| if c.is_ascii_alphanumeric() || "=,._-".contains(c) { c } else { '+' }).collect();
    format!("{i:05}-{clean}")
}

/// The job script of stage `i`: `#SBATCH` lines from `[slurm]` and the stage's device, and the
/// one command.
pub fn job_script(plan: &Plan, i: usize, device: &str, cfg: &SlurmConfig, runs: &Path, out: &Path) -> String {
    let stage = &plan.stages[i];
    let s: &SlurmSettings = &plan.slurm;
    let mut lines = vec!["#!/bin/sh".to_string()];
    let mut opt = |o: String| lines.push(format!("#SBATCH {o}"));
    opt(format!("--job-name=tmu:{}:{}", plan.name, stage.name));
    opt(format!("--output={}", out.with_extension("jsonl").display()));
    opt(format!("--error={}", out.with_extension("err").display()));
    if let Some(p) = &s.partition {
        opt(format!("--partition={p}"));
    }
    if let Some(a) = &s.account {
        opt(format!("--account={a}"));
    }
    // A stage's own `timeout` is its job's time limit (whole minutes, rounded up); Slurm then
    // stops it as the other executors do (SIGTERM, then SIGKILL after its KillWait).
    match (stage.timeout, &s.time) {
        (Some(t), _) => opt(format!("--time={}", t.as_secs().div_ceil(60).max(1))),
        (None, Some(t)) => opt(format!("--time={t}")),
        (None, None) => {}
    }
    if let Some(m) = &s.mem {
        opt(format!("--mem={m}"));
    }
    if let Some(c) = s.cpus_per_task {
        opt(format!("--cpus-per-task={c}"));
    }
    if device.starts_with("cuda") {
        opt(format!("--gres=gpu:{}", s.gpus_per_job.unwrap_or(1)));
    }
    for extra in &s.extra {
        opt(extra.clone());
    }
    let quote = |a: &std::ffi::OsStr| format!("'{}'", a.to_string_lossy().replace('\'', "'\\''"));
    let mut cmd = vec![quote(cfg.tmu.as_os_str())];
    cmd.extend(cfg.global_args.iter().map(|a| quote(a)));
    cmd.push(super::executor::CHILD_SUBCOMMAND.into());
    cmd.push("--runs-dir".into());
    cmd.push(quote(runs.as_os_str()));
    cmd.push("--pipeline".into());
    cmd.push(quote(cfg.pipeline.as_os_str()));
    cmd.push("--instance".into());
    cmd.push(quote(std::ffi::OsStr::new(&stage.name)));
    lines.push(format!("exec {}", cmd.join(" ")));
    lines.push(String::new());
    lines.join("\n")
}

/// Whether stage `i` gathers over points (it may run on the points that finished).
fn gathers(plan: &Plan, i: usize) -> bool {
    plan.stages[i].inputs.iter().any(|input| input.gathered && matches!(input.binding, PortBinding::Map(_)))
}

fn sbatch(script: &Path, dependencies: &[(String, bool)]) -> Result<String, String> {
    let mut cmd = Command::new("sbatch");
    cmd.arg("--parsable");
    if !dependencies.is_empty() {
        // A gathering stage runs whatever its producers did (`afterany`); any other needs them
        // all to have succeeded, and is removed when one fails.
        let deps: Vec<String> = dependencies
            .iter()
            .map(|(id, gather)| format!("{}:{id}", if *gather { "afterany" } else { "afterok" }))
            .collect();
        cmd.arg(format!("--dependency={}", deps.join(",")));
        cmd.arg("--kill-on-invalid-dep=yes");
    }
    cmd.arg(script);
    let out = cmd.output().map_err(|e| format!("cannot run sbatch: {e}"))?;
    if !out.status.success() {
        return Err(format!("sbatch {} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr).trim()));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    // `--parsable` prints `<id>` or `<id>;<cluster>`.
    Ok(text.trim().split(';').next().unwrap_or_default().to_string())
}

/// The jobs among `ids` that Slurm still knows as pending or running.
fn active(ids: &[&str]) -> Result<HashMap<String, String>, String> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let out = Command::new("squeue")
        .args(["-h", "-o", "%i %T", "-j", &ids.join(",")])
        .output()
        .map_err(|e| format!("cannot run squeue: {e}"))?;
    // squeue fails on a list of only finished jobs ("Invalid job id"): none is active.
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(' '))
        .filter(|(_, state)| matches!(*state, "PENDING" | "RUNNING" | "CONFIGURING" | "COMPLETING" | "SUSPENDED"))
        .map(|(id, state)| (id.to_string(), state.to_string()))
        .collect())
}

/// One submitted stage.
struct Submitted {
    stage: usize,
    id: String,
    out: PathBuf,
    /// Bytes of the `.jsonl` already read.
    read: u64,
    outcome: Option<JobOutcome>,
    started: bool,
    ended: bool,
}

impl Submitted {
    /// Passes on the events the job wrote since the last look; keeps its outcome.
    fn follow(&mut self, events: &Sender<Event>) {
        let path = self.out.with_extension("jsonl");
        let Ok(mut file) = std::fs::File::open(&path) else { return };
        use std::io::Seek;
        if file.seek(std::io::SeekFrom::Start(self.read)).is_err() {
            return;
        }
        let mut reader = std::io::BufReader::new(file);
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            if !line.ends_with('\n') {
                break; // a line still being written: read it whole next time
            }
            self.read += line.len() as u64;
            self.started = true;
            match serde_json::from_str::<ChildMessage>(line.trim_end()) {
                Ok(ChildMessage::Event(e)) => {
                    let _ = events.send(e);
                }
                Ok(ChildMessage::Result(r)) => self.outcome = Some(r),
                Err(_) => {}
            }
            line.clear();
        }
    }
}

/// Submits every stage of `plan` that is not cached, then (unless detached) follows the jobs
/// until all have ended.
pub(super) fn run_plan_slurm(
    plan: &Plan,
    registry: &Registry,
    runs: &RunsDir,
    opts: &ExecOptions,
    cfg: &SlurmConfig,
    events: &Sender<Event>,
    cancel: &AtomicBool,
) -> Result<RunReport, RunError> {
    let prepared = prepare(plan, registry, opts)?;
    let corrupt = |stage: &str, c: &Corruption| {
        let _ = events.send(Event::Corrupt { stage: stage.to_string(), message: c.to_string() });
    };
    let (status, done) = statuses(plan, &prepared, runs, true, &mut |i, c| corrupt(&plan.stages[i].name, c))?;
    preflight(plan, &prepared, &status, runs)?;

    let dir = jobs_dir(runs, &plan.name);
    std::fs::create_dir_all(&dir).map_err(|e| RunError::Slurm(format!("cannot create {}: {e}", dir.display())))?;
    let mut reports = initial_reports(plan, &prepared.needed);
    let mut submitted: Vec<Submitted> = Vec::new();
    let mut job_of: HashMap<usize, usize> = HashMap::new();
    for (i, stage) in plan.stages.iter().enumerate() {
        match &status[i] {
            StageStatus::Excluded => continue,
            StageStatus::Cached { .. } => {
                if let Some(record) = &done[i] {
                    super::attempt::publish(
                        &Env { pipeline: &plan.name, runs, events, cancel },
                        &stage.name,
                        record,
                        crate::record::Status::Cached,
                    )
                    .map_err(RunError::Slurm)?;
                    let _ = events.send(Event::Cached { stage: stage.name.clone(), kind: stage.kind.clone() });
                    finish(&mut reports[i], runs, &plan.name, record, Outcome::Cached);
                }
                continue;
            }
            StageStatus::Run { .. } | StageStatus::AfterUpstream => {}
        }
        let out = dir.join(file_stem(i, &stage.name));
        // Outputs of an earlier submission of the same stage would be read as this one's.
        for ext in ["jsonl", "err"] {
            let _ = std::fs::remove_file(out.with_extension(ext));
        }
        let script = out.with_extension("sh");
        let text = job_script(plan, i, &prepared.devices[i], cfg, runs.root(), &out);
        std::fs::write(&script, text)
            .map_err(|e| RunError::Slurm(format!("cannot write {}: {e}", script.display())))?;
        let gather = gathers(plan, i);
        let deps: Vec<(String, bool)> = stage
            .dependencies
            .iter()
            .filter_map(|d| job_of.get(d))
            .map(|&k| (submitted[k].id.clone(), gather))
            .collect();
        let id = sbatch(&script, &deps).map_err(RunError::Slurm)?;
        job_of.insert(i, submitted.len());
        submitted.push(Submitted { stage: i, id, out, read: 0, outcome: None, started: false, ended: false });
    }
    record_jobs(&dir, plan, &submitted).map_err(RunError::Slurm)?;
    if cfg.detach {
        for s in &submitted {
            reports[s.stage].outcome = Outcome::Submitted;
            reports[s.stage].reason = Some(format!("Slurm job {}", s.id));
        }
        return Ok(RunReport {
            pipeline: plan.name.clone(),
            dir: runs.root().join(&plan.name),
            stages: reports,
            points: None,
        });
    }

    // Follow the jobs until every one has ended.
    let mut cancelled = false;
    loop {
        if cancel.load(Ordering::SeqCst) && !cancelled {
            let ids: Vec<&str> = submitted.iter().filter(|s| !s.ended).map(|s| s.id.as_str()).collect();
            if !ids.is_empty() {
                let _ = Command::new("scancel").args(&ids).status();
            }
            cancelled = true;
        }
        let ids: Vec<&str> = submitted.iter().filter(|s| !s.ended).map(|s| s.id.as_str()).collect();
        let alive = active(&ids).map_err(RunError::Slurm)?;
        for s in submitted.iter_mut().filter(|s| !s.ended) {
            s.follow(events);
            if !alive.contains_key(&s.id) {
                // Read once more: the last lines may have landed after the look above.
                s.follow(events);
                s.ended = true;
            }
        }
        if submitted.iter().all(|s| s.ended) {
            break;
        }
        std::thread::sleep(cfg.poll);
    }

    let mut failures = Vec::new();
    for s in &submitted {
        let stage = &plan.stages[s.stage];
        let template = StageFailure {
            stage: stage.name.clone(),
            kind: stage.kind.clone(),
            plugin: prepared.plugins[s.stage].description.name.clone(),
            plugin_file: prepared.plugins[s.stage].path.clone(),
            error: WireError::new(ErrorKind::Failed, String::new()),
        };
        let report = &mut reports[s.stage];
        match s.outcome.clone() {
            Some(JobOutcome::Done { record, cached }) => {
                finish(report, runs, &plan.name, &record, if cached { Outcome::Cached } else { Outcome::Ran });
            }
            Some(JobOutcome::Failed { error }) => {
                report.outcome = Outcome::Failed;
                report.dir = Some(runs.stage_dir(&plan.name, &stage.name));
                failures.push(StageFailure { error, ..template });
            }
            Some(JobOutcome::Cancelled) => report.outcome = Outcome::Cancelled,
            None if cancelled => report.outcome = Outcome::Cancelled,
            // Slurm creates a job's output file when the job starts.
            None if !s.started && !s.out.with_extension("jsonl").exists() => {
                // Never started: Slurm removed it because a job it depends on failed.
                report.outcome = Outcome::NotRun;
                report.reason = Some(format!("Slurm job {} did not start: a stage it needs failed", s.id));
                let _ = events.send(Event::Skipped {
                    stage: stage.name.clone(),
                    reason: report.reason.clone().unwrap_or_default(),
                });
            }
            None => {
                let err = std::fs::read_to_string(s.out.with_extension("err")).unwrap_or_default();
                let tail: String =
                    err.lines().rev().take(5).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" / ");
                let mut error = WireError::new(
                    ErrorKind::Failed,
                    format!("stage `{}` ({}): Slurm job {} ended without a result", stage.name, stage.kind, s.id),
                );
                if !tail.is_empty() {
                    error.causes.push(format!("its standard error: {tail}"));
                }
                error.help = Some(format!("`sacct -j {}` says why (time limit, memory, node failure)", s.id));
                report.outcome = Outcome::Failed;
                failures.push(StageFailure { error, ..template });
            }
        }
    }
    let report =
        RunReport { pipeline: plan.name.clone(), dir: runs.root().join(&plan.name), stages: reports, points: None };
    if !failures.is_empty() {
        return Err(RunError::Failed { failures, report: Box::new(report) });
    }
    if cancelled {
        let finished = report.count(Outcome::Ran) + report.count(Outcome::Cached);
        return Err(RunError::Cancelled { finished, report: Box::new(report) });
    }
    Ok(report)
}

/// `jobs.json`: the Slurm job of each submitted instance, for `tmu status`.
const JOBS_FILE: &str = "jobs.json";

fn record_jobs(dir: &Path, plan: &Plan, submitted: &[Submitted]) -> Result<(), String> {
    let jobs: serde_json::Map<String, serde_json::Value> =
        submitted.iter().map(|s| (plan.stages[s.stage].name.clone(), serde_json::json!(s.id))).collect();
    let path = dir.join(JOBS_FILE);
    tmu_plugin::artifact::write_atomic(&path, &serde_json::to_vec_pretty(&jobs).unwrap_or_default())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The Slurm jobs of the last submission of `pipeline` that are still pending or running:
/// instance name -> (job id, state).
pub fn active_jobs(runs: &RunsDir, pipeline: &str) -> Result<Vec<(String, String, String)>, String> {
    let path = jobs_dir(runs, pipeline).join(JOBS_FILE);
    let Ok(bytes) = std::fs::read(&path) else { return Ok(Vec::new()) };
    let jobs: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|e| format!("{} is not valid: {e}", path.display()))?;
    let ids: Vec<&str> = jobs.values().filter_map(|v| v.as_str()).collect();
    let alive = active(&ids)?;
    Ok(jobs
        .iter()
        .filter_map(|(stage, id)| {
            let id = id.as_str()?;
            alive.get(id).map(|state| (stage.clone(), id.to_string(), state.clone()))
        })
        .collect())
}

/// Writes a job script for every stage that is not cached, and `submit.sh`, which submits them
/// in order with their dependencies (for users who submit by hand). Returns `submit.sh`.
pub fn export_scripts(
    plan: &Plan,
    registry: &Registry,
    runs: &RunsDir,
    opts: &ExecOptions,
    cfg: &SlurmConfig,
    dir: &Path,
) -> Result<(PathBuf, usize), RunError> {
    let prepared = prepare(plan, registry, opts)?;
    let (status, _) = statuses(plan, &prepared, runs, false, &mut |_, _| {})?;
    std::fs::create_dir_all(dir).map_err(|e| RunError::Slurm(format!("cannot create {}: {e}", dir.display())))?;
    let mut submit = vec![
        "#!/bin/sh".to_string(),
        format!("# Submits the stages of pipeline `{}` that were not cached when it was written.", plan.name),
        "set -e".to_string(),
    ];
    let mut var_of: HashMap<usize, String> = HashMap::new();
    for (i, stage) in plan.stages.iter().enumerate() {
        if !matches!(status[i], StageStatus::Run { .. } | StageStatus::AfterUpstream) {
            continue;
        }
        let stem = file_stem(i, &stage.name);
        let out = jobs_dir(runs, &plan.name).join(&stem);
        let script = dir.join(format!("{stem}.sh"));
        std::fs::write(&script, job_script(plan, i, &prepared.devices[i], cfg, runs.root(), &out))
            .map_err(|e| RunError::Slurm(format!("cannot write {}: {e}", script.display())))?;
        let kind = if gathers(plan, i) { "afterany" } else { "afterok" };
        let deps: Vec<String> =
            stage.dependencies.iter().filter_map(|d| var_of.get(d)).map(|v| format!("{kind}:${v}")).collect();
        let dep = if deps.is_empty() {
            String::new()
        } else {
            format!(" --dependency={} --kill-on-invalid-dep=yes", deps.join(","))
        };
        let var = format!("j{i}");
        submit.push(format!("mkdir -p '{}'", out.parent().unwrap_or(dir).display()));
        submit.push(format!("{var}=$(sbatch --parsable{dep} '{}' | cut -d';' -f1)", script.display()));
        var_of.insert(i, var);
    }
    submit.push(format!("echo \"submitted {} jobs\"", var_of.len()));
    submit.push(String::new());
    let path = dir.join("submit.sh");
    std::fs::write(&path, submit.join("\n"))
        .map_err(|e| RunError::Slurm(format!("cannot write {}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755));
    }
    Ok((path, var_of.len()))
}

fn initial_reports(plan: &Plan, needed: &[bool]) -> Vec<StageReport> {
    plan.stages
        .iter()
        .enumerate()
        .map(|(i, s)| StageReport {
            stage: s.name.clone(),
            base: s.base.clone(),
            point: s.point.as_ref().map(|p| p.label.clone()),
            kind: s.kind.clone(),
            outcome: if needed[i] { Outcome::NotRun } else { Outcome::Excluded },
            key: None,
            wall_s: None,
            device: None,
            summary: serde_json::Value::Null,
            dir: None,
            reason: None,
        })
        .collect()
}

fn finish(report: &mut StageReport, runs: &RunsDir, pipeline: &str, record: &CacheRecord, outcome: Outcome) {
    report.outcome = outcome;
    report.key = Some(record.key.clone());
    report.wall_s = Some(record.timing.wall_s);
    report.device = Some(record.device_used.clone());
    report.summary = record.summary.clone();
    report.dir = Some(runs.stage_dir(pipeline, &report.stage));
}

/// The job side: runs the instance `name` of `plan`, whose producers have finished, and writes
/// its events and outcome to `out` as JSON lines. Its inputs come from the cache (verified).
pub fn run_instance(
    plan: &Plan,
    registry: &Registry,
    runs: &RunsDir,
    name: &str,
    cancel: &AtomicBool,
    out: &mut (dyn Write + Send),
) {
    let outcome = instance_outcome(plan, registry, runs, name, cancel, out)
        .unwrap_or_else(|message| JobOutcome::Failed { error: WireError::new(ErrorKind::Failed, message) });
    super::executor::write_line(out, &ChildMessage::Result(outcome));
}

fn instance_outcome(
    plan: &Plan,
    registry: &Registry,
    runs: &RunsDir,
    name: &str,
    cancel: &AtomicBool,
    out: &mut (dyn Write + Send),
) -> Result<JobOutcome, String> {
    let i = plan.index_of(name).ok_or_else(|| format!("pipeline `{}` has no stage instance `{name}`", plan.name))?;
    // Only this stage and what it reads: their keys, from the cache.
    let opts = ExecOptions { to: vec![name.to_string()], ..ExecOptions::default() };
    let prepared = prepare(plan, registry, &opts).map_err(|e| e.to_string())?;
    let (tx, rx) = std::sync::mpsc::channel::<Event>();
    std::thread::scope(|s| {
        let forward = s.spawn(move || {
            for event in rx {
                super::executor::write_line(out, &ChildMessage::Event(event));
            }
        });
        let corrupt = |c: &Corruption| {
            let _ = tx.send(Event::Corrupt { stage: name.to_string(), message: c.to_string() });
        };
        let result = (|| -> Result<JobOutcome, String> {
            // The results of what it reads, in plan order, as the scheduler would have them: a
            // producer without a verified cached result counts as failed (a gathering input
            // leaves such points out; any other input cannot run without it).
            let mut done: Vec<Option<CacheRecord>> = vec![None; plan.stages.len()];
            for j in plan.ancestors(i) {
                let Ok((inputs, _)) = effective_inputs(plan, j, prepared.plugins[j], &done) else { continue };
                let key = stage_key(plan, &plan.stages[j], &inputs, prepared.plugins[j], &prepared.devices[j], &done);
                done[j] = runs.lookup_verified(&key, true, &mut |c| corrupt(c));
            }
            if let Some(record) = done[i].take() {
                // Another instance with the same key (work a sweep shares) finished first: this
                // instance's folder still gets its view, as a cached stage's does in-process.
                let env = Env { pipeline: &plan.name, runs, events: &tx, cancel };
                super::attempt::publish(&env, name, &record, crate::record::Status::Cached)?;
                return Ok(JobOutcome::Done { record: Box::new(record), cached: true });
            }
            let plugin = prepared.plugins[i];
            let (inputs, warnings) = effective_inputs(plan, i, plugin, &done)?;
            let device = &prepared.devices[i];
            let key = stage_key(plan, &plan.stages[i], &inputs, plugin, device, &done);
            let (inputs, input_records) = stage_inputs(plan, &inputs, runs, &done);
            let job = Job {
                stage: &plan.stages[i],
                plugin,
                device: device.clone(),
                key,
                inputs,
                input_records,
                forced: false,
                warnings,
            };
            let env = Env { pipeline: &plan.name, runs, events: &tx, cancel };
            Ok(JobOutcome::of(&run_job(&env, job)))
        })();
        drop(tx);
        let _ = forward.join();
        result
    })
}

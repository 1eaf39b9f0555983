//! One attempt at one stage: lock its key, run the plugin into a temp folder, check and hash the
//! outputs, promote the folder into the cache, link the stage view.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Sender;

use indexmap::IndexMap;
use tmu_core::PlannedStage;
use tmu_plugin::artifact::{read_header, read_metrics};
use tmu_plugin::protocol::{ErrorKind, RunRequest, WireError};
use tmu_plugin::{ArtifactKind, ArtifactRef, Binding, Inputs, LogLevel};

use super::error::StageFailure;
use super::resolve::plugin_record;
use super::sink::StageSink;
use super::types::{Event, Outcome};
use crate::hash::hash_path;
use crate::loader::LoadedPlugin;
use crate::record::{
    CacheRecord, FailureRecord, InputRecord, OutputRecord, ProducedBy, RECORD_FORMAT, StageRecord, Status, Timing,
};
use crate::store::lock::Holder;
use crate::store::{Committed, Corruption, ENTRY_FILE, RunsDir};
use crate::time::now_us;

/// What every attempt shares.
pub(super) struct Env<'a> {
    pub pipeline: &'a str,
    pub runs: &'a RunsDir,
    pub events: &'a Sender<Event>,
    pub cancel: &'a AtomicBool,
}

/// One stage, ready to go: dependencies finished, key known.
pub(super) struct Job<'a> {
    pub stage: &'a PlannedStage,
    pub plugin: &'a LoadedPlugin,
    pub device: String,
    pub key: String,
    pub inputs: Inputs,
    pub input_records: IndexMap<String, Vec<InputRecord>>,
    /// Run even if the cache holds the key (`--force`).
    pub forced: bool,
    /// Written to the stage's log before it runs (points a gathering input left out).
    pub warnings: Vec<String>,
}

pub(super) enum JobResult {
    Done { record: Box<CacheRecord>, outcome: Outcome },
    Failed(StageFailure),
    Cancelled,
}

impl Job<'_> {
    pub(super) fn failure(&self, error: WireError) -> StageFailure {
        StageFailure {
            stage: self.stage.name.clone(),
            kind: self.stage.kind.clone(),
            plugin: self.plugin.description.name.clone(),
            plugin_file: self.plugin.path.clone(),
            error,
        }
    }

    pub(super) fn host_failure(&self, message: String) -> StageFailure {
        self.failure(WireError::new(ErrorKind::Failed, message))
    }
}

/// Links the stage view of a finished result and writes its `stage.json`.
pub(super) fn publish(env: &Env, stage: &str, record: &CacheRecord, status: Status) -> Result<(), String> {
    let dir = env.runs.link_view(env.pipeline, stage, record).map_err(|e| e.to_string())?;
    let view = StageRecord {
        pipeline: env.pipeline.to_string(),
        stage: stage.to_string(),
        status,
        cache_dir: env.runs.cache_dir(&record.key),
        entry: record.clone(),
    };
    write_view_json(&dir.join("stage.json"), &view)
}

/// Writes JSON by temp file and rename, without fsync: for files the next run rewrites anyway
/// (the stage view) or that a later fsync covers (files inside an attempt folder).
fn write_view_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), String> {
    let mut bytes =
        serde_json::to_vec_pretty(value).map_err(|e| format!("cannot serialise {}: {e}", path.display()))?;
    bytes.push(b'\n');
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, &bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The error of a stage stopped at its `timeout`.
pub(super) fn timed_out(stage: &str, kind: &str, timeout: std::time::Duration, how: &str) -> WireError {
    let mut e = WireError::new(
        ErrorKind::Failed,
        format!("stage `{stage}` ({kind}) timed out after {} s (its `timeout`): {how}", timeout.as_secs()),
    );
    e.help = Some("raise the stage's `timeout` in the pipeline file if it needs longer".into());
    e
}

/// Writes the `stage.json` of a stage that failed or was cancelled into its view folder.
pub(super) fn record_failure(env: &Env, job: &Job, status: Status, timing: Timing, error: &WireError) {
    let record = FailureRecord {
        pipeline: env.pipeline.to_string(),
        stage: job.stage.name.clone(),
        kind: job.stage.kind.clone(),
        status,
        key: job.key.clone(),
        plugin: plugin_record(job.plugin),
        device_requested: job.stage.device.to_string(),
        timing,
        error: error.clone(),
    };
    let dir = env.runs.stage_dir(env.pipeline, &job.stage.name);
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = write_view_json(&dir.join("stage.json"), &record);
    }
}

/// Runs `job` to the end; never panics on a plugin's behalf (the plugin catches its panics).
pub(super) fn run_job(env: &Env, job: Job) -> JobResult {
    let is_cancelled = || env.cancel.load(Ordering::SeqCst);
    let waiting = |holder: Option<&Holder>| {
        let _ = env.events.send(Event::Waiting { stage: job.stage.name.clone(), holder: holder.map(Holder::describe) });
    };
    let lock = match env.runs.lock_key(&job.key, &is_cancelled, &waiting) {
        Ok(Some(lock)) => lock,
        Ok(None) => return JobResult::Cancelled,
        Err(e) => return JobResult::Failed(job.host_failure(e.to_string())),
    };
    // Another process may have produced the result while this one waited for the lock. (This
    // process holds the lock: a corrupt entry is replaced when the attempt commits.)
    if !job.forced {
        let corrupt = |c: &Corruption| {
            let _ = env.events.send(Event::Corrupt { stage: job.stage.name.clone(), message: c.to_string() });
        };
        if let Some(record) = env.runs.lookup_verified(&job.key, false, &mut { corrupt }) {
            return match publish(env, &job.stage.name, &record, Status::Cached) {
                Ok(()) => JobResult::Done { record: Box::new(record), outcome: Outcome::Cached },
                Err(e) => JobResult::Failed(job.host_failure(e)),
            };
        }
    }
    if let Err(message) = verify_inputs(env, &job) {
        let _ = env.events.send(Event::Failed {
            stage: job.stage.name.clone(),
            message: message.clone(),
            cancelled: false,
        });
        return JobResult::Failed(job.host_failure(message));
    }
    let result = attempt(env, &job);
    drop(lock);
    result
}

/// Checks, just before the stage reads them, that its input files are still what their
/// producers stored (each file is hashed once per run: see `RunsDir::check_artifact`). A
/// mismatch drops the producer's cache entry, so that the next run computes it again.
fn verify_inputs(env: &Env, job: &Job) -> Result<(), String> {
    for (port, binding) in &job.inputs.ports {
        let artifacts: Vec<&ArtifactRef> = match binding {
            Binding::One(a) => vec![a],
            Binding::List(v) => v.iter().collect(),
            Binding::Map(m) => m.values().collect(),
        };
        for (artifact, record) in artifacts.into_iter().zip(&job.input_records[port]) {
            if let Err(problem) = env.runs.check_artifact(&artifact.path, &record.blake3) {
                // `<runs>/.cache/<key>/out/<file>`: drop the producer's entry.
                let key = artifact.path.parent().and_then(Path::parent).and_then(Path::file_name);
                let dropped = key
                    .map(|k| k.to_string_lossy().into_owned())
                    .filter(|k| env.runs.try_lock_key(k).ok().flatten().is_some_and(|_l| env.runs.evict(k).is_ok()));
                return Err(format!(
                    "input `{port}` ({}, from `{}`) {problem} since it was verified in this run; {}",
                    artifact.path.display(),
                    artifact.source,
                    if dropped.is_some() {
                        "its cache entry was dropped: run again to compute it anew"
                    } else {
                        "run again once the process using it has finished"
                    }
                ));
            }
        }
    }
    Ok(())
}

fn attempt(env: &Env, job: &Job) -> JobResult {
    let stage = &job.stage.name;
    let fail = |e: String| {
        let failure = job.host_failure(e);
        let _ = env.events.send(Event::Failed { stage: stage.clone(), message: failure.to_string(), cancelled: false });
        JobResult::Failed(failure)
    };
    let dir = match env.runs.reset_stage_dir(env.pipeline, stage) {
        Ok(d) => d,
        Err(e) => return fail(e.to_string()),
    };
    let log = match std::fs::File::create(dir.join("stage.log")) {
        Ok(f) => f,
        Err(e) => return fail(format!("cannot create {}: {e}", dir.join("stage.log").display())),
    };
    let attempt = match env.runs.begin(&job.key) {
        Ok(a) => a,
        Err(e) => return fail(e.to_string()),
    };
    let deadline = job.stage.timeout.map(|t| std::time::Instant::now() + t);
    let sink =
        StageSink { stage: stage.clone(), log: Mutex::new(log), events: env.events, cancel: env.cancel, deadline };
    for warning in &job.warnings {
        sink.write_log(LogLevel::Warn, warning);
    }
    sink.write_log(
        LogLevel::Info,
        &format!(
            "stage `{stage}` ({}) on {} with plugin {} from {}, key {}",
            job.stage.kind,
            job.device,
            job.plugin.description.name,
            job.plugin.path.display(),
            job.key
        ),
    );
    let _ = env.events.send(Event::Started {
        stage: stage.clone(),
        kind: job.stage.kind.clone(),
        plugin: job.plugin.description.name.clone(),
        device: job.device.clone(),
    });
    let request = RunRequest {
        stage: stage.clone(),
        kind: job.stage.kind.clone(),
        config: job.stage.config.clone(),
        inputs: job.inputs.clone(),
        output_dir: attempt.out_dir.clone(),
        work_dir: attempt.work_dir.clone(),
        seed: job.stage.seed,
        device: job.device.clone(),
        preflight: false,
    };
    let started = now_us();
    let response = job.plugin.run(&request, &sink);
    let finished = now_us();
    let timing = Timing::new(started, finished);

    let checked = response.and_then(|r| check_outputs(job, &attempt.out_dir).map(|outputs| (r, outputs)));
    let (response, outputs) = match checked {
        Ok(ok) => ok,
        Err(error) => {
            env.runs.abandon(attempt);
            // Stopped at its deadline: a failure of the stage, not the user's cancel.
            let error = match (job.stage.timeout, sink.past_deadline() && !env.cancel.load(Ordering::SeqCst)) {
                (Some(t), true) => timed_out(&job.stage.name, &job.stage.kind, t, "it was asked to stop"),
                _ => error,
            };
            let cancelled = error.kind == ErrorKind::Cancelled || env.cancel.load(Ordering::SeqCst);
            let status = if cancelled { Status::Cancelled } else { Status::Failed };
            sink.write_log(LogLevel::Error, &format!("{}: {}", status.as_str(), error.chain_line()));
            sink.sync();
            record_failure(env, job, status, timing, &error);
            let failure = job.failure(error);
            let _ = env.events.send(Event::Failed { stage: stage.clone(), message: failure.to_string(), cancelled });
            return if cancelled { JobResult::Cancelled } else { JobResult::Failed(failure) };
        }
    };
    if response.device != job.device {
        sink.write_log(LogLevel::Warn, &format!("asked for {}, the stage ran on {}", job.device, response.device));
    }
    sink.write_log(LogLevel::Info, &format!("finished in {:.3} s", timing.wall_s));
    sink.sync();
    let record = CacheRecord {
        format: RECORD_FORMAT,
        key: job.key.clone(),
        kind: job.stage.kind.clone(),
        plugin: plugin_record(job.plugin),
        config: job.stage.config.clone(),
        resolved_config: response.resolved_config.clone(),
        seed: job.stage.seed,
        device_requested: job.stage.device.to_string(),
        device_key: super::resolve::device_kind(&job.device).to_string(),
        device_used: response.device.clone(),
        inputs: job.input_records.clone(),
        outputs,
        timing,
        summary: response.summary.clone(),
        produced_by: ProducedBy { pipeline: env.pipeline.to_string(), stage: stage.clone() },
    };
    let saved = (|| -> Result<Option<Box<CacheRecord>>, String> {
        // `commit` fsyncs every file of the attempt before promoting it.
        write_view_json(&attempt.dir.join("config.json"), &response.resolved_config)?;
        std::fs::copy(dir.join("stage.log"), attempt.dir.join("stage.log"))
            .map_err(|e| format!("cannot copy the stage log: {e}"))?;
        write_view_json(&attempt.dir.join(ENTRY_FILE), &record)?;
        match env.runs.commit(attempt, &record, job.forced).map_err(|e| e.to_string())? {
            Committed::Stored(_) => publish(env, stage, &record, Status::Ran).map(|()| None),
            Committed::Existing(existing) => {
                sink.write_log(
                    LogLevel::Info,
                    "another process stored this stage's result first: its result is kept, this one dropped",
                );
                publish(env, stage, &existing, Status::Cached).map(|()| Some(existing))
            }
        }
    })();
    let existing = match saved {
        Ok(existing) => existing,
        Err(e) => return fail(e),
    };
    if let Some(existing) = existing {
        return JobResult::Done { record: existing, outcome: Outcome::Cached };
    }
    let _ = env.events.send(Event::Finished {
        stage: stage.clone(),
        wall_s: record.timing.wall_s,
        summary: record.summary.clone(),
    });
    JobResult::Done { record: Box::new(record), outcome: Outcome::Ran }
}

/// Every declared output exists and has the declared artifact kind; each is hashed once here.
fn check_outputs(job: &Job, out_dir: &Path) -> Result<IndexMap<String, OutputRecord>, WireError> {
    let (stage, kind, plugin) = (&job.stage.name, &job.stage.kind, &job.plugin.description.name);
    let bug = |message: String, cause: Option<String>| WireError {
        kind: ErrorKind::Failed,
        message,
        causes: cause.into_iter().collect(),
        help: Some(format!("this is a bug in plugin `{}`", job.plugin.description.name)),
    };
    let mut outputs = IndexMap::new();
    for port in &job.stage.outputs {
        let file = port.kind.file_name(&port.name);
        let path = out_dir.join(&file);
        let present = if port.kind == ArtifactKind::Files { path.is_dir() } else { path.is_file() };
        if !present {
            return Err(bug(
                format!(
                    "stage `{stage}` ({kind}) of plugin `{plugin}` finished without writing its output `{}` ({})",
                    port.name,
                    path.display()
                ),
                None,
            ));
        }
        let wrong_kind = |found: String| {
            bug(
                format!(
                    "stage `{stage}` ({kind}) of plugin `{plugin}` wrote its output `{}` as {found}, its signature says `{}`",
                    port.name, port.kind
                ),
                Some(path.display().to_string()),
            )
        };
        match port.kind {
            ArtifactKind::Dataset | ArtifactKind::Model | ArtifactKind::Features | ArtifactKind::Labels => {
                match read_header(&path) {
                    Ok((Some(found), _)) if found == port.kind => {}
                    Ok((Some(found), _)) => return Err(wrong_kind(format!("a `{found}` artifact"))),
                    Ok((None, _)) => return Err(wrong_kind("a safetensors file without `tmu.kind`".into())),
                    Err(e) => return Err(wrong_kind(format!("an unreadable file ({e})"))),
                }
            }
            ArtifactKind::Metrics => {
                if let Err(e) = read_metrics(&path) {
                    return Err(wrong_kind(format!("an invalid metrics file ({e})")));
                }
            }
            ArtifactKind::Report | ArtifactKind::Files => {}
        }
        let (blake3, bytes) = hash_path(&path)
            .map_err(|e| bug(format!("cannot hash output `{}` of stage `{stage}`", port.name), Some(e.to_string())))?;
        outputs.insert(port.name.clone(), OutputRecord { kind: port.kind, file, blake3, bytes });
    }
    Ok(outputs)
}

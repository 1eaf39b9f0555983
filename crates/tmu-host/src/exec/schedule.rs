//! The run loop: start every stage whose dependencies finished (cached ones at once), within the
//! `--jobs` and per-GPU limits; stop starting stages after a failure or Ctrl-C.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};

use tmu_core::Plan;
use tmu_plugin::protocol::{ErrorKind, WireError};

use super::attempt::{Env, Job, JobResult, publish, run_job};
use super::error::{RunError, StageFailure};
use super::prepare::{Prepared, StageStatus, preflight, prepare, statuses};
use super::resolve::{stage_inputs, stage_key};
use super::types::{Event, ExecOptions, Outcome, RunReport, StageReport};
use crate::record::{CacheRecord, Status};
use crate::registry::Registry;
use crate::store::RunsDir;

/// The status of every stage of `plan` before a run: what is cached, what would run.
pub fn plan_status(
    plan: &Plan,
    registry: &Registry,
    runs: &RunsDir,
    opts: &ExecOptions,
) -> Result<Vec<StageStatus>, RunError> {
    let prepared = prepare(plan, registry, opts)?;
    Ok(statuses(plan, &prepared, runs)?.0)
}

/// Which slot a running stage takes.
fn gpu_of(device: &str) -> Option<usize> {
    device.strip_prefix("cuda:").and_then(|n| n.parse().ok())
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Waiting,
    Running,
    Finished,
    Stopped,
}

/// Runs a validated plan: cached stages are reused, the others run in dependency order.
///
/// Finished stages are always kept. After a failure or a cancel (`cancel` set, e.g. by Ctrl-C)
/// no new stage starts and running ones are waited for.
pub fn run_plan(
    plan: &Plan,
    registry: &Registry,
    runs: &RunsDir,
    opts: &ExecOptions,
    events: &Sender<Event>,
    cancel: &AtomicBool,
) -> Result<RunReport, RunError> {
    let prepared = prepare(plan, registry, opts)?;
    let (status, _) = statuses(plan, &prepared, runs)?;
    preflight(plan, &prepared, &status, runs)?;

    let n = plan.stages.len();
    let env = Env { pipeline: &plan.name, runs, events, cancel };
    let mut reports: Vec<StageReport> = plan
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| StageReport {
            stage: s.name.clone(),
            kind: s.kind.clone(),
            outcome: if prepared.needed[i] { Outcome::NotRun } else { Outcome::Excluded },
            key: None,
            wall_s: None,
            device: None,
            summary: serde_json::Value::Null,
            dir: None,
        })
        .collect();
    let mut state: Vec<State> =
        (0..n).map(|i| if prepared.needed[i] { State::Waiting } else { State::Stopped }).collect();
    let mut done: Vec<Option<CacheRecord>> = vec![None; n];
    let mut failures: Vec<StageFailure> = Vec::new();
    let mut stopping = false;
    let mut running = 0usize;
    let mut per_gpu: std::collections::HashMap<usize, usize> = Default::default();
    let jobs = opts.jobs.max(1);
    let gpu_jobs = opts.gpu_jobs.max(1);
    let (tx, rx) = channel::<(usize, JobResult)>();

    std::thread::scope(|scope| {
        loop {
            stopping |= cancel.load(Ordering::SeqCst);
            // Start (or take from the cache) every stage that can go, in plan order, until
            // nothing changes.
            let mut changed = true;
            while changed && !stopping {
                changed = false;
                for i in 0..n {
                    let stage = &plan.stages[i];
                    if state[i] != State::Waiting || stage.dependencies.iter().any(|&d| done[d].is_none()) {
                        continue;
                    }
                    let plugin = prepared.plugins[i];
                    let device = &prepared.devices[i];
                    let key = stage_key(plan, stage, plugin, device, &done);
                    reports[i].key = Some(key.clone());
                    if !prepared.forced[i]
                        && let Some(record) = runs.lookup(&key)
                    {
                        let outcome = match publish(&env, &stage.name, &record, Status::Cached) {
                            Ok(()) => Outcome::Cached,
                            Err(e) => {
                                failures.push(host_failure(plan, &prepared, i, e));
                                stopping = true;
                                Outcome::Failed
                            }
                        };
                        let _ = events.send(Event::Cached { stage: stage.name.clone(), kind: stage.kind.clone() });
                        finish(&mut reports[i], runs, &plan.name, &record, outcome);
                        state[i] = State::Finished;
                        done[i] = (outcome == Outcome::Cached).then_some(record);
                        changed = true;
                        if stopping {
                            break;
                        }
                        continue;
                    }
                    if !prepared.in_slice[i] {
                        // Checked before the run; reached only if the cache changed meanwhile.
                        failures.push(host_failure(plan, &prepared, i, format!("no cached result for key {key}")));
                        state[i] = State::Stopped;
                        reports[i].outcome = Outcome::Failed;
                        stopping = true;
                        break;
                    }
                    let gpu = gpu_of(device);
                    if running >= jobs || gpu.is_some_and(|g| per_gpu.get(&g).copied().unwrap_or(0) >= gpu_jobs) {
                        continue;
                    }
                    let (inputs, input_records) = stage_inputs(plan, stage, runs, &done);
                    let job = Job {
                        stage,
                        plugin,
                        device: device.clone(),
                        key,
                        inputs,
                        input_records,
                        forced: prepared.forced[i],
                    };
                    state[i] = State::Running;
                    running += 1;
                    if let Some(g) = gpu {
                        *per_gpu.entry(g).or_default() += 1;
                    }
                    let (tx, env) = (tx.clone(), &env);
                    let failure = job_failure_template(plan, &prepared, i);
                    scope.spawn(move || {
                        let result = catch_unwind(AssertUnwindSafe(|| run_job(env, job))).unwrap_or_else(|_| {
                            JobResult::Failed(StageFailure {
                                error: WireError::new(ErrorKind::Panic, "the host panicked while running this stage"),
                                ..failure
                            })
                        });
                        let _ = tx.send((i, result));
                    });
                }
            }
            if running == 0 {
                break;
            }
            let Ok((i, result)) = rx.recv() else { break };
            running -= 1;
            if let Some(g) = gpu_of(&prepared.devices[i]) {
                *per_gpu.entry(g).or_default() -= 1;
            }
            match result {
                JobResult::Done { record, outcome } => {
                    finish(&mut reports[i], runs, &plan.name, &record, outcome);
                    state[i] = State::Finished;
                    done[i] = Some(*record);
                }
                JobResult::Failed(f) => {
                    reports[i].outcome = Outcome::Failed;
                    reports[i].dir = Some(runs.stage_dir(&plan.name, &plan.stages[i].name));
                    state[i] = State::Stopped;
                    failures.push(f);
                    stopping = true;
                }
                JobResult::Cancelled => {
                    reports[i].outcome = Outcome::Cancelled;
                    reports[i].dir = Some(runs.stage_dir(&plan.name, &plan.stages[i].name));
                    state[i] = State::Stopped;
                    stopping = true;
                }
            }
        }
    });

    let report = RunReport { pipeline: plan.name.clone(), dir: runs.root().join(&plan.name), stages: reports };
    if !failures.is_empty() {
        return Err(RunError::Failed { failures, report: Box::new(report) });
    }
    if cancel.load(Ordering::SeqCst) || state.contains(&State::Waiting) {
        let finished = report.count(Outcome::Ran) + report.count(Outcome::Cached);
        return Err(RunError::Cancelled { finished, report: Box::new(report) });
    }
    Ok(report)
}

fn finish(report: &mut StageReport, runs: &RunsDir, pipeline: &str, record: &CacheRecord, outcome: Outcome) {
    report.outcome = outcome;
    report.key = Some(record.key.clone());
    report.wall_s = Some(record.timing.wall_s);
    report.device = Some(record.device_used.clone());
    report.summary = record.summary.clone();
    report.dir = Some(runs.stage_dir(pipeline, &report.stage));
}

fn job_failure_template(plan: &Plan, prepared: &Prepared, i: usize) -> StageFailure {
    StageFailure {
        stage: plan.stages[i].name.clone(),
        kind: plan.stages[i].kind.clone(),
        plugin: prepared.plugins[i].description.name.clone(),
        plugin_file: prepared.plugins[i].path.clone(),
        error: WireError::new(ErrorKind::Failed, String::new()),
    }
}

fn host_failure(plan: &Plan, prepared: &Prepared, i: usize, message: String) -> StageFailure {
    StageFailure { error: WireError::new(ErrorKind::Failed, message), ..job_failure_template(plan, prepared, i) }
}

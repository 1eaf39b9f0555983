//! The run loop: start every stage whose dependencies settled (cached ones at once), within the
//! `--jobs` and per-GPU limits; after a failure, skip what needs it (and, unless the run keeps
//! going, start nothing new); stop starting stages after Ctrl-C.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Sender, channel};

use tmu_core::Plan;
use tmu_plugin::protocol::{ErrorKind, WireError};

use super::attempt::{Env, Job, JobResult, publish};
use super::error::{RunError, StageFailure};
use super::gather::effective_inputs;
use super::prepare::{Prepared, StageStatus, preflight, prepare, statuses};
use super::progress::{Points, Settled};
use super::resolve::{stage_inputs, stage_key};
use super::types::{Event, ExecOptions, Outcome, RunReport, StageReport};
use crate::record::{CacheRecord, Status};
use crate::registry::Registry;
use crate::store::{Corruption, RunsDir};

/// The status of every stage of `plan` before a run: what is cached, what would run.
pub fn plan_status(
    plan: &Plan,
    registry: &Registry,
    runs: &RunsDir,
    opts: &ExecOptions,
) -> Result<Vec<StageStatus>, RunError> {
    let prepared = prepare(plan, registry, opts)?;
    // A preview changes nothing: a corrupt entry shows as a stage that will run.
    Ok(statuses(plan, &prepared, runs, false, &mut |_, _| {})?.0)
}

/// Which GPU a stage on `device` runs on: its own index, or with placement (`devices` not
/// empty) the listed GPU with the fewest running stages below `gpu_jobs` (the first listed on a
/// tie). `None` inside: the stage is not on a GPU; `Some(None)`: every GPU it may use is full.
fn place(device: &str, devices: &[usize], running: &HashMap<usize, usize>, gpu_jobs: usize) -> Option<Option<usize>> {
    let own = device.strip_prefix("cuda:").and_then(|n| n.parse::<usize>().ok())?;
    let load = |g: &usize| running.get(g).copied().unwrap_or(0);
    let candidates = if devices.is_empty() { std::slice::from_ref(&own) } else { devices };
    Some(candidates.iter().filter(|g| load(g) < gpu_jobs).min_by_key(|g| load(g)).copied())
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
/// Finished stages are always kept. After a cancel (`cancel` set, e.g. by Ctrl-C) no new
/// stage starts and running ones are waited for. After a failure the same happens, unless the
/// run keeps going ([`ExecOptions::keep_going`], always for a sweep): then only the stages that
/// need the failed one are skipped, a stage that gathers over points runs on the points that
/// finished (its log names the missing ones), and every failure is reported at the end.
pub fn run_plan(
    plan: &Plan,
    registry: &Registry,
    runs: &RunsDir,
    opts: &ExecOptions,
    events: &Sender<Event>,
    cancel: &AtomicBool,
) -> Result<RunReport, RunError> {
    if let super::executor::Executor::Slurm(cfg) = &opts.executor {
        return super::slurm::run_plan_slurm(plan, registry, runs, opts, cfg, events, cancel);
    }
    let prepared = prepare(plan, registry, opts)?;
    let corrupt = |stage: &str, c: &Corruption| {
        let _ = events.send(Event::Corrupt { stage: stage.to_string(), message: c.to_string() });
    };
    let (status, _) = statuses(plan, &prepared, runs, true, &mut |i, c| corrupt(&plan.stages[i].name, c))?;
    preflight(plan, &prepared, &status, runs)?;

    let n = plan.stages.len();
    let keep_going = opts.keep_going || plan.sweep.is_some();
    let env = Env { pipeline: &plan.name, runs, events, cancel };
    let mut reports: Vec<StageReport> = plan
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| StageReport {
            stage: s.name.clone(),
            base: s.base.clone(),
            point: s.point.as_ref().map(|p| p.label.clone()),
            kind: s.kind.clone(),
            outcome: if prepared.needed[i] { Outcome::NotRun } else { Outcome::Excluded },
            key: None,
            wall_s: None,
            device: None,
            summary: serde_json::Value::Null,
            dir: None,
            reason: None,
        })
        .collect();
    let mut state: Vec<State> =
        (0..n).map(|i| if prepared.needed[i] { State::Waiting } else { State::Stopped }).collect();
    let mut settled: Vec<Settled> =
        (0..n).map(|i| if prepared.needed[i] { Settled::Open } else { Settled::Finished(None) }).collect();
    let points = Points::new(plan, &prepared.needed, opts.jobs);
    let progress = |settled: &[Settled]| points.as_ref().map(|p| p.progress(plan, settled, &prepared.needed));
    let mut done: Vec<Option<CacheRecord>> = vec![None; n];
    let mut failures: Vec<StageFailure> = Vec::new();
    let mut stopping = false;
    let mut running = 0usize;
    let mut per_gpu: HashMap<usize, usize> = Default::default();
    // The GPU each running stage was placed on.
    let mut placed: Vec<Option<usize>> = vec![None; n];
    let jobs = opts.jobs.max(1);
    let gpu_jobs = opts.gpu_jobs.max(1);
    let (tx, rx) = channel::<(usize, JobResult)>();

    std::thread::scope(|scope| {
        loop {
            stopping |= cancel.load(Ordering::SeqCst);
            // Start (or take from the cache, or skip) every stage that can go, in plan order,
            // until nothing changes.
            let mut changed = true;
            while changed && !stopping {
                changed = false;
                for i in 0..n {
                    let stage = &plan.stages[i];
                    if state[i] != State::Waiting
                        || stage.dependencies.iter().any(|&d| matches!(state[d], State::Waiting | State::Running))
                    {
                        continue;
                    }
                    let plugin = prepared.plugins[i];
                    let (inputs, warnings) = match effective_inputs(plan, i, plugin, &done) {
                        Ok(ok) => ok,
                        Err(reason) => {
                            state[i] = State::Stopped;
                            settled[i] = Settled::Stopped;
                            reports[i].reason = Some(reason.clone());
                            let _ = events.send(Event::Skipped { stage: stage.name.clone(), reason });
                            if let Some(p) = progress(&settled) {
                                let _ = events.send(Event::Points(p));
                            }
                            changed = true;
                            continue;
                        }
                    };
                    for warning in &warnings {
                        let _ = events.send(Event::Log {
                            stage: stage.name.clone(),
                            level: tmu_plugin::LogLevel::Warn,
                            message: warning.clone(),
                        });
                    }
                    let device = &prepared.devices[i];
                    let key = stage_key(plan, stage, &inputs, plugin, device, &done);
                    reports[i].key = Some(key.clone());
                    if !prepared.forced[i]
                        && let Some(record) = runs.lookup_verified(&key, true, &mut |c| corrupt(&stage.name, c))
                    {
                        let outcome = match publish(&env, &stage.name, &record, Status::Cached) {
                            Ok(()) => Outcome::Cached,
                            Err(e) => {
                                failures.push(host_failure(plan, &prepared, i, e));
                                stopping |= !keep_going;
                                Outcome::Failed
                            }
                        };
                        let _ = events.send(Event::Cached { stage: stage.name.clone(), kind: stage.kind.clone() });
                        finish(&mut reports[i], runs, &plan.name, &record, outcome);
                        state[i] = if outcome == Outcome::Cached { State::Finished } else { State::Stopped };
                        settled[i] =
                            if outcome == Outcome::Cached { Settled::Finished(None) } else { Settled::Stopped };
                        done[i] = (outcome == Outcome::Cached).then_some(record);
                        if let Some(p) = progress(&settled) {
                            let _ = events.send(Event::Points(p));
                        }
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
                        settled[i] = Settled::Stopped;
                        reports[i].outcome = Outcome::Failed;
                        stopping = true;
                        break;
                    }
                    if running >= jobs {
                        continue;
                    }
                    let gpu = match place(device, &opts.devices, &per_gpu, gpu_jobs) {
                        None => None,
                        Some(None) => continue,
                        Some(Some(g)) => Some(g),
                    };
                    let device = gpu.map_or_else(|| device.clone(), |g| format!("cuda:{g}"));
                    let (inputs, input_records) = stage_inputs(plan, &inputs, runs, &done);
                    let job =
                        Job { stage, plugin, device, key, inputs, input_records, forced: prepared.forced[i], warnings };
                    state[i] = State::Running;
                    running += 1;
                    if let Some(g) = gpu {
                        *per_gpu.entry(g).or_default() += 1;
                    }
                    placed[i] = gpu;
                    let (tx, env, executor) = (tx.clone(), &env, &opts.executor);
                    let failure = job_failure_template(plan, &prepared, i);
                    scope.spawn(move || {
                        let result = catch_unwind(AssertUnwindSafe(|| executor.run(env, job))).unwrap_or_else(|_| {
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
            if let Some(g) = placed[i].take() {
                *per_gpu.entry(g).or_default() -= 1;
            }
            match result {
                JobResult::Done { record, outcome } => {
                    finish(&mut reports[i], runs, &plan.name, &record, outcome);
                    state[i] = State::Finished;
                    let ran = (outcome == Outcome::Ran).then_some(record.timing.wall_s);
                    settled[i] = Settled::Finished(ran);
                    done[i] = Some(*record);
                }
                JobResult::Failed(f) => {
                    reports[i].outcome = Outcome::Failed;
                    reports[i].dir = Some(runs.stage_dir(&plan.name, &plan.stages[i].name));
                    state[i] = State::Stopped;
                    settled[i] = Settled::Stopped;
                    failures.push(f);
                    stopping |= !keep_going;
                }
                JobResult::Cancelled => {
                    reports[i].outcome = Outcome::Cancelled;
                    reports[i].dir = Some(runs.stage_dir(&plan.name, &plan.stages[i].name));
                    state[i] = State::Stopped;
                    settled[i] = Settled::Stopped;
                    stopping = true;
                }
            }
            if let Some(p) = progress(&settled) {
                let _ = events.send(Event::Points(p));
            }
        }
    });

    let report = RunReport {
        pipeline: plan.name.clone(),
        dir: runs.root().join(&plan.name),
        stages: reports,
        points: progress(&settled),
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_go_to_the_least_busy_listed_gpu_within_gpu_jobs() {
        let running = HashMap::from([(0, 1), (1, 0), (3, 2)]);
        assert_eq!(place("cpu", &[0, 1], &running, 2), None);
        // Without placement a stage keeps its own GPU, and waits while it is full.
        assert_eq!(place("cuda:0", &[], &running, 2), Some(Some(0)));
        assert_eq!(place("cuda:3", &[], &running, 2), Some(None));
        // With placement its own index does not matter: the least busy listed GPU, first on a tie.
        assert_eq!(place("cuda:0", &[0, 1], &running, 2), Some(Some(1)));
        assert_eq!(place("cuda:0", &[2, 1], &running, 2), Some(Some(2)));
        assert_eq!(place("cuda:1", &[3, 0], &running, 2), Some(Some(0)));
        assert_eq!(place("cuda:0", &[3, 0], &running, 1), Some(None));
    }
}

//! One stage attempt as data: everything a process needs to run it (the stage, its plugin file,
//! its inputs with their recorded hashes, its key and device) and what comes back. The
//! in-process executor, a child `tmu` process and a Slurm job run the same [`JobSpec`] through
//! the same code (`attempt::run_job`); only who launches it and who waits differ.

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use tmu_core::PlannedStage;
use tmu_plugin::protocol::WireError;
use tmu_plugin::{DeviceSpec, Inputs};

use super::attempt::{Job, JobResult};
use super::error::StageFailure;
use super::types::{Event, Outcome};
use crate::loader::LoadedPlugin;
use crate::record::{CacheRecord, InputRecord};

/// A prepared stage attempt.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JobSpec {
    pub pipeline: String,
    /// The instance name.
    pub stage: String,
    pub base: String,
    pub kind: String,
    pub config: serde_json::Value,
    pub outputs: Vec<tmu_plugin::OutputPort>,
    pub seed: u64,
    /// The device asked for in the pipeline (`auto`, `cpu`, `cuda:N`).
    pub device_requested: String,
    /// The plugin library and the blake3 of the file the parent loaded (a child refuses a file
    /// that changed since).
    pub plugin_file: PathBuf,
    pub plugin_blake3: String,
    /// The resolved device.
    pub device: String,
    pub key: String,
    pub inputs: Inputs,
    pub input_records: IndexMap<String, Vec<InputRecord>>,
    pub forced: bool,
    pub warnings: Vec<String>,
    /// The stage's `timeout`, in seconds.
    pub timeout_s: Option<u64>,
}

impl JobSpec {
    pub(super) fn of(pipeline: &str, job: &Job) -> JobSpec {
        JobSpec {
            pipeline: pipeline.to_string(),
            stage: job.stage.name.clone(),
            base: job.stage.base.clone(),
            kind: job.stage.kind.clone(),
            config: job.stage.config.clone(),
            outputs: job.stage.outputs.clone(),
            seed: job.stage.seed,
            device_requested: job.stage.device.to_string(),
            plugin_file: job.plugin.path.clone(),
            plugin_blake3: job.plugin.binary_hash.clone(),
            device: job.device.clone(),
            key: job.key.clone(),
            inputs: job.inputs.clone(),
            input_records: job.input_records.clone(),
            forced: job.forced,
            warnings: job.warnings.clone(),
            timeout_s: job.stage.timeout.map(|t| t.as_secs()),
        }
    }

    /// The planned stage as far as an attempt needs it (no inputs or dependencies: those are
    /// resolved into `inputs` already).
    pub(super) fn planned_stage(&self) -> Result<PlannedStage, String> {
        Ok(PlannedStage {
            name: self.stage.clone(),
            base: self.base.clone(),
            point: None,
            kind: self.kind.clone(),
            config: self.config.clone(),
            inputs: Vec::new(),
            outputs: self.outputs.clone(),
            dependencies: Vec::new(),
            seed: self.seed,
            device: self.device_requested.parse::<DeviceSpec>()?,
            timeout: self.timeout_s.map(std::time::Duration::from_secs),
        })
    }

    pub(super) fn job<'a>(&self, stage: &'a PlannedStage, plugin: &'a LoadedPlugin) -> Job<'a> {
        Job {
            stage,
            plugin,
            device: self.device.clone(),
            key: self.key.clone(),
            inputs: self.inputs.clone(),
            input_records: self.input_records.clone(),
            forced: self.forced,
            warnings: self.warnings.clone(),
        }
    }
}

/// How an attempt ended, as a child reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum JobOutcome {
    Done { record: Box<CacheRecord>, cached: bool },
    Failed { error: WireError },
    Cancelled,
}

impl JobOutcome {
    pub(super) fn of(result: &JobResult) -> JobOutcome {
        match result {
            JobResult::Done { record, outcome } => {
                JobOutcome::Done { record: record.clone(), cached: *outcome == Outcome::Cached }
            }
            JobResult::Failed(f) => JobOutcome::Failed { error: f.error.clone() },
            JobResult::Cancelled => JobOutcome::Cancelled,
        }
    }

    /// Back into the scheduler's terms; `failure` names the stage and plugin.
    pub(super) fn into_result(self, failure: StageFailure) -> JobResult {
        match self {
            JobOutcome::Done { record, cached } => {
                JobResult::Done { record, outcome: if cached { Outcome::Cached } else { Outcome::Ran } }
            }
            JobOutcome::Failed { error } => JobResult::Failed(StageFailure { error, ..failure }),
            JobOutcome::Cancelled => JobResult::Cancelled,
        }
    }
}

/// One line a child writes to its standard output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChildMessage {
    Event(Event),
    Result(JobOutcome),
}

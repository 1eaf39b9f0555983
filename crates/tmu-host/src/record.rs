//! What is recorded about a stage: the cache entry (`entry.json`) and the stage view (`stage.json`).

use std::path::PathBuf;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use tmu_plugin::ArtifactKind;
use tmu_plugin::protocol::WireError;

/// Version of the record layout; records of another version are not trusted (the stage reruns).
pub const RECORD_FORMAT: u32 = 1;

/// The plugin build that ran a stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PluginRecord {
    pub name: String,
    pub version: String,
    /// `tmu-plugin x.y.z`.
    pub sdk: String,
    /// The library file, as loaded.
    pub file: PathBuf,
    /// blake3 of the library file.
    pub blake3: String,
}

/// One artifact bound to an input port.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputRecord {
    /// The entry's name in a named-map port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `"<stage>.<output>"`.
    pub source: String,
    pub blake3: String,
}

/// One output artifact, hashed once when it was produced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    pub kind: ArtifactKind,
    /// The file (or folder) name inside the output folder.
    pub file: String,
    /// blake3 of the file, or of a folder's manifest (see `hash::hash_tree`).
    pub blake3: String,
    pub bytes: u64,
}

/// Start, end and duration of a stage run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// RFC 3339, UTC.
    pub started_at: String,
    pub finished_at: String,
    /// Microseconds since the Unix epoch (for ordering).
    pub started_us: u64,
    pub finished_us: u64,
    pub wall_s: f64,
}

impl Timing {
    pub fn new(started_us: u64, finished_us: u64) -> Timing {
        Timing {
            started_at: crate::time::rfc3339(started_us),
            finished_at: crate::time::rfc3339(finished_us),
            started_us,
            finished_us,
            wall_s: finished_us.saturating_sub(started_us) as f64 / 1e6,
        }
    }
}

/// A finished stage result in the cache: `runs/.cache/<key>/entry.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CacheRecord {
    pub format: u32,
    pub key: String,
    pub kind: String,
    pub plugin: PluginRecord,
    /// The config as written in the pipeline file (what the key hashes).
    pub config: serde_json::Value,
    /// The config with the plugin's defaults filled in (also in `config.json`).
    pub resolved_config: serde_json::Value,
    pub seed: u64,
    /// The device asked for (`cpu`, `cuda:0`, `auto`) and the kind the key was computed for
    /// (`cpu`, `cuda`: a result is the same on every GPU).
    pub device_requested: String,
    pub device_key: String,
    /// The device the plugin says it ran on.
    pub device_used: String,
    /// Input port -> the artifacts bound to it, in binding order.
    pub inputs: IndexMap<String, Vec<InputRecord>>,
    /// Output port -> artifact.
    pub outputs: IndexMap<String, OutputRecord>,
    pub timing: Timing,
    /// Headline numbers reported by the stage.
    pub summary: serde_json::Value,
    /// The pipeline and stage that produced this entry (others may reuse it).
    pub produced_by: ProducedBy,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProducedBy {
    pub pipeline: String,
    pub stage: String,
}

/// How this run got a stage's result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The stage ran in this run.
    Ran,
    /// An identical earlier run's result was reused.
    Cached,
    /// The stage failed (see `error`).
    Failed,
    /// The stage stopped because the run was cancelled.
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ran => "ran",
            Status::Cached => "cached",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }
}

/// `runs/<pipeline>/<stage>/stage.json` of a finished stage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageRecord {
    pub pipeline: String,
    pub stage: String,
    pub status: Status,
    /// The cache entry the outputs of this folder are linked from.
    pub cache_dir: PathBuf,
    #[serde(flatten)]
    pub entry: CacheRecord,
}

/// `runs/<pipeline>/<stage>/stage.json` of a stage that failed or was cancelled.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailureRecord {
    pub pipeline: String,
    pub stage: String,
    pub kind: String,
    pub status: Status,
    pub key: String,
    pub plugin: PluginRecord,
    pub device_requested: String,
    pub timing: Timing,
    pub error: WireError,
}

//! The JSON messages that cross the C ABI: descriptions, run requests, responses and errors.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::inputs::Inputs;
use crate::stage::{Example, InputPort, OutputPort, Signature};

/// What `tmu_plugin_describe` returns.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PluginDescription {
    /// The plugin crate's name (`CARGO_PKG_NAME` of the crate that invoked `export_plugin!`).
    pub name: String,
    /// The plugin crate's version.
    pub version: String,
    /// `tmu-plugin x.y.z`: the SDK that built it.
    pub sdk: String,
    pub abi_version: u32,
    /// Whether this build can run stages on CUDA.
    pub cuda: bool,
    pub stages: Vec<StageDescription>,
}

/// One stage of a plugin, self-described.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StageDescription {
    pub kind: String,
    pub description: String,
    pub inputs: Vec<InputPort>,
    pub outputs: Vec<OutputPort>,
    /// JSON Schema (draft 2020-12) of the stage's `config` table, from schemars.
    pub config_schema: serde_json::Value,
    pub examples: Vec<Example>,
}

impl StageDescription {
    pub fn signature(&self) -> Signature {
        Signature { description: self.description.clone(), inputs: self.inputs.clone(), outputs: self.outputs.clone() }
    }
}

/// What the host asks a plugin to do in `tmu_plugin_run`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRequest {
    /// The stage's name in the pipeline file.
    pub stage: String,
    /// The stage kind (also passed as the first `run` argument).
    pub kind: String,
    /// The stage's `config` table, as written (defaults are filled in by the plugin).
    pub config: serde_json::Value,
    pub inputs: Inputs,
    /// Empty folder the stage writes its outputs into (`<port>.safetensors`, `<port>.json`, ...).
    pub output_dir: PathBuf,
    /// Folder that survives a failed or killed attempt of this exact stage (same cache key):
    /// checkpoints go here so that a rerun resumes.
    pub work_dir: PathBuf,
    /// The stage's seed, derived by the host from the pipeline seed and the stage name.
    pub seed: u64,
    /// `cpu`, `cuda`, `cuda:N` or `auto`.
    pub device: String,
    /// Only check that the stage can run (`Stage::preflight`): no inputs are read, nothing is
    /// written; the response carries the resolved config.
    #[serde(default)]
    pub preflight: bool,
}

/// What a successful `tmu_plugin_run` returns.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RunResponse {
    /// The config after defaults were applied, saved by the host as `config.json`.
    pub resolved_config: serde_json::Value,
    /// The device the stage actually ran on (`cpu`, `cuda:0`).
    pub device: String,
    /// A small JSON object of headline numbers (accuracy, loss, counts) for logs and `stage.json`.
    pub summary: serde_json::Value,
}

/// Why a stage failed, in the shape that crosses the boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorKind {
    /// The config did not deserialize into the stage's config type.
    Config,
    /// The stage kind is not in this plugin, or the request was malformed.
    Request,
    /// The stage returned an error.
    Failed,
    /// The stage panicked.
    Panic,
    /// The user cancelled the run.
    Cancelled,
}

/// A structured error: `{ kind, message, causes, help }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct WireError {
    pub kind: ErrorKind,
    pub message: String,
    /// The chain of causes below `message`, outermost first.
    #[serde(default)]
    pub causes: Vec<String>,
    /// What the user can do about it.
    #[serde(default)]
    pub help: Option<String>,
}

impl WireError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        WireError { kind, message: message.into(), causes: Vec::new(), help: None }
    }

    /// Converts an `anyhow` chain, picking up a [`crate::Help`] or [`crate::Advice`] and a
    /// [`crate::Cancelled`] anywhere in it (as context or as any error's source).
    pub fn from_anyhow(kind: ErrorKind, err: &anyhow::Error) -> Self {
        // `anyhow::Error::downcast_ref` sees context values at any depth; chain items are the
        // typed errors and their sources.
        let mut help = err.downcast_ref::<crate::Help>().map(|h| h.help.clone());
        let mut cancelled = err.downcast_ref::<crate::context::Cancelled>().is_some();
        let mut lines = Vec::new();
        for e in err.chain() {
            if let Some(advice) = e.downcast_ref::<crate::Advice>() {
                help.get_or_insert_with(|| advice.0.clone());
                continue;
            }
            if let Some(h) = e.downcast_ref::<crate::Help>() {
                help.get_or_insert_with(|| h.help.clone());
            }
            cancelled |= e.is::<crate::context::Cancelled>();
            lines.push(e.to_string());
        }
        // A `Help` context repeats the message it wraps: drop consecutive duplicates.
        lines.dedup();
        let mut lines = lines.into_iter();
        let message = lines.next().unwrap_or_default();
        let causes = lines.collect();
        let kind = if cancelled { ErrorKind::Cancelled } else { kind };
        WireError { kind, message, causes, help }
    }

    /// The whole chain on one line, `message: cause: cause`.
    pub fn chain_line(&self) -> String {
        let mut s = self.message.clone();
        for c in &self.causes {
            s.push_str(": ");
            s.push_str(c);
        }
        s
    }
}

//! What a running stage sees of the host: seed, device, output folder, progress, logs, cancel.

use std::path::{Path, PathBuf};

use crate::seed::derive_seed;
use crate::stage::{ArtifactKind, Signature};

/// The host side of a running stage, in-process or across the C ABI.
pub trait HostSink {
    fn progress(&self, done: u64, total: u64, message: &str);
    fn log(&self, level: LogLevel, message: &str);
    fn is_cancelled(&self) -> bool;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
}

impl LogLevel {
    pub fn to_abi(self) -> u32 {
        match self {
            LogLevel::Error => crate::abi::LOG_ERROR,
            LogLevel::Warn => crate::abi::LOG_WARN,
            LogLevel::Info => crate::abi::LOG_INFO,
            LogLevel::Debug => crate::abi::LOG_DEBUG,
        }
    }

    pub fn from_abi(level: u32) -> LogLevel {
        match level {
            crate::abi::LOG_ERROR => LogLevel::Error,
            crate::abi::LOG_WARN => LogLevel::Warn,
            crate::abi::LOG_DEBUG => LogLevel::Debug,
            _ => LogLevel::Info,
        }
    }
}

/// Returned (inside an `anyhow` chain) when a stage stops because the user cancelled the run.
#[derive(Debug, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// Everything a stage needs from its surroundings. Built by the export glue or by a test harness.
pub struct Context<'h> {
    host: &'h dyn HostSink,
    stage: String,
    kind: String,
    seed: u64,
    device: String,
    output_dir: PathBuf,
    work_dir: PathBuf,
    signature: Signature,
    summary: serde_json::Map<String, serde_json::Value>,
    device_used: Option<String>,
}

impl<'h> Context<'h> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        host: &'h dyn HostSink,
        stage: &str,
        kind: &str,
        seed: u64,
        device: &str,
        output_dir: &Path,
        work_dir: &Path,
        signature: Signature,
    ) -> Self {
        Context {
            host,
            stage: stage.to_string(),
            kind: kind.to_string(),
            seed,
            device: device.to_string(),
            output_dir: output_dir.to_path_buf(),
            work_dir: work_dir.to_path_buf(),
            signature,
            summary: serde_json::Map::new(),
            device_used: None,
        }
    }

    /// The stage's name in the pipeline file.
    pub fn stage_name(&self) -> &str {
        &self.stage
    }

    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The stage's seed (derived by the host from the pipeline seed and the stage name).
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A seed for one named stream of randomness inside the stage (`"init"`, `"shuffle"`, ...),
    /// so that adding a stream never shifts another.
    pub fn seed_for(&self, stream: &str) -> u64 {
        derive_seed(self.seed, stream)
    }

    /// The device the pipeline asked for: `cpu`, `cuda`, `cuda:N` or `auto`.
    pub fn device_request(&self) -> &str {
        &self.device
    }

    /// Records the device the stage actually used (reported back to the host).
    pub fn set_device_used(&mut self, device: impl Into<String>) {
        self.device_used = Some(device.into());
    }

    pub fn device_used(&self) -> Option<&str> {
        self.device_used.as_deref()
    }

    /// Where to write output `port`; panics on a port the signature does not declare, which is a
    /// bug in the stage, not a user error.
    pub fn output_path(&self, port: &str) -> PathBuf {
        let out = self
            .signature
            .output_named(port)
            .unwrap_or_else(|| panic!("stage `{}` has no output port `{port}`", self.kind));
        self.output_dir.join(out.kind.file_name(port))
    }

    /// The kind of output `port`, if declared.
    pub fn output_kind(&self, port: &str) -> Option<ArtifactKind> {
        self.signature.output_named(port).map(|p| p.kind)
    }

    pub fn output_dir(&self) -> &Path {
        &self.output_dir
    }

    /// A folder that survives a failed or killed attempt of this same stage: checkpoints go here.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// Reports progress: `done` of `total` (0 = unknown) with a short message.
    pub fn progress(&self, done: u64, total: u64, message: impl AsRef<str>) {
        self.host.progress(done, total, message.as_ref());
    }

    pub fn log(&self, level: LogLevel, message: impl AsRef<str>) {
        self.host.log(level, message.as_ref());
    }

    pub fn info(&self, message: impl AsRef<str>) {
        self.log(LogLevel::Info, message);
    }

    pub fn warn(&self, message: impl AsRef<str>) {
        self.log(LogLevel::Warn, message);
    }

    pub fn debug(&self, message: impl AsRef<str>) {
        self.log(LogLevel::Debug, message);
    }

    pub fn is_cancelled(&self) -> bool {
        self.host.is_cancelled()
    }

    /// `Err(Cancelled)` once the user asked to stop; call it between steps.
    pub fn check_cancelled(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() { Err(Cancelled) } else { Ok(()) }
    }

    /// Adds a headline number to the stage's summary (shown in logs and saved in `stage.json`).
    pub fn summary(&mut self, key: &str, value: impl Into<serde_json::Value>) {
        self.summary.insert(key.to_string(), value.into());
    }

    pub(crate) fn take_summary(&mut self) -> serde_json::Value {
        serde_json::Value::Object(std::mem::take(&mut self.summary))
    }
}

/// A host that records nothing and never cancels (for tests and tools).
#[derive(Debug, Default)]
pub struct NullHost;

impl HostSink for NullHost {
    fn progress(&self, _: u64, _: u64, _: &str) {}
    fn log(&self, _: LogLevel, _: &str) {}
    fn is_cancelled(&self) -> bool {
        false
    }
}

//! Runs one stage in-process (through `Plugin::run`, panics caught) in a temporary folder, after
//! checking its config against the stage's schema as the host does.

use std::path::PathBuf;
use std::sync::Mutex;

use tmu_plugin::protocol::{ErrorKind, RunRequest, RunResponse, WireError};
use tmu_plugin::{HostSink, Inputs, LogLevel, Plugin};

/// A host that records progress and logs, and can cancel after a number of progress calls.
#[derive(Debug, Default)]
pub struct RecordingHost {
    pub progress: Mutex<Vec<(u64, u64, String)>>,
    pub logs: Mutex<Vec<(LogLevel, String)>>,
    /// Report "cancelled" once this many progress calls were made.
    pub cancel_after: Option<usize>,
}

impl HostSink for RecordingHost {
    fn progress(&self, done: u64, total: u64, message: &str) {
        self.progress.lock().unwrap().push((done, total, message.to_string()));
    }

    fn log(&self, level: LogLevel, message: &str) {
        self.logs.lock().unwrap().push((level, message.to_string()));
    }

    fn is_cancelled(&self) -> bool {
        self.cancel_after.is_some_and(|n| self.progress.lock().unwrap().len() >= n)
    }
}

/// Everything in a run request that is not inputs or config.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub stage: String,
    pub seed: u64,
    pub device: String,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { stage: "test".into(), seed: 0, device: "cpu".into() }
    }
}

/// The outcome of a stage run: its folder (deleted on drop) and response.
#[derive(Debug)]
pub struct StageRun {
    pub dir: tempfile::TempDir,
    pub response: RunResponse,
}

impl StageRun {
    /// The output folder.
    pub fn out_dir(&self) -> PathBuf {
        self.dir.path().join("out")
    }

    /// The file of output `port` (`<port>.safetensors`, `.json`, `.md`, or a folder).
    pub fn output(&self, port: &str) -> PathBuf {
        let dir = self.out_dir();
        std::fs::read_dir(&dir)
            .expect("output folder exists")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.file_stem().is_some_and(|s| s == port) || p.file_name().is_some_and(|s| s == port))
            .unwrap_or_else(|| panic!("no output `{port}` in {}", dir.display()))
    }
}

/// Parses the body of a TOML table (`epochs = 2\narch = "mlp"`) into the JSON a stage receives.
pub fn config(toml_body: &str) -> serde_json::Value {
    let table: toml::Table = toml::from_str(toml_body).expect("test config is valid TOML");
    serde_json::to_value(table).expect("TOML converts to JSON")
}

/// Runs `kind` from `plugin` with default options.
pub fn run_stage(
    plugin: &Plugin,
    kind: &str,
    inputs: Inputs,
    config: serde_json::Value,
) -> Result<StageRun, WireError> {
    run_stage_with(plugin, kind, inputs, config, &RunOptions::default(), &RecordingHost::default())
}

/// Runs `kind` from `plugin` with explicit options and host.
pub fn run_stage_with(
    plugin: &Plugin,
    kind: &str,
    inputs: Inputs,
    config: serde_json::Value,
    options: &RunOptions,
    host: &dyn HostSink,
) -> Result<StageRun, WireError> {
    check_schema(plugin, kind, &config)?;
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("out");
    let work = dir.path().join("work");
    std::fs::create_dir_all(&out).expect("create out dir");
    std::fs::create_dir_all(&work).expect("create work dir");
    let request = RunRequest {
        stage: options.stage.clone(),
        kind: kind.to_string(),
        config,
        inputs,
        output_dir: out,
        work_dir: work,
        seed: options.seed,
        device: options.device.clone(),
        preflight: false,
    };
    let response = plugin.run(&request, host)?;
    Ok(StageRun { dir, response })
}

/// Refuses a config the stage's schema refuses, as the host does before any stage runs (a
/// missing config is `{}`), so a test cannot pass a value no pipeline could.
fn check_schema(plugin: &Plugin, kind: &str, config: &serde_json::Value) -> Result<(), WireError> {
    let Some(stage) = plugin.describe().stages.into_iter().find(|s| s.kind == kind) else {
        return Ok(()); // `Plugin::run` reports the unknown kind
    };
    let validator = jsonschema::options()
        .build(&stage.config_schema)
        .unwrap_or_else(|e| panic!("the config schema of `{kind}` does not compile: {e}"));
    let empty = serde_json::json!({});
    let config = if config.is_null() { &empty } else { config };
    let errors: Vec<String> =
        validator.iter_errors(config).map(|e| format!("{}: {e}", located(e.instance_path().as_str()))).collect();
    if errors.is_empty() {
        return Ok(());
    }
    Err(WireError {
        kind: ErrorKind::Config,
        message: format!("invalid config for `{kind}`: the schema refuses it"),
        causes: errors,
        help: None,
    })
}

/// Where in the config a schema error is: its JSON pointer, or `config` for the table itself.
fn located(pointer: &str) -> &str {
    if pointer.is_empty() { "config" } else { pointer }
}

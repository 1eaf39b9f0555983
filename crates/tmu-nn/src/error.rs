//! The error type of tmu-nn: every message names what went wrong and where.

use std::path::PathBuf;

/// Errors of the model zoo, the training engine and model files.
#[derive(Debug, thiserror::Error)]
pub enum NnError {
    /// A tensor operation failed (shape mismatch, device error, ...).
    #[error(transparent)]
    Candle(#[from] candle_core::Error),
    /// Reading or writing an artifact file failed.
    #[error(transparent)]
    Artifact(#[from] tmu_plugin::artifact::ArtifactError),
    /// A configuration value is out of range or does not fit the architecture.
    #[error("{0}")]
    Config(String),
    /// A model file does not match what it claims or what the caller expects; every problem is
    /// listed.
    #[error("{}: {}", path.display(), problems.join("; "))]
    Model { path: PathBuf, problems: Vec<String> },
    /// Weights given by name do not match the architecture (missing, extra or wrong shape).
    #[error("weights do not match the architecture: {}", .0.join("; "))]
    Weights(Vec<String>),
    /// Data do not fit the network (input shape, number of classes, empty set).
    #[error("{0}")]
    Data(String),
    /// The loss became NaN or infinite; `advice` (the source) becomes the user's help.
    #[error(
        "training diverged: the loss is {loss} at epoch {epoch}, step {step} of the epoch (global step {global_step})"
    )]
    NonFinite { epoch: usize, step: usize, global_step: u64, loss: f32, advice: tmu_plugin::Advice },
    /// A checkpoint could not be used.
    #[error("checkpoint {}: {problem}", path.display())]
    Checkpoint { path: PathBuf, problem: String },
    /// An input port of a stage is not connected as the stage expects.
    #[error(transparent)]
    Port(#[from] tmu_plugin::InputError),
    /// The artifact bound to a stage's input port cannot be used; names the port and file.
    #[error("input `{port}` ({}) {problem}", path.display())]
    Input { port: String, path: PathBuf, problem: String, source: Option<Box<NnError>> },
    /// The user cancelled the run (the source is what the host recognises, anywhere in a chain).
    #[error("cancelled")]
    Cancelled(#[from] tmu_plugin::Cancelled),
}

/// `Result` with [`NnError`].
pub type Result<T, E = NnError> = std::result::Result<T, E>;

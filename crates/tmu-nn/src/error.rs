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
    /// The loss became NaN or infinite.
    #[error(
        "training diverged: the loss is {loss} at epoch {epoch}, step {step} of the epoch (global step {global_step})"
    )]
    NonFinite { epoch: usize, step: usize, global_step: u64, loss: f32 },
    /// A checkpoint could not be used.
    #[error("checkpoint {}: {problem}", path.display())]
    Checkpoint { path: PathBuf, problem: String },
    /// The user cancelled the run.
    #[error("cancelled")]
    Cancelled(#[from] tmu_plugin::Cancelled),
}

/// `Result` with [`NnError`].
pub type Result<T, E = NnError> = std::result::Result<T, E>;

impl NnError {
    /// Converts to `anyhow`, keeping cancellation recognisable by the host (a
    /// [`tmu_plugin::Cancelled`] at the top of the chain) and adding advice where there is some.
    pub fn into_anyhow(self) -> anyhow::Error {
        match self {
            NnError::Cancelled(c) => anyhow::Error::new(c),
            e @ NnError::NonFinite { .. } => tmu_plugin::with_help(
                e,
                "lower the learning rate, add warm-up (schedule = { kind = \"one-cycle\" }) or check the input data",
            ),
            e => anyhow::Error::new(e),
        }
    }
}

//! Errors from reading or writing artifact files; every one names the file.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ArtifactError {
    #[error("cannot {action} {}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is not a valid safetensors file: {reason}", path.display())]
    Format { path: PathBuf, reason: String },
    #[error("{} is a `{found}` artifact, expected `{expected}`", path.display())]
    WrongKind { path: PathBuf, expected: String, found: String },
    #[error("{} has artifact format version {found}, this build reads version {expected}", path.display())]
    Version { path: PathBuf, expected: u32, found: String },
    #[error("{}: tensor `{name}` {problem}", path.display())]
    Tensor { path: PathBuf, name: String, problem: String },
    #[error("{}: {problem}", path.display())]
    Invalid { path: PathBuf, problem: String },
}

impl ArtifactError {
    pub fn invalid(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        ArtifactError::Invalid { path: path.into(), problem: problem.into() }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ArtifactError::Io { action, path: path.into(), source }
    }
}

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
    /// An artifact built in memory whose parts do not fit together (lengths, ids, labels).
    #[error("{0}")]
    Inconsistent(String),
}

/// The problem of an inconsistent in-memory artifact, as `?` converts it.
impl From<String> for ArtifactError {
    fn from(problem: String) -> Self {
        ArtifactError::Inconsistent(problem)
    }
}

impl From<&str> for ArtifactError {
    fn from(problem: &str) -> Self {
        ArtifactError::Inconsistent(problem.to_string())
    }
}

impl ArtifactError {
    pub fn invalid(path: impl Into<PathBuf>, problem: impl Into<String>) -> Self {
        ArtifactError::Invalid { path: path.into(), problem: problem.into() }
    }

    /// Names the file an inconsistency was found in (other errors name theirs already).
    pub fn at(self, path: impl Into<PathBuf>) -> Self {
        match self {
            ArtifactError::Inconsistent(problem) => ArtifactError::Invalid { path: path.into(), problem },
            e => e,
        }
    }

    pub fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ArtifactError::Io { action, path: path.into(), source }
    }
}

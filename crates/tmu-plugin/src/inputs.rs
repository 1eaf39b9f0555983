//! The artifacts bound to a stage's input ports, as the host resolved them.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::stage::ArtifactKind;

/// One input artifact: where it lies, what it is and which stage output made it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArtifactRef {
    pub path: PathBuf,
    pub kind: ArtifactKind,
    /// `"<stage>.<output>"` in the pipeline file.
    pub source: String,
}

/// What one port is bound to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Binding {
    One(ArtifactRef),
    List(Vec<ArtifactRef>),
    Map(IndexMap<String, ArtifactRef>),
}

/// Input port name -> binding. Unconnected optional ports are absent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Inputs {
    pub ports: IndexMap<String, Binding>,
}

/// An input port the stage asked for is missing or bound with another arity.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("input port `{0}` is not connected")]
    Missing(String),
    #[error("input port `{port}` is bound to {found}, the stage expected {expected}")]
    Arity { port: String, expected: &'static str, found: &'static str },
}

fn arity_name(b: &Binding) -> &'static str {
    match b {
        Binding::One(_) => "one artifact",
        Binding::List(_) => "a list",
        Binding::Map(_) => "a named map",
    }
}

impl Inputs {
    pub fn insert(&mut self, port: impl Into<String>, binding: Binding) {
        self.ports.insert(port.into(), binding);
    }

    /// Convenience for tests and harnesses: bind one file.
    pub fn with(mut self, port: &str, path: impl Into<PathBuf>, kind: ArtifactKind) -> Self {
        let path = path.into();
        let source = format!("file:{}", path.display());
        self.insert(port, Binding::One(ArtifactRef { path, kind, source }));
        self
    }

    pub fn contains(&self, port: &str) -> bool {
        self.ports.contains_key(port)
    }

    /// The artifact bound to a single-artifact port.
    pub fn one(&self, port: &str) -> Result<&ArtifactRef, InputError> {
        match self.ports.get(port) {
            None => Err(InputError::Missing(port.to_string())),
            Some(Binding::One(a)) => Ok(a),
            Some(other) => {
                Err(InputError::Arity { port: port.to_string(), expected: "one artifact", found: arity_name(other) })
            }
        }
    }

    /// The path bound to a single-artifact port.
    pub fn path(&self, port: &str) -> Result<&Path, InputError> {
        self.one(port).map(|a| a.path.as_path())
    }

    /// The path of an optional single-artifact port, `None` when not connected.
    pub fn optional_path(&self, port: &str) -> Result<Option<&Path>, InputError> {
        if !self.contains(port) {
            return Ok(None);
        }
        self.path(port).map(Some)
    }

    /// The artifacts bound to a list port (a single binding counts as a list of one).
    pub fn list(&self, port: &str) -> Result<Vec<&ArtifactRef>, InputError> {
        match self.ports.get(port) {
            None => Err(InputError::Missing(port.to_string())),
            Some(Binding::One(a)) => Ok(vec![a]),
            Some(Binding::List(v)) => Ok(v.iter().collect()),
            Some(other) => {
                Err(InputError::Arity { port: port.to_string(), expected: "a list", found: arity_name(other) })
            }
        }
    }

    /// The artifacts bound to a named-map port, in the order the pipeline file gives.
    pub fn map(&self, port: &str) -> Result<Vec<(&str, &ArtifactRef)>, InputError> {
        match self.ports.get(port) {
            None => Err(InputError::Missing(port.to_string())),
            Some(Binding::Map(m)) => Ok(m.iter().map(|(k, v)| (k.as_str(), v)).collect()),
            Some(other) => {
                Err(InputError::Arity { port: port.to_string(), expected: "a named map", found: arity_name(other) })
            }
        }
    }
}

//! The validated plan: stages in topological order with resolved inputs, and DAG slicing helpers.

use std::collections::BTreeSet;
use std::path::PathBuf;

use indexmap::IndexMap;
use tmu_plugin::{ArtifactKind, DeviceSpec, OutputPort};

pub use crate::names::OutputRef;

/// A validated pipeline: every stage kind is known, every input resolves to an output of the
/// right kind, every config satisfies its schema, and the stages form a DAG.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Names the run folder `runs/<name>/`: `name` in the file, else the file stem.
    pub name: String,
    /// The pipeline file, as the caller named it.
    pub source: PathBuf,
    pub description: Option<String>,
    pub seed: u64,
    /// The pipeline's default device.
    pub device: DeviceSpec,
    /// `[plugins] paths`, resolved against the pipeline file's folder.
    pub plugin_paths: Vec<PathBuf>,
    /// In topological order; among stages free to go in any order, file order.
    pub stages: Vec<PlannedStage>,
}

/// One stage, ready to run once its dependencies have.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedStage {
    pub name: String,
    pub kind: String,
    /// The `config` table as written, TOML -> JSON (keys in file order); `{}` when absent.
    pub config: serde_json::Value,
    /// Connected input ports, in the order the stage's description lists them.
    pub inputs: Vec<PlannedInput>,
    /// The stage's outputs, from its description.
    pub outputs: Vec<OutputPort>,
    /// Indices into [`Plan::stages`] of the stages it reads from: sorted, no duplicates, each
    /// smaller than this stage's own index.
    pub dependencies: Vec<usize>,
    /// `derive_seed(pipeline seed, stage name)`.
    pub seed: u64,
    /// The stage's `device`, else the pipeline's.
    pub device: DeviceSpec,
}

/// One connected input port.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedInput {
    pub port: String,
    /// The artifact kind the port takes (every bound output has this kind).
    pub kind: ArtifactKind,
    pub binding: PortBinding,
}

/// What a port is bound to. Generic so that the executor can map references to paths or
/// content hashes while keeping the shape (`binding.map(|r| hash_of(r))`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortBinding<T = OutputRef> {
    One(T),
    List(Vec<T>),
    /// In file order.
    Map(IndexMap<String, T>),
}

impl<T> PortBinding<T> {
    /// Every bound item, in order.
    pub fn items(&self) -> Vec<&T> {
        match self {
            PortBinding::One(t) => vec![t],
            PortBinding::List(v) => v.iter().collect(),
            PortBinding::Map(m) => m.values().collect(),
        }
    }

    /// The same shape with each item mapped.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> PortBinding<U> {
        match self {
            PortBinding::One(t) => PortBinding::One(f(t)),
            PortBinding::List(v) => PortBinding::List(v.iter().map(f).collect()),
            PortBinding::Map(m) => PortBinding::Map(m.iter().map(|(k, v)| (k.clone(), f(v))).collect()),
        }
    }

    /// The same shape with each item mapped by a fallible function; the first error wins.
    pub fn try_map<U, E>(&self, mut f: impl FnMut(&T) -> Result<U, E>) -> Result<PortBinding<U>, E> {
        Ok(match self {
            PortBinding::One(t) => PortBinding::One(f(t)?),
            PortBinding::List(v) => PortBinding::List(v.iter().map(f).collect::<Result<_, _>>()?),
            PortBinding::Map(m) => {
                PortBinding::Map(m.iter().map(|(k, v)| Ok((k.clone(), f(v)?))).collect::<Result<_, E>>()?)
            }
        })
    }
}

/// A stage name given on the command line (`--from`, `--to`, `--force`) is not in the plan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("pipeline `{pipeline}` has no stage `{stage}`{}", help.as_ref().map(|h| format!(": {h}")).unwrap_or_default())]
pub struct UnknownStageError {
    pub pipeline: String,
    pub stage: String,
    /// "did you mean `x`?" when a stage name is close.
    pub help: Option<String>,
}

impl Plan {
    /// The index of a stage in [`Plan::stages`].
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.stages.iter().position(|s| s.name == name)
    }

    pub fn stage(&self, name: &str) -> Option<&PlannedStage> {
        self.stages.iter().find(|s| s.name == name)
    }

    /// Like [`Plan::index_of`], with an error that names the pipeline and suggests a close name.
    pub fn require(&self, name: &str) -> Result<usize, UnknownStageError> {
        self.index_of(name).ok_or_else(|| UnknownStageError {
            pipeline: self.name.clone(),
            stage: name.to_string(),
            help: crate::suggest::did_you_mean(name, self.stages.iter().map(|s| s.name.as_str())),
        })
    }

    /// The stages that read directly from stage `i`, in plan order.
    pub fn dependants(&self, i: usize) -> Vec<usize> {
        (i + 1..self.stages.len()).filter(|&j| self.stages[j].dependencies.contains(&i)).collect()
    }

    /// Stage `i` and every stage it depends on, directly or not, in plan order.
    pub fn ancestors(&self, i: usize) -> Vec<usize> {
        let mut set = BTreeSet::from([i]);
        for j in (0..=i).rev() {
            if set.contains(&j) {
                set.extend(self.stages[j].dependencies.iter().copied());
            }
        }
        set.into_iter().collect()
    }

    /// Stage `i` and every stage that depends on it, directly or not, in plan order.
    pub fn descendants(&self, i: usize) -> Vec<usize> {
        let mut set = BTreeSet::from([i]);
        for j in i + 1..self.stages.len() {
            if self.stages[j].dependencies.iter().any(|d| set.contains(d)) {
                set.insert(j);
            }
        }
        set.into_iter().collect()
    }

    /// The stages selected by `--from` and `--to`, in plan order: with `from`, the named stages
    /// and their descendants; with `to`, the named stages and their ancestors; with both, the
    /// stages in both sets (the paths from a `from` to a `to`); with neither, every stage.
    pub fn slice(&self, from: &[&str], to: &[&str]) -> Result<Vec<usize>, UnknownStageError> {
        let all: BTreeSet<usize> = (0..self.stages.len()).collect();
        let mut selected = all.clone();
        if !from.is_empty() {
            let mut down = BTreeSet::new();
            for name in from {
                down.extend(self.descendants(self.require(name)?));
            }
            selected = &selected & &down;
        }
        if !to.is_empty() {
            let mut up = BTreeSet::new();
            for name in to {
                up.extend(self.ancestors(self.require(name)?));
            }
            selected = &selected & &up;
        }
        Ok(selected.into_iter().collect())
    }
}

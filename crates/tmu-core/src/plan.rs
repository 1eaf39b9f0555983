//! The validated plan: stages in topological order with resolved inputs, and DAG slicing helpers.

use std::collections::BTreeSet;
use std::path::PathBuf;

use indexmap::IndexMap;
use tmu_plugin::{ArtifactKind, DeviceSpec, OutputPort};

pub use crate::names::OutputRef;
use crate::sweep::{Point, Sweep};

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
    /// In topological order; among stages free to go in any order, file order. In a sweep,
    /// one entry per stage instance, point by point (see [`Plan::sweep`]).
    pub stages: Vec<PlannedStage>,
    /// The `[sweep]`, when the file has one; `None`: every stage has one instance.
    pub sweep: Option<Sweep>,
    /// `[slurm]`: the resources of each stage's job under `--executor slurm`.
    pub slurm: crate::SlurmSettings,
}

/// One stage, ready to run once its dependencies have.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedStage {
    /// The instance name: the stage's name in the file, or in a sweep `<point label>/<stage>`
    /// for an instance that depends on an axis (`seed=0,forget_class=3/split`). It names the
    /// stage's run folder `runs/<pipeline>/<name>/` and the left half of its references.
    pub name: String,
    /// The stage's name in the file.
    pub base: String,
    /// The values of the axes this instance depends on; `None` for a stage that depends on no
    /// axis (one instance, shared by every point).
    pub point: Option<Point>,
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
    /// `derive_seed(pipeline seed, base name)`, the pipeline seed being the point's `seed` when
    /// the instance depends on the `seed` axis.
    pub seed: u64,
    /// The stage's `device`, else the pipeline's.
    pub device: DeviceSpec,
    /// How long one attempt may run (`timeout`); not part of the cache key.
    pub timeout: Option<std::time::Duration>,
}

/// One connected input port.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedInput {
    pub port: String,
    /// The artifact kind the port takes (every bound output has this kind).
    pub kind: ArtifactKind,
    pub binding: PortBinding,
    /// The port gathers one output over the points of a sweep: the binding is a map from point
    /// label to that point's instance output. The executor leaves out the points whose
    /// instance failed.
    pub gathered: bool,
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
        self.index_of(name).ok_or_else(|| self.unknown(name))
    }

    fn unknown(&self, name: &str) -> UnknownStageError {
        let mut names: Vec<&str> = Vec::new();
        for s in &self.stages {
            if !names.contains(&s.base.as_str()) {
                names.push(&s.base);
            }
        }
        UnknownStageError {
            pipeline: self.name.clone(),
            stage: name.to_string(),
            help: crate::suggest::did_you_mean(name, names),
        }
    }

    /// The instances of the stage named `base` in the file, in plan order.
    pub fn instances_of(&self, base: &str) -> Vec<usize> {
        (0..self.stages.len()).filter(|&i| self.stages[i].base == base).collect()
    }

    /// The stages a name given on the command line selects: one instance by its full name
    /// (`seed=0/split`), or every instance of a stage by its name in the file (`split`).
    pub fn select(&self, name: &str) -> Result<Vec<usize>, UnknownStageError> {
        if let Some(i) = self.index_of(name) {
            return Ok(vec![i]);
        }
        let all = self.instances_of(name);
        if all.is_empty() { Err(self.unknown(name)) } else { Ok(all) }
    }

    /// The points (indices into the sweep's points) that instance `i` belongs to: those that
    /// agree with its axis values. Empty for a shared stage and for a plan without a sweep.
    pub fn points_of(&self, i: usize) -> Vec<usize> {
        match (&self.sweep, &self.stages[i].point) {
            (Some(sweep), Some(point)) => {
                (0..sweep.points.len()).filter(|&p| point.agrees_with(&sweep.points[p])).collect()
            }
            _ => Vec::new(),
        }
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

    /// The stages selected by `--from` and `--to` (each name as [`Plan::select`] reads it), in
    /// plan order: with `from`, the named stages
    /// and their descendants; with `to`, the named stages and their ancestors; with both, the
    /// stages in both sets (the paths from a `from` to a `to`); with neither, every stage.
    pub fn slice(&self, from: &[&str], to: &[&str]) -> Result<Vec<usize>, UnknownStageError> {
        let all: BTreeSet<usize> = (0..self.stages.len()).collect();
        let mut selected = all.clone();
        if !from.is_empty() {
            let mut down = BTreeSet::new();
            for name in from {
                for i in self.select(name)? {
                    down.extend(self.descendants(i));
                }
            }
            selected = &selected & &down;
        }
        if !to.is_empty() {
            let mut up = BTreeSet::new();
            for name in to {
                for i in self.select(name)? {
                    up.extend(self.ancestors(i));
                }
            }
            selected = &selected & &up;
        }
        Ok(selected.into_iter().collect())
    }
}

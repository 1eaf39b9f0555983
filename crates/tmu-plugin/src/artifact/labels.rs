//! Label artifacts: a u32 label per sample id, with names for the label values.

use std::collections::HashSet;
use std::path::Path;

use super::{ArtifactError, Container, ContainerWriter};
use crate::stage::ArtifactKind;

const META_NAMES: &str = "tmu.label_names";

/// Per-sample labels, e.g. generalization labels (0 = hard, 1 = easy).
#[derive(Clone, Debug, PartialEq)]
pub struct Labels {
    pub labels: Vec<u32>,
    pub ids: Vec<u64>,
    /// Name of each label value: `names[l]` describes label `l`.
    pub names: Vec<String>,
}

impl Labels {
    pub fn new(labels: Vec<u32>, ids: Vec<u64>, names: Vec<String>) -> Result<Self, ArtifactError> {
        let l = Labels { labels, ids, names };
        l.validate()?;
        Ok(l)
    }

    /// Generalization labels: 1 = easy (the gold model classifies the sample correctly).
    pub fn easy_hard(easy: &[bool], ids: Vec<u64>) -> Result<Self, ArtifactError> {
        Labels::new(easy.iter().map(|&e| u32::from(e)).collect(), ids, vec!["hard".into(), "easy".into()])
    }

    /// Checks that the parts fit together.
    pub fn validate(&self) -> Result<(), ArtifactError> {
        self.problems().map_err(ArtifactError::Inconsistent)
    }

    fn problems(&self) -> Result<(), String> {
        if self.labels.len() != self.ids.len() {
            return Err(format!("{} labels for {} ids", self.labels.len(), self.ids.len()));
        }
        if let Some(l) = self.labels.iter().find(|l| **l as usize >= self.names.len()) {
            return Err(format!("label {l} has no name (names: {:?})", self.names));
        }
        let mut seen = HashSet::with_capacity(self.ids.len());
        if let Some(dup) = self.ids.iter().find(|id| !seen.insert(**id)) {
            return Err(format!("sample id {dup} appears more than once"));
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The label of each id in `ids` (an error names the first id that has none).
    pub fn aligned_to(&self, ids: &[u64]) -> Result<Vec<u32>, ArtifactError> {
        let index: std::collections::HashMap<u64, u32> =
            self.ids.iter().copied().zip(self.labels.iter().copied()).collect();
        ids.iter()
            .map(|id| {
                index
                    .get(id)
                    .copied()
                    .ok_or_else(|| ArtifactError::Inconsistent(format!("sample id {id} has no label")))
            })
            .collect()
    }

    pub fn write(&self, path: &Path) -> Result<(), ArtifactError> {
        self.validate().map_err(|e| e.at(path))?;
        ContainerWriter::new(ArtifactKind::Labels)
            .meta_json(META_NAMES, &self.names)
            .u32("labels", &self.labels)
            .u64("ids", &self.ids)
            .write(path)
    }

    pub fn read(path: &Path) -> Result<Labels, ArtifactError> {
        let c = Container::read(path, ArtifactKind::Labels)?;
        let names: Vec<String> = c
            .meta_json(META_NAMES)?
            .ok_or_else(|| ArtifactError::invalid(path, "metadata `tmu.label_names` is missing"))?;
        let l = Labels { labels: c.u32_vec("labels")?, ids: c.u64_vec("ids")?, names };
        l.validate().map_err(|e| e.at(path))?;
        Ok(l)
    }
}

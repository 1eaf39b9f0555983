//! Feature artifacts: f32 values `[N, F]` per sample id, with a name per column.

use std::collections::HashSet;
use std::path::Path;

use super::{ArtifactError, Container, ContainerWriter};
use crate::stage::ArtifactKind;

const META_NAMES: &str = "tmu.feature_names";

/// Per-sample feature rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Features {
    /// Row-major `[N, F]`.
    pub values: Vec<f32>,
    pub ids: Vec<u64>,
    /// One name per column (`df`, `af`, `cf`, ...).
    pub names: Vec<String>,
}

impl Features {
    pub fn new(values: Vec<f32>, ids: Vec<u64>, names: Vec<String>) -> Result<Self, ArtifactError> {
        let f = Features { values, ids, names };
        f.validate()?;
        Ok(f)
    }

    /// Checks that the parts fit together.
    pub fn validate(&self) -> Result<(), ArtifactError> {
        self.problems().map_err(ArtifactError::Inconsistent)
    }

    fn problems(&self) -> Result<(), String> {
        let (n, f) = (self.ids.len(), self.names.len());
        if f == 0 {
            return Err("a features artifact needs at least one column".to_string());
        }
        if self.values.len() != n * f {
            return Err(format!("{} values for {n} rows of {f} features", self.values.len()));
        }
        let mut seen = HashSet::with_capacity(n);
        if let Some(dup) = self.ids.iter().find(|id| !seen.insert(**id)) {
            return Err(format!("sample id {dup} appears more than once"));
        }
        Ok(())
    }

    pub fn rows(&self) -> usize {
        self.ids.len()
    }

    pub fn cols(&self) -> usize {
        self.names.len()
    }

    pub fn row(&self, i: usize) -> &[f32] {
        let f = self.cols();
        &self.values[i * f..(i + 1) * f]
    }

    /// Column `j` as a vector.
    pub fn column(&self, j: usize) -> Vec<f32> {
        (0..self.rows()).map(|i| self.values[i * self.cols() + j]).collect()
    }

    /// Joins feature sets column-wise by sample id (rows in the order of the first set).
    /// Every set must hold exactly the same ids.
    pub fn join(parts: &[&Features]) -> Result<Features, ArtifactError> {
        let first = parts.first().ok_or("nothing to join")?;
        let mut names = Vec::new();
        let mut positions = Vec::new();
        for p in parts {
            if p.rows() != first.rows() {
                return Err(format!("feature sets have {} and {} rows", first.rows(), p.rows()).into());
            }
            let index: std::collections::HashMap<u64, usize> =
                p.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
            let pos = first
                .ids
                .iter()
                .map(|id| {
                    index.get(id).copied().ok_or_else(|| format!("sample id {id} missing from features {:?}", p.names))
                })
                .collect::<Result<Vec<_>, _>>()?;
            positions.push(pos);
            names.extend(p.names.iter().cloned());
        }
        let mut values = Vec::with_capacity(first.rows() * names.len());
        for i in 0..first.rows() {
            for (p, pos) in parts.iter().zip(&positions) {
                values.extend_from_slice(p.row(pos[i]));
            }
        }
        Features::new(values, first.ids.clone(), names)
    }

    pub fn write(&self, path: &Path) -> Result<(), ArtifactError> {
        self.validate().map_err(|e| e.at(path))?;
        ContainerWriter::new(ArtifactKind::Features)
            .meta_json(META_NAMES, &self.names)
            .f32("values", vec![self.rows(), self.cols()], &self.values)
            .u64("ids", &self.ids)
            .write(path)
    }

    pub fn read(path: &Path) -> Result<Features, ArtifactError> {
        let c = Container::read(path, ArtifactKind::Features)?;
        let (shape, values) = c.f32_tensor("values", 2)?;
        let names: Vec<String> = c
            .meta_json(META_NAMES)?
            .ok_or_else(|| ArtifactError::invalid(path, "metadata `tmu.feature_names` is missing"))?;
        if shape[1] != names.len() {
            return Err(ArtifactError::invalid(
                path,
                format!("{} columns but {} feature names", shape[1], names.len()),
            ));
        }
        let f = Features { values, ids: c.u64_vec("ids")?, names };
        f.validate().map_err(|e| e.at(path))?;
        Ok(f)
    }
}

//! Dataset artifacts: u8 images `[N,C,H,W]`, u32 labels, u64 sample ids, class names and statistics.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{ArtifactError, Container, ContainerWriter};
use crate::stage::ArtifactKind;

/// Everything about a data set that is not per-sample.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DatasetMeta {
    /// Class names; `labels` index into it.
    pub classes: Vec<String>,
    /// Per-channel mean of the pixels scaled to `[0, 1]` (used to normalise model inputs).
    pub mean: Vec<f32>,
    /// Per-channel standard deviation of the pixels scaled to `[0, 1]`.
    pub std: Vec<f32>,
    /// Where the data came from (`cifar10:/data/cifar-10-batches-bin`, `digits (embedded)`).
    pub source: String,
    /// Class names of each extra label column (for example CIFAR-100's `fine` labels kept under
    /// Super20 coarse labels).
    #[serde(default)]
    pub extra_label_classes: BTreeMap<String, Vec<String>>,
    /// Per sample id, the image file's path relative to the data set's root (image folders and
    /// VGGFace2, `/`-separated), so that a deletion request can name files; empty when the data
    /// did not come from files.
    #[serde(default)]
    pub files: Vec<String>,
}

/// A labelled image data set held in memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// N*C*H*W bytes, sample-major, channel-planar (NCHW).
    pub images: Vec<u8>,
    /// `[N, C, H, W]`.
    pub shape: [usize; 4],
    pub labels: Vec<u32>,
    /// Stable sample ids: every feature, label and metric row traces back to a sample.
    pub ids: Vec<u64>,
    /// Extra per-sample label columns, by name (see [`DatasetMeta::extra_label_classes`]).
    pub extra_labels: BTreeMap<String, Vec<u32>>,
    pub meta: DatasetMeta,
}

const META_CLASSES: &str = "tmu.classes";
const META_MEAN: &str = "tmu.mean";
const META_STD: &str = "tmu.std";
const META_SOURCE: &str = "tmu.source";
const META_EXTRA: &str = "tmu.extra_label_classes";
const META_FILES: &str = "tmu.files";

impl Dataset {
    /// Builds a data set and checks that it is consistent.
    pub fn new(
        images: Vec<u8>,
        shape: [usize; 4],
        labels: Vec<u32>,
        ids: Vec<u64>,
        meta: DatasetMeta,
    ) -> Result<Self, ArtifactError> {
        let d = Dataset { images, shape, labels, ids, extra_labels: BTreeMap::new(), meta };
        d.validate()?;
        Ok(d)
    }

    /// Checks shapes, label ranges, id uniqueness and statistics; the message says what is wrong.
    /// Checks that the parts fit together.
    pub fn validate(&self) -> Result<(), ArtifactError> {
        self.problems().map_err(ArtifactError::Inconsistent)
    }

    fn problems(&self) -> Result<(), String> {
        let [n, c, h, w] = self.shape;
        if self.images.len() != n * c * h * w {
            return Err(format!(
                "images hold {} bytes, shape {:?} needs {}",
                self.images.len(),
                self.shape,
                n * c * h * w
            ));
        }
        if self.labels.len() != n {
            return Err(format!("{} labels for {n} images", self.labels.len()));
        }
        if self.ids.len() != n {
            return Err(format!("{} ids for {n} images", self.ids.len()));
        }
        let k = self.meta.classes.len();
        if let Some((i, l)) = self.labels.iter().enumerate().find(|(_, l)| **l as usize >= k) {
            return Err(format!("label {l} of sample {i} (id {}) is out of range: there are {k} classes", self.ids[i]));
        }
        let mut seen = HashSet::with_capacity(n);
        if let Some(dup) = self.ids.iter().find(|id| !seen.insert(**id)) {
            return Err(format!("sample id {dup} appears more than once"));
        }
        if self.meta.mean.len() != c || self.meta.std.len() != c {
            return Err(format!(
                "mean/std have {}/{} entries for {c} channels",
                self.meta.mean.len(),
                self.meta.std.len()
            ));
        }
        if let Some(s) = self.meta.std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(format!("channel standard deviation {s} is not positive"));
        }
        for (name, col) in &self.extra_labels {
            let classes = self.meta.extra_label_classes.get(name).map_or(0, Vec::len);
            if col.len() != n {
                return Err(format!("extra label `{name}` has {} entries for {n} images", col.len()));
            }
            if let Some(l) = col.iter().find(|l| **l as usize >= classes) {
                return Err(format!("extra label `{name}` value {l} is out of range: there are {classes} classes"));
            }
        }
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.shape[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn num_classes(&self) -> usize {
        self.meta.classes.len()
    }

    /// C*H*W: the bytes of one image.
    pub fn image_len(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }

    /// The bytes of image `i` (CHW).
    pub fn image(&self, i: usize) -> &[u8] {
        let n = self.image_len();
        &self.images[i * n..(i + 1) * n]
    }

    /// The samples at `indices`, in that order, with everything else kept.
    pub fn subset(&self, indices: &[usize]) -> Dataset {
        let n = self.image_len();
        let mut images = Vec::with_capacity(indices.len() * n);
        for &i in indices {
            images.extend_from_slice(self.image(i));
        }
        Dataset {
            images,
            shape: [indices.len(), self.shape[1], self.shape[2], self.shape[3]],
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            ids: indices.iter().map(|&i| self.ids[i]).collect(),
            extra_labels: self
                .extra_labels
                .iter()
                .map(|(k, v)| (k.clone(), indices.iter().map(|&i| v[i]).collect()))
                .collect(),
            meta: self.meta.clone(),
        }
    }

    /// Concatenates data sets of the same image shape and classes (metadata of the first is kept).
    pub fn concat(parts: &[&Dataset]) -> Result<Dataset, ArtifactError> {
        let first = parts.first().ok_or("nothing to concatenate")?;
        let mut out = Dataset {
            images: Vec::new(),
            shape: [0, first.shape[1], first.shape[2], first.shape[3]],
            labels: Vec::new(),
            ids: Vec::new(),
            extra_labels: first.extra_labels.keys().map(|k| (k.clone(), Vec::new())).collect(),
            meta: first.meta.clone(),
        };
        for p in parts {
            if p.shape[1..] != first.shape[1..] {
                return Err(format!("image shapes differ: {:?} and {:?}", &first.shape[1..], &p.shape[1..]).into());
            }
            if p.meta.classes != first.meta.classes {
                return Err("class lists differ".into());
            }
            out.images.extend_from_slice(&p.images);
            out.labels.extend_from_slice(&p.labels);
            out.ids.extend_from_slice(&p.ids);
            out.shape[0] += p.len();
            for (k, v) in out.extra_labels.iter_mut() {
                let col = p.extra_labels.get(k).ok_or_else(|| format!("extra label `{k}` missing in a part"))?;
                v.extend_from_slice(col);
            }
        }
        out.validate()?;
        Ok(out)
    }

    /// Number of samples per class.
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.num_classes()];
        for &l in &self.labels {
            counts[l as usize] += 1;
        }
        counts
    }

    /// Writes the artifact atomically.
    pub fn write(&self, path: &Path) -> Result<(), ArtifactError> {
        self.validate().map_err(|e| e.at(path))?;
        let mut w = ContainerWriter::new(ArtifactKind::Dataset);
        w.meta_json(META_CLASSES, &self.meta.classes)
            .meta_json(META_MEAN, &self.meta.mean)
            .meta_json(META_STD, &self.meta.std)
            .meta(META_SOURCE, self.meta.source.clone())
            .meta_json(META_EXTRA, &self.meta.extra_label_classes);
        if !self.meta.files.is_empty() {
            w.meta_json(META_FILES, &self.meta.files);
        }
        w.u8("images", self.shape.to_vec(), &self.images).u32("labels", &self.labels).u64("ids", &self.ids);
        for (name, col) in &self.extra_labels {
            w.u32(&format!("labels.{name}"), col);
        }
        w.write(path)
    }

    /// Reads and validates a dataset artifact; errors name the file and what is wrong.
    pub fn read(path: &Path) -> Result<Dataset, ArtifactError> {
        let c = Container::read(path, ArtifactKind::Dataset)?;
        let (shape, images) = c.u8_tensor("images", 4)?;
        let meta = DatasetMeta {
            classes: c
                .meta_json(META_CLASSES)?
                .ok_or_else(|| ArtifactError::invalid(path, "metadata `tmu.classes` is missing"))?,
            mean: c
                .meta_json(META_MEAN)?
                .ok_or_else(|| ArtifactError::invalid(path, "metadata `tmu.mean` is missing"))?,
            std: c.meta_json(META_STD)?.ok_or_else(|| ArtifactError::invalid(path, "metadata `tmu.std` is missing"))?,
            source: c.meta(META_SOURCE).unwrap_or_default().to_string(),
            extra_label_classes: c.meta_json(META_EXTRA)?.unwrap_or_default(),
            files: c.meta_json(META_FILES)?.unwrap_or_default(),
        };
        let mut extra_labels = BTreeMap::new();
        for name in meta.extra_label_classes.keys() {
            extra_labels.insert(name.clone(), c.u32_vec(&format!("labels.{name}"))?);
        }
        let d = Dataset {
            images,
            shape: [shape[0], shape[1], shape[2], shape[3]],
            labels: c.u32_vec("labels")?,
            ids: c.u64_vec("ids")?,
            extra_labels,
            meta,
        };
        d.validate().map_err(|e| e.at(path))?;
        Ok(d)
    }
}

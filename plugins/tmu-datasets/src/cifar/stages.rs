//! The stages `dataset.cifar10` and `dataset.cifar100`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::bail;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::{Dataset, DatasetMeta};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use super::binary::{LabelByte, read_binary};
use super::layout::{Format, Layout, Variant, locate};
use super::python::read_python;
use super::{Records, binary, python};
use crate::output::{set_train_stats, write_train_test};
use crate::paths::resolve_root;

/// Test sample ids start here (train ids are the record index 0..50,000 in file order).
pub const TEST_ID_OFFSET: u64 = 50_000;

/// Which CIFAR files to read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum CifarFormat {
    /// The binary version if present, else torchvision's python version.
    #[default]
    Auto,
    /// The official binary version (`*.bin`).
    Binary,
    /// torchvision's python version (pickled batches).
    Python,
}

/// The folder both CIFAR stages read by default.
const DEFAULT_ROOT: &str = "data";

/// Config of `dataset.cifar10`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Cifar10Config {
    /// Folder holding `cifar-10-batches-bin/` (or `cifar-10-batches-py/`), or that folder itself.
    /// A relative path is resolved against the current directory.
    pub root: PathBuf,
    /// `auto` (binary if present, else python), `binary` or `python`.
    pub format: CifarFormat,
    /// Read at most this many images of each split (the first ones in file order), for quick runs.
    #[schemars(range(min = 1))]
    pub limit: Option<usize>,
}

impl Default for Cifar10Config {
    fn default() -> Self {
        Cifar10Config { root: PathBuf::from(DEFAULT_ROOT), format: CifarFormat::default(), limit: None }
    }
}

/// The labels a CIFAR-100 data set carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Cifar100Labels {
    /// The 100 fine classes; the superclass is kept as the extra label column `coarse`.
    Fine,
    /// The 20 superclasses, nothing else.
    Coarse,
    /// The paper's "Super20": the 20 superclasses as labels, the fine class kept as the extra
    /// label column `fine` (for forgetting one fine class inside its superclass).
    Super20,
}

/// Config of `dataset.cifar100`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct Cifar100Config {
    /// Folder holding `cifar-100-binary/` (or `cifar-100-python/`), or that folder itself.
    /// A relative path is resolved against the current directory.
    pub root: PathBuf,
    /// `auto` (binary if present, else python), `binary` or `python`.
    pub format: CifarFormat,
    /// `fine` (100 classes), `coarse` (20 superclasses) or `super20` (20 superclasses as labels
    /// plus the fine class as the extra column `fine`).
    pub labels: Cifar100Labels,
    /// Read at most this many images of each split (the first ones in file order), for quick runs.
    #[schemars(range(min = 1))]
    pub limit: Option<usize>,
}

impl Default for Cifar100Config {
    fn default() -> Self {
        Cifar100Config {
            root: PathBuf::from(DEFAULT_ROOT),
            format: CifarFormat::default(),
            labels: Cifar100Labels::Fine,
            limit: None,
        }
    }
}

/// Reads both splits of a located data set: label columns per `labels` (binary: label byte
/// order; python: the pickle keys).
fn read_splits(
    ctx: &Context,
    layout: &Layout,
    labels: &[(&str, LabelByte)],
    limit: Option<usize>,
) -> anyhow::Result<(Records, Records)> {
    let bytes: Vec<LabelByte> = labels.iter().map(|(_, l)| *l).collect();
    let read = |files: &[PathBuf]| match layout.format {
        Format::Binary => read_binary(files, &bytes, limit),
        Format::Python => read_python(files, labels, limit),
    };
    ctx.progress(0, 2, "reading the train split");
    let train = read(&layout.train)?;
    ctx.check_cancelled()?;
    ctx.progress(1, 2, "reading the test split");
    let test = read(&layout.test)?;
    ctx.progress(2, 2, "read");
    if train.len() as u64 > TEST_ID_OFFSET {
        bail!(
            "the train split in {} holds {} images, more than CIFAR's {TEST_ID_OFFSET}: not the official files",
            layout.dir.display(),
            train.len()
        );
    }
    Ok((train, test))
}

fn names(layout: &Layout, index: usize, pickle_key: &str, expected: usize) -> anyhow::Result<Vec<String>> {
    match layout.format {
        Format::Binary => binary::read_names(&layout.names[index], expected),
        Format::Python => python::read_names(&layout.names[0], pickle_key, expected),
    }
}

/// Builds a data set from records: `label` indexes the label column, `extra` names extra columns.
fn to_dataset(
    records: Records,
    label: usize,
    extra: &[(&str, usize)],
    first_id: u64,
    meta: &DatasetMeta,
    path: &Path,
) -> anyhow::Result<Dataset> {
    let n = records.len();
    let mut columns = records.columns;
    let extra_labels: BTreeMap<String, Vec<u32>> =
        extra.iter().map(|(name, col)| (name.to_string(), std::mem::take(&mut columns[*col]))).collect();
    let labels = std::mem::take(&mut columns[label]);
    let d = Dataset {
        images: records.images,
        shape: [n, 3, 32, 32],
        labels,
        ids: (first_id..first_id + n as u64).collect(),
        extra_labels,
        meta: DatasetMeta { mean: vec![0.0; 3], std: vec![1.0; 3], ..meta.clone() },
    };
    d.validate().map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok(d)
}

fn write_splits(ctx: &mut Context, mut train: Dataset, mut test: Dataset, layout: &Layout) -> anyhow::Result<()> {
    set_train_stats(&mut train, &mut test);
    write_train_test(ctx, &train, &test)?;
    ctx.summary("format", if layout.format == Format::Binary { "binary" } else { "python" });
    ctx.summary("folder", layout.dir.display().to_string());
    Ok(())
}

fn source(variant: Variant, layout: &Layout) -> String {
    let format = if layout.format == Format::Binary { "binary" } else { "python" };
    format!("{}:{} ({format})", variant.title().to_lowercase().replace('-', ""), layout.dir.display())
}

/// The stage `dataset.cifar10`.
#[derive(Debug)]
pub struct Cifar10;

impl Stage for Cifar10 {
    const KIND: &'static str = "dataset.cifar10";
    type Config = Cifar10Config;

    fn signature() -> Signature {
        Signature::new(
            "CIFAR-10 from the files you have (the official binary version or torchvision's python \
             version; never downloaded): 50,000 train and 10,000 test images, 3x32x32, 10 classes",
        )
        .output("train", ArtifactKind::Dataset, "the five training batches, ids 0..50,000 in file order")
        .output(
            "test",
            ArtifactKind::Dataset,
            "the test batch, ids 50,000..60,000; mean/std of the train split",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("CIFAR-10 under ./data (data/cifar-10-batches-bin or data/cifar-10-batches-py)", ""),
            Example::new("a quick run on the first 2,000 / 500 images", "root = \"/data/cifar\"\nlimit = 2000"),
            Example::new("insist on torchvision's python version", "root = \"/data/cifar\"\nformat = \"python\""),
        ]
    }

    fn preflight(config: &Cifar10Config) -> anyhow::Result<()> {
        locate(&resolve_root(&config.root)?, Variant::Cifar10, config.format).map(drop)
    }

    fn run(ctx: &mut Context, _inputs: &Inputs, config: Cifar10Config) -> anyhow::Result<()> {
        let layout = locate(&resolve_root(&config.root)?, Variant::Cifar10, config.format)?;
        let label = LabelByte { name: "label", classes: 10 };
        let (train, test) = read_splits(ctx, &layout, &[("labels", label)], config.limit)?;
        let meta = DatasetMeta {
            classes: names(&layout, 0, "label_names", 10)?,
            source: source(Variant::Cifar10, &layout),
            ..DatasetMeta::default()
        };
        let train = to_dataset(train, 0, &[], 0, &meta, &layout.dir)?;
        let test = to_dataset(test, 0, &[], TEST_ID_OFFSET, &meta, &layout.dir)?;
        write_splits(ctx, train, test, &layout)
    }
}

/// The stage `dataset.cifar100`.
#[derive(Debug)]
pub struct Cifar100;

impl Stage for Cifar100 {
    const KIND: &'static str = "dataset.cifar100";
    type Config = Cifar100Config;

    fn signature() -> Signature {
        Signature::new(
            "CIFAR-100 from the files you have (the official binary version or torchvision's python \
             version; never downloaded): 50,000 train and 10,000 test images, 3x32x32, with fine (100), \
             coarse (20) or Super20 labels",
        )
        .output("train", ArtifactKind::Dataset, "the training images, ids 0..50,000 in file order")
        .output(
            "test",
            ArtifactKind::Dataset,
            "the test images, ids 50,000..60,000; mean/std of the train split",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("CIFAR-100 with its 100 fine classes, under ./data", ""),
            Example::new(
                "Super20: superclasses as labels, the fine class kept for sub-class forgetting",
                "root = \"/data/cifar\"\nlabels = \"super20\"",
            ),
            Example::new("the 20 superclasses only, first 5,000 images", "labels = \"coarse\"\nlimit = 5000"),
        ]
    }

    fn preflight(config: &Cifar100Config) -> anyhow::Result<()> {
        locate(&resolve_root(&config.root)?, Variant::Cifar100, config.format).map(drop)
    }

    fn run(ctx: &mut Context, _inputs: &Inputs, config: Cifar100Config) -> anyhow::Result<()> {
        let layout = locate(&resolve_root(&config.root)?, Variant::Cifar100, config.format)?;
        let coarse = LabelByte { name: "coarse label", classes: 20 };
        let fine = LabelByte { name: "fine label", classes: 100 };
        // Binary records: coarse byte, then fine byte; the python keys in the same order.
        let (train, test) =
            read_splits(ctx, &layout, &[("coarse_labels", coarse), ("fine_labels", fine)], config.limit)?;
        let coarse_names = names(&layout, 0, "coarse_label_names", 20)?;
        let fine_names = names(&layout, 1, "fine_label_names", 100)?;
        let (classes, label, extra_name, extra_col, extra_classes) = match config.labels {
            Cifar100Labels::Fine => (fine_names, 1, Some("coarse"), 0, coarse_names),
            Cifar100Labels::Coarse => (coarse_names, 0, None, 0, Vec::new()),
            Cifar100Labels::Super20 => (coarse_names, 0, Some("fine"), 1, fine_names),
        };
        let mut meta = DatasetMeta { classes, source: source(Variant::Cifar100, &layout), ..DatasetMeta::default() };
        let extra: Vec<(&str, usize)> = extra_name.map(|n| (n, extra_col)).into_iter().collect();
        if let Some(n) = extra_name {
            meta.extra_label_classes.insert(n.to_string(), extra_classes);
        }
        let train = to_dataset(train, label, &extra, 0, &meta, &layout.dir)?;
        let test = to_dataset(test, label, &extra, TEST_ID_OFFSET, &meta, &layout.dir)?;
        write_splits(ctx, train, test, &layout)
    }
}

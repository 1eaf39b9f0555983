//! `dataset.image-folder`: a user's own images, one folder per class.

use std::path::{Path, PathBuf};

use anyhow::bail;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::{Dataset, DatasetMeta};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::imaging::{
    Channels, DecodeJob, Fit, MAX_ALLOC_MB, MAX_DIMENSION, OnCorrupt, Prep, ResizeFilter, decode_all, image_files,
    image_prep,
};
use crate::output::{set_train_stats, write_train_test};
use crate::paths::{file_name, relative_name, resolve_root, sorted_subdirs};
use crate::rng::Rng;
use crate::split::stratified;

/// Config of `dataset.image-folder`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ImageFolderConfig {
    /// Folder with one sub-folder of images (`.jpg`, `.jpeg`, `.png`) per class; the sorted folder
    /// names are the class names. A relative path is resolved against the current directory.
    pub root: PathBuf,
    /// A separate test folder with the same class folders (a subset of them is fine); without it
    /// the test split is drawn from `root` by `test_fraction`.
    pub test: Option<PathBuf>,
    /// Fraction of each class that goes to `test` when there is no `test` folder (seeded, stratified).
    #[schemars(range(min = 0.01, max = 0.99))]
    pub test_fraction: f64,
    /// Output images are `size` x `size` pixels.
    #[schemars(range(min = 8, max = 1024))]
    pub size: u32,
    /// `rgb` (3 channels) or `grey` (1 channel of luma).
    pub channels: Channels,
    /// `center-crop` (largest centred square, then resize) or `stretch`.
    pub fit: Fit,
    /// Resampling filter: `nearest`, `triangle`, `catmull-rom`, `gaussian`, `lanczos3`.
    pub filter: ResizeFilter,
    /// `error` (stop, naming the file) or `skip` (leave out and count) for undecodable images.
    pub on_corrupt: OnCorrupt,
    /// Refuse images wider or taller than this many pixels (decompression-bomb guard).
    #[schemars(range(min = 1, max = 65535))]
    pub max_dimension: u32,
    /// Refuse image files, and decoded images, larger than this many MiB.
    #[schemars(range(min = 1, max = 4096))]
    pub max_alloc_mb: u64,
}

impl Default for ImageFolderConfig {
    fn default() -> Self {
        ImageFolderConfig {
            root: PathBuf::from("data/images"),
            test: None,
            test_fraction: 0.2,
            size: 32,
            channels: Channels::Rgb,
            fit: Fit::default(),
            filter: ResizeFilter::default(),
            on_corrupt: OnCorrupt::default(),
            max_dimension: MAX_DIMENSION,
            max_alloc_mb: MAX_ALLOC_MB,
        }
    }
}

fn layout_help(root: &Path) -> String {
    format!(
        "put one folder per class under {root}: {root}/<class>/<image>.jpg (or .jpeg, .png), for example \
         {root}/cat/001.jpg and {root}/dog/001.png; a relative `root` is resolved against the current directory",
        root = root.display()
    )
}

impl ImageFolderConfig {
    /// Checks the options and that the folders exist: (preprocessing, root, test folder).
    fn checked(&self) -> anyhow::Result<(Prep, PathBuf, Option<PathBuf>)> {
        let prep = image_prep(self.size, self.channels, self.fit, self.filter, self.max_dimension, self.max_alloc_mb)?;
        let root = resolve_root(&self.root)?;
        if !root.is_dir() {
            return Err(tmu_plugin::with_help(
                format!("image folder {} not found", root.display()),
                layout_help(&root),
            ));
        }
        if sorted_subdirs(&root)?.is_empty() {
            return Err(tmu_plugin::with_help(format!("{} has no class folders", root.display()), layout_help(&root)));
        }
        let test = self.test.as_deref().map(resolve_root).transpose()?;
        if let Some(t) = test.as_ref().filter(|t| !t.is_dir()) {
            return Err(tmu_plugin::with_help(
                format!("test folder {} not found", t.display()),
                "`test` names a folder with the same class folders as `root`; leave it out to split `root`",
            ));
        }
        Ok((prep, root, test))
    }
}

/// Image files of each class folder of `dir`: (class name, files).
fn class_files(dir: &Path) -> anyhow::Result<Vec<(String, Vec<PathBuf>)>> {
    sorted_subdirs(dir)?.into_iter().map(|d| Ok((file_name(&d), image_files(&d)?))).collect()
}

/// The stage `dataset.image-folder`.
#[derive(Debug)]
pub struct ImageFolder;

impl Stage for ImageFolder {
    const KIND: &'static str = "dataset.image-folder";
    type Config = ImageFolderConfig;

    fn signature() -> Signature {
        Signature::new(
            "your own images, one folder per class (`<root>/<class>/*.jpg|png`), resized to a square; \
             test images from a separate folder or a seeded stratified split",
        )
        .output("train", ArtifactKind::Dataset, "training images [N,C,size,size], classes = folder names")
        .output("test", ArtifactKind::Dataset, "test images; mean/std of the train split")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("./data/images/<class>/*.jpg, 20% held out for test, 32x32 RGB", ""),
            Example::new(
                "separate train and test folders, 64x64 grey",
                "root = \"/data/pets/train\"\ntest = \"/data/pets/test\"\nsize = 64\nchannels = \"grey\"",
            ),
            Example::new("skip unreadable images", "root = \"photos\"\non_corrupt = \"skip\"\nfit = \"stretch\""),
        ]
    }

    fn preflight(config: &ImageFolderConfig) -> anyhow::Result<()> {
        config.checked().map(drop)
    }

    fn run(ctx: &mut Context, _inputs: &Inputs, config: ImageFolderConfig) -> anyhow::Result<()> {
        let (prep, root, test_root) = config.checked()?;
        let train_classes = class_files(&root)?;
        if let Some((name, _)) = train_classes.iter().find(|(_, files)| files.is_empty()) {
            return Err(tmu_plugin::with_help(
                format!("class folder {} has no images (.jpg, .jpeg or .png)", root.join(name).display()),
                "put images in it or remove it",
            ));
        }
        let classes: Vec<String> = train_classes.iter().map(|(n, _)| n.clone()).collect();
        let mut jobs = Vec::new();
        let mut labels = Vec::new();
        let mut from_test = Vec::new();
        for (k, (_, files)) in train_classes.iter().enumerate() {
            for f in files {
                jobs.push(DecodeJob { path: f.clone(), crop: None });
                labels.push(k as u32);
                from_test.push(false);
            }
        }
        if let Some(test_root) = &test_root {
            for (name, files) in class_files(test_root)? {
                let Some(k) = classes.iter().position(|c| *c == name) else {
                    bail!(
                        "test class folder {} has no counterpart in {} (classes: {})",
                        test_root.join(&name).display(),
                        root.display(),
                        classes.join(", ")
                    );
                };
                for f in files {
                    jobs.push(DecodeJob { path: f, crop: None });
                    labels.push(k as u32);
                    from_test.push(true);
                }
            }
        }

        let decoded = decode_all(ctx, &jobs, &prep, config.on_corrupt)?;
        let n = decoded.kept.len();
        let s = prep.size as usize;
        let c = prep.channels.count();
        // Sample id = decode job index, so `files[id]` names the sample's file (test-folder files
        // relative to the test folder).
        let files = jobs
            .iter()
            .zip(&from_test)
            .map(|(j, &t)| relative_name(&j.path, if t { test_root.as_deref().unwrap_or(&root) } else { &root }))
            .collect();
        let meta = DatasetMeta {
            classes,
            mean: vec![0.0; c],
            std: vec![1.0; c],
            source: format!("image-folder:{}", root.display()),
            files,
            ..DatasetMeta::default()
        };
        let all = Dataset::new(
            decoded.pixels,
            [n, c, s, s],
            decoded.kept.iter().map(|&i| labels[i]).collect(),
            decoded.kept.iter().map(|&i| i as u64).collect(),
            meta,
        )
        .map_err(|e| anyhow::anyhow!("{}: {e}", root.display()))?;
        let (train_idx, test_idx) = if test_root.is_some() {
            (0..n).partition(|&i| !from_test[decoded.kept[i]])
        } else {
            stratified(&all.labels, config.test_fraction, &mut Rng::new(ctx.seed_for("split")))
        };
        let mut train = all.subset(&train_idx);
        let mut test = all.subset(&test_idx);
        set_train_stats(&mut train, &mut test);
        write_train_test(ctx, &train, &test)?;
        ctx.summary("skipped_images", decoded.skipped.len());
        ctx.summary("skipped_files", decoded.skipped.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>());
        Ok(())
    }
}

//! The stage `dataset.vggface2`.

use std::collections::HashSet;
use std::path::PathBuf;

use anyhow::bail;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::{Dataset, DatasetMeta};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use super::boxes::{read_boxes, read_identity_names};
use super::scan::{cap_images, named_identities, scan_identities, top_identities};
use crate::imaging::{
    Channels, DecodeJob, Fit, MAX_ALLOC_MB, MAX_DIMENSION, OnCorrupt, Prep, ResizeFilter, decode_all, image_prep,
};
use crate::output::{set_train_stats, write_train_test};
use crate::paths::resolve_root;
use crate::rng::Rng;
use crate::split::stratified;

/// Which identities become the classes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Identities {
    /// The N identities with most images (ties by name); classes in name order.
    Top(#[schemars(range(min = 1))] usize),
    /// These identity folders (`"n000002"`), class k being the k-th name.
    List(Vec<String>),
}

/// Whether images are cropped to their face boxes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Crop {
    /// Crop to the boxes if the box file exists (an image without a box is used whole).
    Auto,
    /// Crop to the boxes; a missing box file or box is an error.
    Boxes,
    /// Use whole images.
    None,
}

/// Config of `dataset.vggface2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct VggFace2Config {
    /// VGGFace2 folder holding `<folder>/<identity>/*.jpg` (and optionally `identity_meta.csv`,
    /// `bb_landmark/`). A relative path is resolved against the current directory.
    pub root: PathBuf,
    /// The sub-folder the identities are taken from (`train` or `test`; VGGFace2's test
    /// identities are disjoint from its train identities, so train/test here split images).
    pub folder: String,
    /// The number of identities with most images (`10`) or a list of identity folders.
    pub identities: Identities,
    /// Use at most this many images per identity (a seeded random choice).
    #[schemars(range(min = 1))]
    pub max_images_per_identity: Option<usize>,
    /// Fraction of each identity's images that goes to `test` (seeded, stratified).
    #[schemars(range(min = 0.01, max = 0.99))]
    pub test_fraction: f64,
    /// `auto` (crop to boxes when the box file exists), `boxes` (must crop) or `none`.
    pub crop: Crop,
    /// Box file (`NAME_ID,X,Y,W,H`, NAME_ID = `<identity>/<image stem>`), relative to `root`;
    /// default `bb_landmark/loose_bb_<folder>.csv`.
    pub boxes: Option<PathBuf>,
    /// Grow each box by this fraction of its width and height (half on each side).
    #[schemars(range(min = 0.0, max = 2.0))]
    pub margin: f32,
    /// Output images are `size` x `size` pixels, 3 channels.
    #[schemars(range(min = 8, max = 1024))]
    pub size: u32,
    /// `center-crop` (largest centred square of the face region) or `stretch`.
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

impl Default for VggFace2Config {
    fn default() -> Self {
        VggFace2Config {
            root: PathBuf::from("data/vggface2"),
            folder: "train".into(),
            identities: Identities::Top(10),
            max_images_per_identity: None,
            test_fraction: 0.2,
            crop: Crop::Auto,
            boxes: None,
            margin: 0.0,
            size: 112,
            fit: Fit::default(),
            filter: ResizeFilter::default(),
            on_corrupt: OnCorrupt::default(),
            max_dimension: MAX_DIMENSION,
            max_alloc_mb: MAX_ALLOC_MB,
        }
    }
}

impl VggFace2Config {
    /// Checks the options and that the image folder (and a required box file) exist:
    /// (preprocessing, root, image folder).
    fn checked(&self) -> anyhow::Result<(Prep, PathBuf, PathBuf)> {
        if self.max_images_per_identity == Some(0) {
            bail!("`max_images_per_identity` must be at least 1");
        }
        match &self.identities {
            Identities::Top(0) => bail!("`identities` must be at least 1"),
            Identities::List(names) if names.is_empty() => bail!("`identities` lists no identity"),
            _ => {}
        }
        let prep = image_prep(self.size, Channels::Rgb, self.fit, self.filter, self.max_dimension, self.max_alloc_mb)?;
        let root = resolve_root(&self.root)?;
        let dir = root.join(&self.folder);
        if !dir.is_dir() {
            return Err(tmu_plugin::with_help(
                format!("no VGGFace2 images: {} is not a folder", dir.display()),
                layout_help(&root, &self.folder),
            ));
        }
        if self.crop == Crop::Boxes && !self.box_file(&root).is_file() {
            return Err(tmu_plugin::with_help(
                format!("box file {} not found (`crop = \"boxes\"`)", self.box_file(&root).display()),
                "set `boxes` to the CSV of NAME_ID,X,Y,W,H rows, or use `crop = \"auto\"` or `\"none\"`",
            ));
        }
        Ok((prep, root, dir))
    }

    /// The bounding-box CSV: `boxes` (relative to `root`) or `bb_landmark/loose_bb_<folder>.csv`.
    fn box_file(&self, root: &std::path::Path) -> PathBuf {
        root.join(self.boxes.clone().unwrap_or_else(|| format!("bb_landmark/loose_bb_{}.csv", self.folder).into()))
    }
}

fn layout_help(root: &std::path::Path, folder: &str) -> String {
    format!(
        "put VGGFace2 so that {root}/{folder}/<identity>/<image>.jpg exists (for example \
         {root}/{folder}/n000002/0001_01.jpg), optionally with {root}/identity_meta.csv and \
         {root}/bb_landmark/loose_bb_{folder}.csv (NAME_ID,X,Y,W,H); a relative `root` is resolved \
         against the current directory. tmu never downloads data (see datasets/README.md)",
        root = root.display()
    )
}

/// The stage `dataset.vggface2`.
#[derive(Debug)]
pub struct VggFace2;

impl Stage for VggFace2 {
    const KIND: &'static str = "dataset.vggface2";
    type Config = VggFace2Config;

    fn signature() -> Signature {
        Signature::new(
            "VGGFace2 identities from the files you have (never downloaded): the N identities with \
             most images (or a list), face crops from the bounding-box file, resized, split per identity",
        )
        .output("train", ArtifactKind::Dataset, "training faces [N,3,size,size], one class per identity")
        .output(
            "test",
            ArtifactKind::Dataset,
            "test faces of the same identities; mean/std of the train split",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the paper's subset: 10 identities with most images, 112x112", ""),
            Example::new(
                "three named identities, 200 images each, 224x224 with a 10% margin",
                "root = \"/data/vggface2\"\nidentities = [\"n000002\", \"n000003\", \"n000004\"]\n\
                 max_images_per_identity = 200\nsize = 224\nmargin = 0.1",
            ),
            Example::new(
                "whole images, skipping corrupt files",
                "identities = 5\ncrop = \"none\"\non_corrupt = \"skip\"",
            ),
        ]
    }

    fn preflight(config: &VggFace2Config) -> anyhow::Result<()> {
        config.checked().map(drop)
    }

    fn run(ctx: &mut Context, _inputs: &Inputs, config: VggFace2Config) -> anyhow::Result<()> {
        let (prep, root, dir) = config.checked()?;
        ctx.progress(0, 0, "listing identities");
        let all = scan_identities(&dir)?;
        if all.is_empty() {
            return Err(tmu_plugin::with_help(
                format!("no identity folders in {}", dir.display()),
                layout_help(&root, &config.folder),
            ));
        }
        let mut chosen = match &config.identities {
            Identities::Top(n) => top_identities(all, *n, &dir)?,
            Identities::List(names) => named_identities(all, names, &dir)?,
        };
        cap_images(&mut chosen, config.max_images_per_identity, &mut Rng::new(ctx.seed_for("images")));

        let (boxes, box_file) = match config.crop {
            Crop::None => (None, None),
            Crop::Auto | Crop::Boxes => {
                let file = config.box_file(&root);
                if file.is_file() {
                    let names: HashSet<&str> = chosen.iter().map(|i| i.name.as_str()).collect();
                    (Some(read_boxes(&file, &names)?), Some(file))
                } else {
                    ctx.info(format!("no box file at {}: using whole images", file.display()));
                    (None, None)
                }
            }
        };

        let mut jobs = Vec::new();
        let mut labels = Vec::new();
        let mut without_box = 0usize;
        for (k, id) in chosen.iter().enumerate() {
            for path in &id.images {
                let crop = match &boxes {
                    None => None,
                    Some(b) => {
                        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
                        let key = format!("{}/{stem}", id.name);
                        match b.get(&key) {
                            Some(bx) => Some(bx.with_margin(config.margin)),
                            None if config.crop == Crop::Boxes => bail!(
                                "{} has no box for `{key}` ({})",
                                box_file.as_ref().map(|f| f.display().to_string()).unwrap_or_default(),
                                path.display()
                            ),
                            None => {
                                without_box += 1;
                                None
                            }
                        }
                    }
                };
                jobs.push(DecodeJob { path: path.clone(), crop });
                labels.push(k as u32);
            }
        }

        let decoded = decode_all(ctx, &jobs, &prep, config.on_corrupt)?;
        let labels: Vec<u32> = decoded.kept.iter().map(|&i| labels[i]).collect();
        let ids: Vec<u64> = decoded.kept.iter().map(|&i| i as u64).collect();
        let meta = DatasetMeta {
            classes: chosen.iter().map(|i| i.name.clone()).collect(),
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
            source: format!("vggface2:{}", dir.display()),
            // Sample id = decode job index; paths relative to the identity folders' parent, as in
            // VGGFace2's own `train_list.txt` (`n000002/0001_01.jpg`).
            files: jobs.iter().map(|j| crate::paths::relative_name(&j.path, &dir)).collect(),
            ..DatasetMeta::default()
        };
        if let Some(missing) = (0..chosen.len() as u32).find(|k| !labels.contains(k)) {
            bail!("every image of identity `{}` was skipped as corrupt", meta.classes[missing as usize]);
        }
        let s = prep.size as usize;
        let all = Dataset::new(decoded.pixels, [labels.len(), 3, s, s], labels, ids, meta.clone())
            .map_err(|e| anyhow::anyhow!("{}: {e}", dir.display()))?;
        let (train_idx, test_idx) = stratified(&all.labels, config.test_fraction, &mut Rng::new(ctx.seed_for("split")));
        let mut train = all.subset(&train_idx);
        let mut test = all.subset(&test_idx);
        set_train_stats(&mut train, &mut test);
        write_train_test(ctx, &train, &test)?;

        let meta_file = root.join("identity_meta.csv");
        if meta_file.is_file() {
            let names = read_identity_names(&meta_file)?;
            let named: serde_json::Map<String, serde_json::Value> =
                chosen.iter().filter_map(|i| names.get(&i.name).map(|n| (i.name.clone(), n.clone().into()))).collect();
            ctx.summary("identity_names", serde_json::Value::Object(named));
        }
        ctx.summary("identities", chosen.iter().map(|i| i.name.clone()).collect::<Vec<_>>());
        ctx.summary("images", jobs.len());
        ctx.summary("skipped_images", decoded.skipped.len());
        ctx.summary("skipped_files", decoded.skipped.iter().map(|(p, _)| p.display().to_string()).collect::<Vec<_>>());
        if boxes.is_some() {
            ctx.summary("images_without_box", without_box);
        }
        Ok(())
    }
}

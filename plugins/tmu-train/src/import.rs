//! `model.import`: a PyTorch `state_dict` the user trained elsewhere (safetensors, or the
//! `.pt`/`.pth` zip of `torch.save(model.state_dict())`) becomes a tmu model artifact, with the
//! architecture, class names and input normalisation given in the config.

use std::path::PathBuf;

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::import::{ImportNotes, import_state_dict, read_state_dict, strip_prefix};
use tmu_nn::{ArchName, ArchOptions, NetworkSpec};
use tmu_plugin::artifact::Dataset;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

/// Config of `model.import`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImportConfig {
    /// The state_dict file: `.safetensors`, or `.pt`/`.pth`/`.bin` written by
    /// `torch.save(model.state_dict())`. A relative path is taken relative to the directory
    /// `tmu run` was started in. The cache key holds the path, not the bytes: give a changed
    /// file a new name.
    pub file: PathBuf,
    /// The architecture: `resnet18` (torchvision's names: `resnet18` with its `fc` replaced by
    /// one with as many outputs as classes), `allcnn`, `vit-tiny`, `small-cnn` or `mlp`.
    pub arch: ArchName,
    /// Options of the architecture: `{ stem = "cifar" }` (3x3 stem, no max-pool, the default)
    /// or `{ stem = "imagenet" }` (torchvision's own 7x7 stem and max-pool).
    #[serde(default)]
    pub arch_options: ArchOptions,
    /// Class names in the order of the model's outputs; left out, the `data` input's classes.
    #[serde(default)]
    pub classes: Option<Vec<String>>,
    /// `[C, H, W]` of one input image; left out, the `data` input's image shape.
    #[serde(default)]
    pub input_shape: Option<[usize; 3]>,
    /// Per-channel mean of `[0, 1]` pixels that the model was trained with (torchvision's
    /// `Normalize(mean, std)`).
    pub mean: Vec<f32>,
    /// Per-channel standard deviation of `[0, 1]` pixels that the model was trained with.
    pub std: Vec<f32>,
    /// A prefix taken off every tensor name when all have it (DataParallel writes `module.`).
    #[serde(default = "default_prefix")]
    pub prefix: String,
}

fn default_prefix() -> String {
    "module.".to_string()
}

/// The stage `model.import`.
#[derive(Debug)]
pub struct ModelImport;

impl ModelImport {
    /// The spec of the imported network: the config's classes and shape, else the data's; when
    /// both are given they must agree.
    fn spec(config: &ImportConfig, data: Option<&Dataset>) -> anyhow::Result<NetworkSpec> {
        let arch = config.arch_options.resolve(config.arch).map_err(anyhow::Error::msg)?;
        let classes = match (&config.classes, data) {
            (Some(c), _) => c.clone(),
            (None, Some(d)) => d.meta.classes.clone(),
            (None, None) => anyhow::bail!("give `classes` (the model's class names in output order) or a `data` input"),
        };
        let input_shape = match (config.input_shape, data) {
            (Some(s), _) => s,
            (None, Some(d)) => [d.shape[1], d.shape[2], d.shape[3]],
            (None, None) => anyhow::bail!("give `input_shape` ([C, H, W]) or a `data` input"),
        };
        let spec = NetworkSpec { arch, classes, input_shape, mean: config.mean.clone(), std: config.std.clone() };
        spec.validate()?;
        if let Some(d) = data {
            spec.check_data(d).context("the `data` input does not fit the config")?;
        }
        Ok(spec)
    }
}

impl Stage for ModelImport {
    const KIND: &'static str = "model.import";
    type Config = ImportConfig;

    fn signature() -> Signature {
        Signature::new(
            "imports a PyTorch state_dict (safetensors, or torch.save's .pt/.pth) trained outside tmu as a model \
             artifact; every missing, unexpected, wrongly shaped or wrongly typed tensor is named",
        )
        .optional_input("data", ArtifactKind::Dataset, "images the model takes: their classes and shape by default")
        .output(
            "model",
            ArtifactKind::Model,
            "the weights (PyTorch names, so the file loads back with load_state_dict(strict=True)) with \
             architecture, classes and normalisation",
        )
        .output("metrics", ArtifactKind::Metrics, "the file read, its tensor count and the conversions made")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new(
                "torchvision's resnet18 (fc replaced) trained on 224x224 images with ImageNet normalisation",
                "file = \"my_model.pt\"\narch = \"resnet18\"\narch_options = { stem = \"imagenet\" }\n\
                 mean = [0.485, 0.456, 0.406]\nstd = [0.229, 0.224, 0.225]",
            ),
            Example::new(
                "the CIFAR variant (3x3 stem, no max-pool) saved as safetensors, classes given",
                "file = \"cifar_resnet18.safetensors\"\narch = \"resnet18\"\n\
                 classes = [\"airplane\", \"automobile\", \"bird\", \"cat\", \"deer\", \"dog\", \"frog\", \"horse\", \
                 \"ship\", \"truck\"]\ninput_shape = [3, 32, 32]\n\
                 mean = [0.4914, 0.4822, 0.4465]\nstd = [0.247, 0.2435, 0.2616]",
            ),
        ]
    }

    fn preflight(config: &ImportConfig) -> anyhow::Result<()> {
        config.arch_options.resolve(config.arch).map_err(anyhow::Error::msg)?;
        Ok(())
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: ImportConfig) -> anyhow::Result<()> {
        let data = inputs.optional_path("data")?.map(Dataset::read).transpose()?;
        let spec = Self::spec(&config, data.as_ref())?;
        let file = std::path::absolute(&config.file)
            .with_context(|| format!("cannot resolve `file` = {}", config.file.display()))?;
        let mut notes = ImportNotes::default();
        let tensors = read_state_dict(&file)?;
        let count = tensors.len();
        let tensors = strip_prefix(tensors, &config.prefix, &mut notes);
        let device = ctx.candle_device()?;
        let (net, more) = import_state_dict(spec, tensors, &device)
            .with_context(|| format!("{} does not fit {}", file.display(), config.arch.as_str()))?;
        notes.notes.extend(more.notes);
        for note in &notes.notes {
            ctx.info(note.clone());
        }
        let out = ctx.output_path("model");
        net.save(&out)?;
        let metrics = serde_json::json!({
            "file": file.display().to_string(),
            "tensors": count,
            "notes": notes.notes,
        });
        let path = ctx.output_path("metrics");
        tmu_plugin::artifact::write_metrics(&path, &metrics).with_context(|| format!("writing {}", path.display()))?;
        ctx.summary("tensors", count);
        Ok(())
    }
}

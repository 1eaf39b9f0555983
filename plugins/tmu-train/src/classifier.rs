//! `train.classifier`: trains an image classifier from scratch on a data set and writes it as
//! a model artifact; checkpoints every epoch into the stage's work folder and resumes there.

use std::time::Instant;

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::optim::{OptimizerConfig, Schedule};
use tmu_nn::{
    ArchName, ArchOptions, Augment, Cost, DeviceData, Network, NetworkSpec, StopRules, TrainConfig, TrainOptions, fit,
    trained_samples,
};
use tmu_plugin::artifact::Dataset;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::observer::StageObserver;

/// Config of `train.classifier`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClassifierConfig {
    /// The architecture: `resnet18`, `allcnn`, `vit-tiny`, `small-cnn` or `mlp`.
    pub arch: ArchName,
    /// Options of the architecture (for example `{ stem = "imagenet" }` for resnet18); every
    /// option left out takes the architecture's default.
    #[serde(default)]
    pub arch_options: ArchOptions,
    /// Passes over the training data.
    #[serde(default = "default_epochs")]
    #[schemars(range(min = 1, max = 100000))]
    pub epochs: usize,
    /// Samples per optimizer step.
    #[serde(default = "default_batch_size")]
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// The optimizer: `{ kind = "sgd", lr = 0.1, momentum = 0.9, weight_decay = 5e-4 }` (the
    /// default), `{ kind = "adam", lr = 1e-3 }` or `{ kind = "adamw", ... }`.
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule: `{ kind = "cosine" }` (the default, down to `min_lr`),
    /// `{ kind = "constant" }`, `{ kind = "step", every = 30, gamma = 0.1 }` or
    /// `{ kind = "one-cycle" }`.
    #[serde(default = "default_schedule")]
    pub schedule: Schedule,
    /// Training-time augmentation: `{ crop_padding = 4, flip = true }` is the CIFAR standard.
    #[serde(default)]
    pub augment: Augment,
    /// Label smoothing of the cross-entropy.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 0.99))]
    pub label_smoothing: f64,
    /// Early stop: `{ train_accuracy = 0.5 }` (the curriculum model; measured by an eval-mode
    /// pass over the training set at every loss read-out, or over `accuracy_samples = N` of its
    /// samples) and/or `{ max_steps = N }`.
    #[serde(default)]
    pub stop: StopRules,
    /// Drop the last incomplete batch of every epoch.
    #[serde(default)]
    pub drop_last: bool,
    /// Optimizer steps between two reads of the loss from the device (NaN check) and between two
    /// checks of the accuracy stop rule.
    #[serde(default = "default_sync_every")]
    #[schemars(range(min = 1, max = 100000))]
    pub sync_every: usize,
    /// Seconds of training between two checkpoints in the work folder (0: after every epoch); a
    /// crash loses at most this much training and one epoch. Results do not depend on it.
    #[serde(default = "default_checkpoint_interval")]
    #[schemars(range(min = 0.0, max = 86400.0))]
    pub checkpoint_interval: f64,
    /// Batch size of evaluation passes over the optional `eval` input.
    #[serde(default = "default_eval_batch_size")]
    #[schemars(range(min = 1, max = 65536))]
    pub eval_batch_size: usize,
    /// A model's number in an ensemble of otherwise identical stages (shadow models of a
    /// membership-inference attack): mixed into the initialisation and batch-order seeds
    /// (streams `init/<n>`, `train/<n>`), so the models differ in more than their data. Left
    /// out, the streams are `init` and `train`.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1000000))]
    pub replicate: Option<u32>,
}

fn default_epochs() -> usize {
    20
}
fn default_batch_size() -> usize {
    128
}
fn default_schedule() -> Schedule {
    Schedule::Cosine { min_lr: 0.0 }
}
fn default_sync_every() -> usize {
    25
}
fn default_checkpoint_interval() -> f64 {
    tmu_nn::train::STAGE_CHECKPOINT_INTERVAL.as_secs_f64()
}
fn default_eval_batch_size() -> usize {
    512
}

impl ClassifierConfig {
    /// The seed stream `name`, with the ensemble number when `replicate` is set.
    fn stream(&self, name: &str) -> String {
        match self.replicate {
            Some(n) => format!("{name}/{n}"),
            None => name.to_string(),
        }
    }

    /// The engine's training settings.
    pub fn train_config(&self) -> TrainConfig {
        TrainConfig {
            epochs: self.epochs,
            batch_size: self.batch_size,
            optimizer: self.optimizer.clone(),
            schedule: self.schedule.clone(),
            augment: self.augment.clone(),
            label_smoothing: self.label_smoothing,
            stop: self.stop.clone(),
            drop_last: self.drop_last,
            sync_every: self.sync_every,
        }
    }
}

/// The stage `train.classifier`.
#[derive(Debug)]
pub struct TrainClassifier;

impl Stage for TrainClassifier {
    const KIND: &'static str = "train.classifier";
    type Config = ClassifierConfig;

    fn signature() -> Signature {
        Signature::new(
            "trains an image classifier from scratch (cross-entropy; SGD/Adam/AdamW; schedules; \
             crop/flip augmentation; stop rules); resumes from its last epoch after a crash",
        )
        .input("data", ArtifactKind::Dataset, "training images; their classes, shape and mean/std define the model")
        .optional_input("eval", ArtifactKind::Dataset, "held-out images: accuracy logged after every epoch")
        .output(
            "model",
            ArtifactKind::Model,
            "the trained weights (PyTorch layout) with architecture and normalisation (metadata: the cost, \
             tmu.wall_seconds, tmu.train_samples, tmu.forward_samples)",
        )
        .output(
            "metrics",
            ArtifactKind::Metrics,
            "the run (epochs, steps, why it stopped, last training and eval accuracy) and its cost",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new(
                "small CNN on the embedded digits (the quickstart): ~99% test accuracy in seconds",
                "arch = \"small-cnn\"\nepochs = 8\nbatch_size = 64\noptimizer = { kind = \"sgd\", lr = 0.05 }",
            ),
            Example::new(
                "ResNet-18 on CIFAR-10 with the standard recipe",
                "arch = \"resnet18\"\nepochs = 200\nbatch_size = 128\n\
                 optimizer = { kind = \"sgd\", lr = 0.1, momentum = 0.9, weight_decay = 5e-4 }\n\
                 schedule = { kind = \"cosine\" }\naugment = { crop_padding = 4, flip = true }",
            ),
            Example::new(
                "ResNet-18 with the ImageNet stem for 112x112 faces",
                "arch = \"resnet18\"\narch_options = { stem = \"imagenet\" }\nepochs = 60\nbatch_size = 64\n\
                 augment = { crop_padding = 8, flip = true }",
            ),
            Example::new(
                "the curriculum model of the CF feature (the original model's architecture, here an MLP): Adam 1e-4 \
                 until 50% training accuracy, checked in eval mode over the training set after every step",
                "arch = \"mlp\"\nepochs = 50\nbatch_size = 64\noptimizer = { kind = \"adam\", lr = 1e-4 }\n\
                 schedule = { kind = \"constant\" }\nstop = { train_accuracy = 0.5 }\nsync_every = 1",
            ),
            Example::new(
                "ViT-Tiny (4x4 patches) with AdamW, one-cycle and label smoothing",
                "arch = \"vit-tiny\"\nepochs = 100\nbatch_size = 128\n\
                 optimizer = { kind = \"adamw\", lr = 1e-3, weight_decay = 0.05 }\n\
                 schedule = { kind = \"one-cycle\" }\nlabel_smoothing = 0.1\n\
                 augment = { crop_padding = 4, flip = true }",
            ),
        ]
    }

    /// The architecture options fit the architecture and every training setting is in range.
    fn preflight(config: &ClassifierConfig) -> anyhow::Result<()> {
        config.arch_options.resolve(config.arch).map_err(anyhow::Error::msg)?;
        anyhow::ensure!(
            (0.0..=86_400.0).contains(&config.checkpoint_interval),
            "checkpoint_interval = {} is outside 0 to 86400 seconds",
            config.checkpoint_interval
        );
        Ok(config.train_config().validate()?)
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: ClassifierConfig) -> anyhow::Result<()> {
        let started = Instant::now();
        let arch = config.arch_options.resolve(config.arch).map_err(anyhow::Error::msg)?;
        let train_cfg = config.train_config();
        let data_path = inputs.path("data")?;
        let data = Dataset::read(data_path)?;
        let eval = match inputs.optional_path("eval")? {
            None => None,
            Some(path) => {
                let eval = Dataset::read(path)?;
                let spec_of_eval = NetworkSpec::for_dataset(arch.clone(), &data);
                spec_of_eval.check_data(&eval).with_context(|| format!("eval set {}", path.display()))?;
                Some(eval)
            }
        };
        let device = ctx.candle_device()?;
        let spec = NetworkSpec::for_dataset(arch, &data);
        let net = Network::new(spec, &device, ctx.seed_for(&config.stream("init")))
            .with_context(|| format!("building {} for {}", config.arch.as_str(), data_path.display()))?;
        let train_data = DeviceData::new(&data, &device)?;
        let eval_data = eval.as_ref().map(|e| DeviceData::new(e, &device)).transpose()?;
        ctx.info(format!(
            "training {} on {} samples of {:?} ({} classes) on {}",
            config.arch.as_str(),
            data.len(),
            &data.shape[1..],
            data.num_classes(),
            tmu_plugin::device_name(&device)
        ));
        let work_dir = ctx.work_dir().to_path_buf();
        let options = TrainOptions {
            seed: ctx.seed_for(&config.stream("train")),
            checkpoint_dir: Some(&work_dir),
            checkpoint_interval: std::time::Duration::from_secs_f64(config.checkpoint_interval),
            ..Default::default()
        };
        let mut observer = StageObserver {
            ctx,
            eval: eval_data.as_ref(),
            eval_batch_size: config.eval_batch_size,
            eval_accuracy: None,
        };
        let report = fit(&net, &train_data, &train_cfg, &options, &mut observer)?;
        let eval_accuracy = observer.eval_accuracy;
        let seconds = started.elapsed().as_secs_f64();
        // The per-epoch accuracy on `eval` is monitoring, but it is in the wall time: counted.
        let monitored = eval.as_ref().map_or(0, |e| e.len() * report.history.len()) as u64;
        let cost = Cost { wall_seconds: seconds, train_samples: trained_samples(&report), forward_samples: monitored };
        let out = ctx.output_path("model");
        net.save_with_metadata(&out, &cost.metadata())?;
        let metrics = serde_json::json!({
            "epochs": report.history.len(),
            "steps": report.steps,
            "stopped_by": format!("{:?}", report.stopped_by).to_lowercase(),
            "resumed_epochs": report.resumed_epochs,
            "train_accuracy": report.last().and_then(|e| e.accuracy),
            "eval_accuracy": eval_accuracy,
            "wall_seconds": seconds,
            "cost": cost.to_json(),
        });
        let path = ctx.output_path("metrics");
        tmu_plugin::artifact::write_metrics(&path, &metrics).with_context(|| format!("writing {}", path.display()))?;

        let last = report.last();
        ctx.summary("epochs", report.history.len());
        ctx.summary("steps", report.steps);
        ctx.summary("stopped_by", format!("{:?}", report.stopped_by).to_lowercase());
        if let Some(last) = last {
            ctx.summary("loss", last.loss);
            if let Some(acc) = last.accuracy {
                ctx.summary("train_accuracy", acc);
            }
        }
        if let Some(acc) = eval_accuracy {
            ctx.summary("eval_accuracy", acc);
        }
        if let Some((acc, samples)) = report.stop_accuracy {
            ctx.summary("stop_accuracy", acc);
            ctx.summary("stop_accuracy_samples", samples);
        }
        if report.resumed_epochs > 0 {
            ctx.summary("resumed_epochs", report.resumed_epochs);
        }
        ctx.summary("wall_seconds", seconds);
        Ok(())
    }
}

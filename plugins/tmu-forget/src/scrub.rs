//! `forget.scrub`: SCRUB (Kurmanji, Triantafillou, Hayes, Triantafillou, "Towards Unbounded
//! Machine Unlearning", NeurIPS 2023), as the SCRUB repository (`small_scale_unlearning.ipynb`
//! with `thirdparty/repdistiller/helper/loops.py`) runs it. The student starts as the original
//! model, the teacher is the original model (frozen, eval mode). Every epoch of the first
//! `msteps` first makes a max-pass over D_f, minimising `−KL(teacher ‖ student)`; every epoch
//! then makes a min-pass over D_r, minimising `gamma · CE + beta · KL(teacher ‖ student)`. KL is
//! `T² / B · Σ KL` at temperature `T`; one Adam optimizer serves both passes; the learning rate
//! is multiplied by `lr_decay_rate` once for every entry of `lr_decay_epochs` that the 1-based
//! epoch exceeds. Defaults: the notebook's Adam lr 5e-4, weight decay 0.1, 10 epochs, msteps 3,
//! T 2, gamma 1, KL weight 0.5 (the notebook's `alpha`, named `beta` here as in the RUM code),
//! decay x0.1 after epochs 5, 8 and 9, retain batch 32, forget batch 64.

use std::time::Instant;

use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::{Cost, DeviceData, StepOutput};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::evaluate::forget_accuracy;
use crate::io::write_outputs;
use crate::losses::{scrub_max_loss, scrub_min_loss};
use crate::phased::{Phase, StepHooks, train_phases};
use crate::train::adam_optimizer;
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.scrub` (defaults: the SCRUB repository's small-scale notebook).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ScrubConfig {
    /// Epochs; each ends with a min-pass over D_r.
    #[schemars(range(min = 1, max = 10000))]
    pub epochs: usize,
    /// The first `msteps` epochs start with a max-pass over D_f.
    #[schemars(range(min = 0, max = 10000))]
    pub msteps: usize,
    /// Adam learning rate.
    #[schemars(range(min = 0.0, max = 10.0))]
    pub lr: f64,
    /// Adam's L2 weight decay (added to the gradient).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub weight_decay: f64,
    /// 1-based epochs after which the learning rate is multiplied by `lr_decay_rate`.
    pub lr_decay_epochs: Vec<usize>,
    /// The factor of each decay.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub lr_decay_rate: f64,
    /// Softmax temperature of the KL terms.
    #[schemars(range(min = 0.01, max = 100.0))]
    pub temperature: f64,
    /// Weight of the cross-entropy in the min-pass.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub gamma: f64,
    /// Weight of the KL to the teacher in the min-pass.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub beta: f64,
    /// Samples per retain (min-pass) batch.
    #[schemars(range(min = 1, max = 65536))]
    pub retain_batch_size: usize,
    /// Samples per forget (max-pass) batch.
    #[schemars(range(min = 1, max = 65536))]
    pub forget_batch_size: usize,
}

impl Default for ScrubConfig {
    fn default() -> Self {
        ScrubConfig {
            epochs: 10,
            msteps: 3,
            lr: 5e-4,
            weight_decay: 0.1,
            lr_decay_epochs: vec![5, 8, 9],
            lr_decay_rate: 0.1,
            temperature: 2.0,
            gamma: 1.0,
            beta: 0.5,
            retain_batch_size: 32,
            forget_batch_size: 64,
        }
    }
}

/// The learning rate of 0-based `epoch`: `lr · rate^k`, `k` the number of decay epochs the
/// 1-based epoch exceeds (the SCRUB code's `adjust_learning_rate`).
pub fn scrub_lr(lr: f64, decay_epochs: &[usize], rate: f64, epoch: usize) -> f64 {
    let k = decay_epochs.iter().filter(|&&d| epoch + 1 > d).count();
    lr * rate.powi(k as i32)
}

/// The `forget.scrub` stage.
pub struct ForgetScrub;

impl Stage for ForgetScrub {
    const KIND: &'static str = "forget.scrub";
    type Config = ScrubConfig;

    fn signature() -> Signature {
        Signature::new(
            "SCRUB baseline: a student started from the original model moves away from it (the teacher) on the forget \
             set in max-steps and stays close to it on the retained samples in min-steps",
        )
        .input("model", ArtifactKind::Model, "the original model M_o (the student's start and the teacher)")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .input("forget", ArtifactKind::Dataset, "the forget set D_f")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: its cost)")
        .output(
            "metrics",
            ArtifactKind::Metrics,
            "training statistics, cost and forget-set accuracy after unlearning",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the SCRUB notebook's settings", "epochs = 10\nmsteps = 3\nlr = 5e-4\ntemperature = 2.0"),
            Example::new("the RUM code's settings", "epochs = 5\nmsteps = 4\ntemperature = 4.0"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: ScrubConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let student = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &student)?;
        let forget = data_on_port(inputs, "forget", &student)?;
        let started = Instant::now();
        let teacher = student.clone_to(&device)?;
        let retain_data = DeviceData::new(&retain, &device)?;
        let forget_data = DeviceData::new(&forget, &device)?;
        let phases = [
            Phase {
                name: "max",
                data: &forget_data,
                batch_size: config.forget_batch_size,
                epochs: Some(config.msteps),
            },
            Phase { name: "min", data: &retain_data, batch_size: config.retain_batch_size, epochs: None },
        ];
        let lr_at = |epoch| scrub_lr(config.lr, &config.lr_decay_epochs, config.lr_decay_rate, epoch);
        let t = config.temperature;
        let mut teacher_samples = 0u64;
        let report = train_phases(
            ctx,
            &student,
            &phases,
            config.epochs,
            adam_optimizer(config.lr, config.weight_decay),
            &lr_at,
            ctx.seed_for("train"),
            StepHooks::default(),
            |net, batch| {
                let logits = net.forward_t(batch.x, true)?;
                let taught = teacher.forward_t(batch.x, false)?.detach();
                teacher_samples += batch.x.dim(0)? as u64;
                let loss = if batch.phase == 0 {
                    scrub_max_loss(&logits, &taught, t)?
                } else {
                    scrub_min_loss(&logits, &taught, batch.y, config.gamma, config.beta, t)?
                };
                Ok(StepOutput::with_logits(loss, logits))
            },
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let cost =
            Cost { wall_seconds: seconds, train_samples: report.train_samples, forward_samples: teacher_samples };
        let accuracy = forget_accuracy(&student, &forget_data, &[])?;
        ctx.summary("forget_accuracy", accuracy["forget"].clone());
        write_outputs(
            ctx,
            &student,
            &cost,
            json!({
                "method": "scrub",
                "config": config,
                "retain": retain.len(),
                "forget": forget.len(),
                "training": report,
                "accuracy_after": accuracy,
            }),
        )
    }
}

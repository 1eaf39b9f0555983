//! `forget.bad-teacher`: the competent/incompetent teacher baseline (Chundawat, Tarun, Mandal,
//! Kankanhalli, "Can Bad Teaching Induce Forgetting?", AAAI 2023). The student starts as the
//! original model; on one shuffled stream of a random retain subset ∪ forget it is distilled
//! towards the original model (frozen, the competent teacher) on retain samples and towards a
//! freshly initialised network of the same architecture (the incompetent teacher) on forget
//! samples. Defaults follow the authors' released code (`unlearn.py` and the CIFAR-Super20
//! notebook) where it does not depend on the data size: Adam lr 1e-4, KL temperature 1, 30% of
//! the retain set, `F.kl_div` with its default element-wise mean. The authors make one epoch at
//! batch 256 over ~15,000 retain and forget samples, about 60 steps; on a data set of a few
//! thousand samples that is two or three steps, which leave the model where it was. The defaults
//! here are batch 32 and 10 epochs (about 100 steps on the quickstart's ~330 samples); on
//! CIFAR-size data, `epochs = 1` and `batch_size = 256` are the authors' settings.

use std::time::Instant;

use anyhow::Result;
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::{Cost, DeviceData, Network, StepOutput, trained_samples};
use tmu_plugin::artifact::Dataset;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::evaluate::forget_accuracy;
use crate::io::write_outputs;
use crate::losses::{KlReduction, bad_teacher_loss};
use crate::mixed::{Column, Mixed};
use crate::train::{adam_config, train, training_json};
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.bad-teacher` (defaults: the authors' code).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct BadTeacherConfig {
    /// Passes over the retain subset ∪ forget (the authors make 1 pass over CIFAR-size data;
    /// 10 gives small data sets a comparable number of steps).
    #[schemars(range(min = 1, max = 10000))]
    pub epochs: usize,
    /// Adam learning rate (the authors use 1e-4).
    #[schemars(range(min = 0.0, max = 10.0))]
    pub lr: f64,
    /// Samples per step (the authors use 256 on CIFAR-size data).
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// Softmax temperature of the student and both teachers (the authors use 1).
    #[schemars(range(min = 0.01, max = 100.0))]
    pub temperature: f64,
    /// Fraction of the retain set, drawn at random once, distilled from the competent teacher
    /// (the authors use 0.3).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub retain_fraction: f64,
    /// How the KL divergence is averaged: `mean` over batch and classes (PyTorch's `F.kl_div`
    /// default, the authors' code) or `batchmean` (over the batch).
    pub reduction: KlReduction,
}

impl Default for BadTeacherConfig {
    fn default() -> Self {
        BadTeacherConfig {
            epochs: 10,
            lr: 1e-4,
            batch_size: 32,
            temperature: 1.0,
            retain_fraction: 0.3,
            reduction: KlReduction::default(),
        }
    }
}

/// The `forget.bad-teacher` stage.
pub struct ForgetBadTeacher;

impl Stage for ForgetBadTeacher {
    const KIND: &'static str = "forget.bad-teacher";
    type Config = BadTeacherConfig;

    fn signature() -> Signature {
        Signature::new(
            "bad-teacher baseline: distils the original model into itself on retained samples and a randomly \
             initialised network of the same architecture into it on the forget set; defaults batch 32, 10 epochs \
             (the authors' one epoch at batch 256 is about 60 steps on CIFAR, two on a few hundred samples)",
        )
        .input("model", ArtifactKind::Model, "the original model M_o (the student's start and the competent teacher)")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .input("forget", ArtifactKind::Dataset, "the forget set D_f")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: tmu.wall_seconds)")
        .output(
            "metrics",
            ArtifactKind::Metrics,
            "training statistics and forget-set accuracy after unlearning",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new(
                "the authors' settings, for CIFAR-size data (about 60 steps there)",
                "epochs = 1\nlr = 1e-4\nbatch_size = 256\ntemperature = 1.0\nretain_fraction = 0.3",
            ),
            Example::new("the defaults, for a few thousand samples", "epochs = 10\nbatch_size = 32"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: BadTeacherConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let student = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &student)?;
        let forget = data_on_port(inputs, "forget", &student)?;

        let started = Instant::now();
        let competent = student.clone_to(&device)?;
        let incompetent = Network::new(student.spec().clone(), &device, ctx.seed_for("incompetent"))?;
        let subset = retain_subset(&retain, config.retain_fraction, ctx.seed_for("retain-subset"));
        let mixed = Mixed::new(&subset, &forget, &device)?;
        let forget_rows = Column::f32(mixed.forget_mask(std::iter::repeat_n(true, forget.len())), &device)?;
        let cfg = adam_config(config.lr, config.batch_size, config.epochs);
        let report = train(ctx, &student, &mixed.data, &cfg, serde_json::to_string(&config)?, |net, batch| {
            let good = competent.forward_t(batch.x, false)?.detach();
            let bad = incompetent.forward_t(batch.x, false)?.detach();
            let logits = net.forward_t(batch.x, true)?;
            let f = forget_rows.gather(batch.index)?;
            let loss = bad_teacher_loss(&logits, &good, &bad, &f, config.temperature, config.reduction)?;
            Ok(StepOutput::with_logits(loss, logits))
        })?;
        let seconds = started.elapsed().as_secs_f64();
        // Every training sample also goes through both teachers, forward only.
        let trained = trained_samples(&report);
        let cost = Cost { wall_seconds: seconds, train_samples: trained, forward_samples: 2 * trained };
        let forget_data = DeviceData::new(&forget, &device)?;
        let accuracy = forget_accuracy(&student, &forget_data, &[])?;
        ctx.summary("forget_accuracy", accuracy["forget"].clone());
        write_outputs(
            ctx,
            &student,
            &cost,
            json!({
                "method": "bad-teacher",
                "config": config,
                "retain": retain.len(),
                "retain_used": subset.len(),
                "forget": forget.len(),
                "training": training_json(&report),
                "accuracy_after": accuracy,
            }),
        )
    }
}

/// `round(fraction · N)` retain samples drawn without replacement (seeded), in the retain set's
/// order.
fn retain_subset(retain: &Dataset, fraction: f64, seed: u64) -> Dataset {
    let n = retain.len();
    let k = ((fraction * n as f64).round() as usize).min(n);
    let mut picked = sample(&mut ChaCha8Rng::seed_from_u64(seed), n, k).into_vec();
    picked.sort_unstable();
    retain.subset(&picked)
}

//! `features.adversarial` (AF): how far a fixed-budget L∞ PGD attack on the true label moves the
//! model's prediction, KL(softmax(f(x)) ‖ softmax(f(x_adv))).

use std::time::Instant;

use anyhow::Context as _;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::{DeviceData, Network};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::common::{METRICS_OUTPUT, argmax, check_name, upload, write_feature, write_metrics_with_cost};
use crate::pgd::{Pgd, kl_from_logits, pgd_attack};
use tmu_nn::Cost;
use tmu_nn::{data_on_port, model_on_port};

/// Config of `features.adversarial`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct AdversarialConfig {
    /// L∞ radius of the attack in `[0, 1]` pixel units (4/255 in the method).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub epsilon: f64,
    /// Step size in `[0, 1]` pixel units; left out, epsilon / 3.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub step: Option<f64>,
    /// Number of PGD steps.
    #[schemars(range(min = 1, max = 10000))]
    pub steps: usize,
    /// Start from a uniform random point of the epsilon-ball (seeded) instead of the clean
    /// image (the method has no random start).
    pub random_start: bool,
    /// Samples attacked at once.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// Name of the output feature column.
    pub name: String,
}

impl Default for AdversarialConfig {
    fn default() -> Self {
        AdversarialConfig {
            epsilon: 4.0 / 255.0,
            step: None,
            steps: 5,
            random_start: false,
            batch_size: 256,
            name: "af".to_string(),
        }
    }
}

impl AdversarialConfig {
    /// The attack budget with the step resolved.
    pub fn pgd(&self) -> Pgd {
        Pgd { epsilon: self.epsilon, step: self.step.unwrap_or(self.epsilon / 3.0), steps: self.steps }
    }
}

/// The stage `features.adversarial`.
#[derive(Debug)]
pub struct AdversarialFeature;

impl Stage for AdversarialFeature {
    const KIND: &'static str = "features.adversarial";
    type Config = AdversarialConfig;

    fn signature() -> Signature {
        Signature::new(
            "AF, the adversarial-attacking feature: an untargeted L∞ PGD attack on the true label in \
             [0, 1] pixel space (sign of the gradient of the summed cross-entropy, clipped to the \
             epsilon-ball and to [0, 1], eval mode, no random start), then \
             KL(softmax(f(x)) ‖ softmax(f(x_adv))) per sample",
        )
        .input("model", ArtifactKind::Model, "the model attacked (M_t for the twin set, M_o for D_f)")
        .input("data", ArtifactKind::Dataset, "the samples to compute AF for")
        .output("features", ArtifactKind::Features, "one column (`af` unless renamed) per sample id of `data`")
        .output("metrics", ArtifactKind::Metrics, METRICS_OUTPUT)
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the method: epsilon 4/255, step epsilon/3, 5 steps", ""),
            Example::new(
                "a stronger attack with a seeded random start",
                "epsilon = 0.0314\nstep = 0.00784\nsteps = 10\nrandom_start = true",
            ),
        ]
    }

    fn preflight(config: &AdversarialConfig) -> anyhow::Result<()> {
        check_name(&config.name)
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: AdversarialConfig) -> anyhow::Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let data = data_on_port(inputs, "data", &net)?;
        let d = upload(&data, &device, "data")?;
        let start = Instant::now();
        let pgd = config.pgd();
        let mut rng = config.random_start.then(|| ChaCha8Rng::seed_from_u64(ctx.seed_for("random-start")));
        let n = data.len();
        let k = net.num_classes();
        let (mut af, mut clean_right, mut adv_right) = (Vec::with_capacity(n), 0usize, 0usize);
        for first in (0..n).step_by(config.batch_size) {
            let len = config.batch_size.min(n - first);
            let (clean, adv) = attack_batch(&net, &d, first, len, &pgd, rng.as_mut())
                .with_context(|| format!("attacking samples {first}..{} of the `data` set", first + len))?;
            let labels = &data.labels[first..first + len];
            for (i, &y) in labels.iter().enumerate() {
                let (p, q) = (&clean[i * k..(i + 1) * k], &adv[i * k..(i + 1) * k]);
                af.push(kl_from_logits(p, q));
                clean_right += usize::from(argmax(p) == y);
                adv_right += usize::from(argmax(q) == y);
            }
            ctx.progress((first + len) as u64, n as u64, "pgd attack");
            ctx.check_cancelled()?;
        }
        let seconds = start.elapsed().as_secs_f64();
        write_feature(ctx, &config.name, &data.ids, &af)?;
        ctx.summary("clean_accuracy", clean_right as f64 / n as f64);
        ctx.summary("adversarial_accuracy", adv_right as f64 / n as f64);
        ctx.summary("seconds", seconds);
        // Every PGD step takes an input gradient (forward and backward); the clean and the
        // adversarial logits are forward passes.
        let cost =
            Cost { wall_seconds: seconds, train_samples: (config.steps * n) as u64, forward_samples: 2 * n as u64 };
        let extra = serde_json::json!({
            "samples": n,
            "clean_accuracy": clean_right as f64 / n as f64,
            "adversarial_accuracy": adv_right as f64 / n as f64,
        });
        write_metrics_with_cost(ctx, &cost, extra)?;
        Ok(())
    }
}

/// Clean and attacked logits (row-major `[len, K]`) of positions `first..first + len`.
fn attack_batch(
    net: &Network,
    d: &DeviceData,
    first: usize,
    len: usize,
    pgd: &Pgd,
    rng: Option<&mut ChaCha8Rng>,
) -> tmu_nn::Result<(Vec<f32>, Vec<f32>)> {
    let pixels = d.pixels(first, len)?;
    let (_, labels) = d.range(first, len)?;
    let x_adv = pgd_attack(net, &pixels, &labels, pgd, rng)?;
    let clean = net.forward_t(&net.normalise(&pixels)?, false)?;
    let adv = net.forward_t(&net.normalise(&x_adv)?, false)?;
    Ok((clean.flatten_all()?.to_vec1()?, adv.flatten_all()?.to_vec1()?))
}

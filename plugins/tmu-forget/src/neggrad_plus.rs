//! `forget.neggrad-plus`: NegGrad+ (Kurmanji, Triantafillou, Hayes, Triantafillou, "Towards
//! Unbounded Machine Unlearning", NeurIPS 2023), as the RUM repository's `unlearn/neggrad.py`
//! runs it: from the original model, each step pairs a retain batch with the next forget batch
//! (the forget set shuffled once per epoch and cycled) and minimises `alpha · CE(retain) −
//! (1 − alpha) · CE(forget)`, each cross-entropy the mean over its batch, both batches forward in
//! train mode. An epoch is one pass over D_r. Defaults: the RUM code's SGD lr 0.01, momentum
//! 0.9, weight decay 5e-4, batch 256 (both streams), 5 epochs; alpha 0.95, the value of the
//! DeepUnlearn benchmark's NegGrad+ (the RUM code takes it from the command line).

use std::time::Instant;

use anyhow::Result;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::{Cost, DeviceData, StepOutput};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage, derive_seed};

use crate::evaluate::forget_accuracy;
use crate::io::write_outputs;
use crate::losses::neggrad_plus_loss;
use crate::phased::{Phase, StepHooks, train_phases};
use crate::train::sgd_optimizer;
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.neggrad-plus` (defaults: the RUM code).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NegGradPlusConfig {
    /// Passes over the retained samples (RUM: 5).
    #[schemars(range(min = 1, max = 10000))]
    pub epochs: usize,
    /// SGD learning rate, constant (RUM: 0.01).
    #[schemars(range(min = 0.0, max = 10.0))]
    pub lr: f64,
    /// SGD momentum.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub momentum: f64,
    /// L2 weight decay added to the gradient.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub weight_decay: f64,
    /// Samples per retain batch and per forget batch (RUM: 256).
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// Weight of the retain descent; the forget ascent weighs `1 - alpha`.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub alpha: f64,
}

impl Default for NegGradPlusConfig {
    fn default() -> Self {
        NegGradPlusConfig { epochs: 5, lr: 0.01, momentum: 0.9, weight_decay: 5e-4, batch_size: 256, alpha: 0.95 }
    }
}

/// The `forget.neggrad-plus` stage.
pub struct ForgetNegGradPlus;

impl Stage for ForgetNegGradPlus {
    const KIND: &'static str = "forget.neggrad-plus";
    type Config = NegGradPlusConfig;

    fn signature() -> Signature {
        Signature::new(
            "NegGrad+ baseline: each step descends a retain batch and ascends a forget batch, weighted alpha and 1 - alpha",
        )
        .input("model", ArtifactKind::Model, "the original model M_o")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .input("forget", ArtifactKind::Dataset, "the forget set D_f")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: its cost)")
        .output("metrics", ArtifactKind::Metrics, "training statistics, cost and forget-set accuracy after unlearning")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the RUM code's settings", "epochs = 5\nlr = 0.01\nbatch_size = 256\nalpha = 0.95"),
            Example::new("a gentler ascent", "alpha = 0.99"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: NegGradPlusConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &net)?;
        let forget = data_on_port(inputs, "forget", &net)?;
        let started = Instant::now();
        let retain_data = DeviceData::new(&retain, &device)?;
        let forget_data = DeviceData::new(&forget, &device)?;
        let seed = ctx.seed_for("train");
        let mut stream = ForgetStream::new(&forget_data, config.batch_size, seed);
        let mut forget_samples = 0u64;
        let phases = [Phase { name: "retain", data: &retain_data, batch_size: config.batch_size, epochs: None }];
        let report = train_phases(
            ctx,
            &net,
            &phases,
            config.epochs,
            sgd_optimizer(config.lr, config.momentum, config.weight_decay),
            &|_| config.lr,
            seed,
            StepHooks::default(),
            |net, batch| {
                let (fx, fy) = stream.next(net, batch.epoch, batch.step)?;
                forget_samples += fy.dim(0)? as u64;
                let retain_logits = net.forward_t(batch.x, true)?;
                let forget_logits = net.forward_t(&fx, true)?;
                let loss = neggrad_plus_loss(&retain_logits, batch.y, &forget_logits, &fy, config.alpha)?;
                Ok(StepOutput::with_logits(loss, retain_logits))
            },
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let cost =
            Cost { wall_seconds: seconds, train_samples: report.train_samples + forget_samples, forward_samples: 0 };
        let accuracy = forget_accuracy(&net, &forget_data, &[])?;
        ctx.summary("forget_accuracy", accuracy["forget"].clone());
        write_outputs(
            ctx,
            &net,
            &cost,
            json!({
                "method": "neggrad-plus",
                "config": config,
                "retain": retain.len(),
                "forget": forget.len(),
                "training": report,
                "accuracy_after": accuracy,
            }),
        )
    }
}

/// The forget batches of NegGrad+: step `s` of an epoch takes batch `s mod n` of that epoch's
/// shuffle of D_f (`itertools.cycle` over a shuffled loader, restarted every epoch).
pub struct ForgetStream<'d> {
    data: &'d DeviceData,
    batch_size: usize,
    seed: u64,
    epoch: Option<usize>,
    batches: Vec<Vec<u32>>,
}

impl<'d> ForgetStream<'d> {
    pub fn new(data: &'d DeviceData, batch_size: usize, seed: u64) -> Self {
        ForgetStream { data, batch_size: batch_size.max(1), seed, epoch: None, batches: Vec::new() }
    }

    /// The normalised inputs and labels of the forget batch of step `step` of `epoch`.
    pub fn next(
        &mut self,
        net: &tmu_nn::Network,
        epoch: usize,
        step: usize,
    ) -> tmu_nn::Result<(tmu_nn::candle::Tensor, tmu_nn::candle::Tensor)> {
        if self.epoch != Some(epoch) {
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(self.seed, &format!("forget-order/{epoch}")));
            let mut order: Vec<u32> = (0..self.data.len() as u32).collect();
            rand::seq::SliceRandom::shuffle(order.as_mut_slice(), &mut rng);
            self.batches = order.chunks(self.batch_size).map(<[u32]>::to_vec).collect();
            self.epoch = Some(epoch);
        }
        let indices = &self.batches[step % self.batches.len()];
        let index = self.data.index_tensor(indices)?;
        let (images, labels) = self.data.gather(&index)?;
        Ok((net.normalise_u8(&images)?, labels))
    }
}

//! `forget.msg`: "mask small gradients", one of the two methods that won most consistently in
//! the DeepUnlearn benchmark (Cadet et al., "Deep Unlearn: Benchmarking Machine Unlearning",
//! 2024) of the NeurIPS 2023 unlearning challenge's entries, as its `munl/unlearning/kgltop2.py`
//! runs it. The gradient `G` of `CE(retain subset) − CE(D_f)` is summed over batches (a random
//! subset of D_r as large as D_f, batches of 64, then D_f's batches); in every conv kernel the
//! `round(init_rate · n)` weights with the smallest `|G|` are re-initialised (Kaiming normal,
//! fan-out, ReLU gain) and the layer's other weights get a tenth of the gradient; then the model
//! is fine-tuned on D_r with SGD, the learning rate rising linearly over the first half of the
//! epochs and falling back (the code's `LinearAnnealingLR`, stepped per epoch). The gradient
//! pass runs in eval mode (the code does not say). Defaults: the code's lr 0.001, momentum 0.9,
//! weight decay 5e-4, batch 64, 5 epochs, init rate 0.3, conv layers only; `layers =
//! "conv-and-linear"` treats fully connected weight matrices alike, for networks (an MLP) that
//! have no conv layer and on which the authors' form is plain fine-tuning.

use std::time::Instant;

use anyhow::Result;
use rand::SeedableRng;
use rand::seq::index::sample;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::candle::{Tensor, Var};
use tmu_nn::loss::cross_entropy;
use tmu_nn::{Cost, DeviceData, Network, StepOutput};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage, derive_seed};

use crate::evaluate::forget_accuracy;
use crate::gradients::{all_positions, summed_gradients, weights};
use crate::io::write_outputs;
use crate::phased::{Phase, StepHooks, train_phases};
use crate::train::sgd_optimizer;
use tmu_nn::{data_on_port, model_on_port};

/// Which weights MSG may re-initialise.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MaskedLayers {
    /// Conv kernels only (4-d weights), as the authors' code.
    #[default]
    Conv,
    /// Conv kernels and fully connected weight matrices (2-d weights).
    ConvAndLinear,
}

impl MaskedLayers {
    /// Whether the weight `name` of shape `dims` is masked.
    pub fn covers(self, name: &str, dims: &[usize]) -> bool {
        name.ends_with("weight")
            && match self {
                MaskedLayers::Conv => dims.len() == 4,
                MaskedLayers::ConvAndLinear => dims.len() == 4 || dims.len() == 2,
            }
    }
}

/// Configuration of `forget.msg` (defaults: DeepUnlearn's `kgltop2`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MsgConfig {
    /// Passes over D_r after the re-initialisation.
    #[schemars(range(min = 1, max = 10000))]
    pub epochs: usize,
    /// Peak SGD learning rate.
    #[schemars(range(min = 0.0, max = 10.0))]
    pub lr: f64,
    /// SGD momentum.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub momentum: f64,
    /// L2 weight decay added to the gradient.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub weight_decay: f64,
    /// Samples per step (and per batch of the gradient pass).
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// Fraction of each masked layer's weights re-initialised (those with the smallest |G|).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub init_rate: f64,
    /// The gradient factor of a masked layer's weights that are not re-initialised.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub kept_gradient: f64,
    /// Which layers are masked: `conv` (the authors') or `conv-and-linear`.
    pub layers: MaskedLayers,
}

impl Default for MsgConfig {
    fn default() -> Self {
        MsgConfig {
            epochs: 5,
            lr: 0.001,
            momentum: 0.9,
            weight_decay: 5e-4,
            batch_size: 64,
            init_rate: 0.3,
            kept_gradient: 0.1,
            layers: MaskedLayers::default(),
        }
    }
}

/// The learning-rate factor of 0-based `epoch` of `epochs`: `k / a` while `k <= a`, then
/// `(T − k) / (T − a)`, with `k = epoch + 1`, `a = ceil(epochs / 2)` and
/// `T = epochs + 1` (the code's `LinearAnnealingLR` with one step per epoch).
pub fn msg_lr_factor(epoch: usize, epochs: usize) -> f64 {
    let (k, a, t) = (epoch as f64 + 1.0, epochs.div_ceil(2) as f64, epochs as f64 + 1.0);
    if k <= a { k / a } else { (t - k) / (t - a) }
}

/// For each masked weight (by `layers`, in `net.trainable_vars()` order), the positions of the
/// `round_ties_even(rate · n)` entries with the smallest `|g|` (ties: the earlier position).
pub fn smallest_gradients(
    net: &Network,
    grads: &[Tensor],
    layers: MaskedLayers,
    rate: f64,
) -> Result<Vec<Option<Vec<usize>>>> {
    weights(net)
        .iter()
        .zip(grads)
        .map(|((name, v), g)| {
            if !layers.covers(name, v.dims()) {
                return Ok(None);
            }
            let m: Vec<f32> = g.abs()?.flatten_all()?.to_vec1()?;
            let k = (rate * m.len() as f64).round_ties_even() as usize;
            let mut order: Vec<usize> = (0..m.len()).collect();
            order.sort_by(|&a, &b| m[a].total_cmp(&m[b]));
            order.truncate(k.min(m.len()));
            order.sort_unstable();
            Ok(Some(order))
        })
        .collect()
}

/// Kaiming-normal standard deviation for ReLU with fan-out: `sqrt(2 / fan_out)`, `fan_out` the
/// output channels times the kernel's spatial size (`dims[0] · Π dims[2..]`).
pub fn kaiming_fan_out_std(dims: &[usize]) -> f64 {
    let fan_out = dims[0] * dims[2..].iter().product::<usize>();
    (2.0 / fan_out.max(1) as f64).sqrt()
}

/// Re-initialises the `picked` entries of each weight from N(0, kaiming_fan_out_std²) drawn from a
/// generator seeded by `seed`, and returns the gradient factors: 1 at the picked entries,
/// `kept` elsewhere in a masked weight (unmasked weights get none).
pub fn reinitialise(vars: &[Var], picked: &[Option<Vec<usize>>], kept: f64, seed: u64) -> Result<Vec<(Var, Tensor)>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut scales = Vec::new();
    for (v, p) in vars.iter().zip(picked) {
        let Some(p) = p else { continue };
        let normal = Normal::new(0.0, kaiming_fan_out_std(v.dims()))?;
        let mut w: Vec<f32> = v.as_tensor().flatten_all()?.to_vec1()?;
        let mut factor = vec![kept as f32; w.len()];
        for &i in p {
            w[i] = normal.sample(&mut rng) as f32;
            factor[i] = 1.0;
        }
        v.set(&Tensor::from_vec(w, v.dims(), v.device())?)?;
        scales.push((v.clone(), Tensor::from_vec(factor, v.dims(), v.device())?));
    }
    Ok(scales)
}

/// The `forget.msg` stage.
pub struct ForgetMsg;

impl Stage for ForgetMsg {
    const KIND: &'static str = "forget.msg";
    type Config = MsgConfig;

    fn signature() -> Signature {
        Signature::new(
            "MSG baseline (DeepUnlearn's kgltop2): re-initialises the conv weights with the smallest gradient of \
             CE(retain) - CE(forget), slows the others' updates tenfold, and fine-tunes on the retained samples",
        )
        .input("model", ArtifactKind::Model, "the original model M_o")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .input("forget", ArtifactKind::Dataset, "the forget set D_f")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: its cost)")
        .output(
            "metrics",
            ArtifactKind::Metrics,
            "re-initialised weights, training statistics, cost, forget accuracy",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the authors' settings", "epochs = 5\nlr = 0.001\ninit_rate = 0.3"),
            Example::new("an MLP, whose weights are fully connected", "layers = \"conv-and-linear\""),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: MsgConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &net)?;
        let forget = data_on_port(inputs, "forget", &net)?;
        let started = Instant::now();
        let retain_data = DeviceData::new(&retain, &device)?;
        let forget_data = DeviceData::new(&forget, &device)?;

        // G = Σ ∇CE over batches of a random retain subset of |D_f| samples − Σ ∇CE over D_f's.
        let n = forget.len().min(retain.len());
        let subset: Vec<u32> = sample(&mut ChaCha8Rng::seed_from_u64(ctx.seed_for("retain-subset")), retain.len(), n)
            .into_iter()
            .map(|i| i as u32)
            .collect();
        let ce = |logits: &Tensor, labels: &Tensor| cross_entropy(logits, labels, 0.0);
        let (plus, retain_samples) = summed_gradients(&net, &retain_data, &subset, 64, &ce)?;
        let (minus, forget_samples) =
            summed_gradients(&net, &forget_data, &all_positions(forget.len()), config.batch_size, &ce)?;
        let grads = plus.iter().zip(&minus).map(|(p, m)| p - m).collect::<tmu_nn::candle::Result<Vec<_>>>()?;
        let picked = smallest_gradients(&net, &grads, config.layers, config.init_rate)?;
        let masked_layers = picked.iter().filter(|p| p.is_some()).count();
        let reinitialised: usize = picked.iter().flatten().map(Vec::len).sum();
        if masked_layers == 0 {
            ctx.warn(format!(
                "the network has no weight that `layers = \"{}\"` covers: nothing is re-initialised, this is fine-tuning",
                serde_json::to_value(config.layers)?.as_str().unwrap_or_default()
            ));
        }
        let vars: Vec<Var> = weights(&net).into_iter().map(|(_, v)| v).collect();
        let seed = ctx.seed_for("train");
        let grad_scale = reinitialise(&vars, &picked, config.kept_gradient, derive_seed(seed, "reinit"))?;

        let phases = [Phase { name: "retain", data: &retain_data, batch_size: config.batch_size, epochs: None }];
        let lr_at = |epoch| config.lr * msg_lr_factor(epoch, config.epochs);
        let report = train_phases(
            ctx,
            &net,
            &phases,
            config.epochs,
            sgd_optimizer(config.lr, config.momentum, config.weight_decay),
            &lr_at,
            seed,
            StepHooks { grad_scale, after_step: None },
            |net, batch| {
                let logits = net.forward_t(batch.x, true)?;
                let loss = cross_entropy(&logits, batch.y, 0.0)?;
                Ok(StepOutput::with_logits(loss, logits))
            },
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let train_samples = report.train_samples + retain_samples + forget_samples;
        let cost = Cost { wall_seconds: seconds, train_samples, forward_samples: 0 };
        let accuracy = forget_accuracy(&net, &forget_data, &[])?;
        ctx.summary("reinitialised", reinitialised);
        ctx.summary("forget_accuracy", accuracy["forget"].clone());
        write_outputs(
            ctx,
            &net,
            &cost,
            json!({
                "method": "msg",
                "config": config,
                "retain": retain.len(),
                "forget": forget.len(),
                "masked_layers": masked_layers,
                "reinitialised_weights": reinitialised,
                "training": report,
                "accuracy_after": accuracy,
            }),
        )
    }
}

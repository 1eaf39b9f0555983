//! Training the predictor: binary cross-entropy with logits on the twin examples (label 1 =
//! easy), optionally re-weighted by class, Adam, shuffled mini-batches from a seeded generator.

use anyhow::{Context as _, bail};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use tmu_nn::candle::{Device, Tensor};
use tmu_nn::optim::AdamConfig;
use tmu_nn::{Optimizer, OptimizerConfig};

use crate::mlp::PredictorMlp;

/// How the predictor is trained.
#[derive(Clone, Debug, PartialEq)]
pub struct FitSettings {
    pub epochs: usize,
    pub batch_size: usize,
    pub lr: f64,
    /// Re-weight the loss by class (see [`class_weights`]).
    pub balance: bool,
}

/// Loss weights `[hard, easy]`: 1 and 1, or with `balance` scikit-learn's "balanced" weights
/// `n / (2 n_class)` (both classes then weigh the same in total). A class that is absent leaves
/// the weights at 1.
pub fn class_weights(easy: &[bool], balance: bool) -> [f64; 2] {
    let n = easy.len() as f64;
    let n_easy = easy.iter().filter(|e| **e).count() as f64;
    let n_hard = n - n_easy;
    if !balance || n_easy == 0.0 || n_hard == 0.0 {
        return [1.0, 1.0];
    }
    [n / (2.0 * n_hard), n / (2.0 * n_easy)]
}

/// PyTorch's `F.binary_cross_entropy_with_logits(z, y, weight=w)` (mean reduction):
/// `mean_i w_i (max(z_i, 0) - z_i y_i + log(1 + exp(-|z_i|)))`; all three `[B]`.
pub fn bce_with_logits(z: &Tensor, y: &Tensor, w: &Tensor) -> tmu_nn::candle::Result<Tensor> {
    let softplus = (z.abs()?.neg()?.exp()? + 1.0)?.log()?;
    let per_sample = ((z.relu()? - (z * y)?)? + softplus)?;
    (per_sample * w)?.mean_all()
}

/// One Adam step on a batch (x `[B, F]`, y `[B]` in {0, 1}, w `[B]`); returns the batch loss.
pub fn train_step(
    mlp: &PredictorMlp,
    opt: &mut Optimizer,
    x: &Tensor,
    y: &Tensor,
    w: &Tensor,
    lr: f64,
) -> anyhow::Result<f32> {
    let loss = bce_with_logits(&mlp.logits(x)?, y, w)?;
    let value = loss.to_scalar::<f32>()?;
    if !value.is_finite() {
        bail!("the predictor's loss became {value} at step {}", opt.steps() + 1);
    }
    let grads = loss.backward()?;
    opt.step(&grads, lr)?;
    Ok(value)
}

/// An Adam optimizer (PyTorch defaults but the learning rate) over the predictor's weights.
pub fn adam(mlp: &PredictorMlp, lr: f64) -> anyhow::Result<Optimizer> {
    let config = OptimizerConfig::Adam(AdamConfig { lr, ..AdamConfig::default() });
    Ok(Optimizer::new(config, mlp.named_params())?)
}

/// Trains `mlp` on the rows of `x` (row-major `[N, F]`, preprocessed) labelled `easy`: every
/// epoch a permutation drawn from a generator seeded with `seed`, batches of `batch_size` in
/// that order (the last one may be smaller). `on_epoch(epoch, mean loss)` is called after each
/// epoch (progress, cancellation). Returns the mean training loss of every epoch.
pub fn fit(
    mlp: &PredictorMlp,
    x: &[f32],
    easy: &[bool],
    settings: &FitSettings,
    seed: u64,
    mut on_epoch: impl FnMut(usize, f64) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<f64>> {
    let (n, f) = (easy.len(), mlp.inputs());
    if n == 0 || x.len() != n * f {
        bail!("{} feature values for {n} labelled rows of {f} features", x.len());
    }
    let [w_hard, w_easy] = class_weights(easy, settings.balance);
    let xs = Tensor::from_slice(x, (n, f), &Device::Cpu)?;
    let ys = Tensor::from_vec(easy.iter().map(|&e| f32::from(u8::from(e))).collect::<Vec<f32>>(), n, &Device::Cpu)?;
    let weights: Vec<f32> = easy.iter().map(|&e| if e { w_easy } else { w_hard } as f32).collect();
    let ws = Tensor::from_vec(weights, n, &Device::Cpu)?;
    let mut opt = adam(mlp, settings.lr)?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut order: Vec<u32> = (0..n as u32).collect();
    let batch = settings.batch_size.max(1);
    let mut losses = Vec::with_capacity(settings.epochs);
    for epoch in 0..settings.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0f64;
        for chunk in order.chunks(batch) {
            let index = Tensor::from_slice(chunk, chunk.len(), &Device::Cpu)?;
            let (xb, yb, wb) = (xs.index_select(&index, 0)?, ys.index_select(&index, 0)?, ws.index_select(&index, 0)?);
            let loss = train_step(mlp, &mut opt, &xb, &yb, &wb, settings.lr)
                .with_context(|| format!("training the predictor, epoch {}", epoch + 1))?;
            total += f64::from(loss) * chunk.len() as f64;
        }
        let mean = total / n as f64;
        losses.push(mean);
        on_epoch(epoch, mean)?;
    }
    Ok(losses)
}

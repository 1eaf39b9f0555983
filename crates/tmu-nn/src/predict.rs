//! Inference over a data set (per-sample logits, f64 cross-entropy and penultimate features),
//! accuracy, and gradients with respect to the input pixels (for adversarial attacks).

use candle_core::{Tensor, Var};

use crate::data::DeviceData;
use crate::error::{NnError, Result};
use crate::loss::{cross_entropy_f64, per_sample_cross_entropy};
use crate::network::Network;

/// Per-sample outputs of a network over a data set, in the data set's order, on the host.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Predictions {
    /// Logits, row-major `[N, K]`.
    pub logits: Vec<f32>,
    pub num_classes: usize,
    /// Cross-entropy of each sample against its label, computed in f64 from the logits.
    pub losses: Vec<f64>,
    /// Penultimate features, row-major `[N, F]` (empty unless asked for).
    pub features: Vec<f32>,
    pub feature_dim: usize,
    /// The labels the losses were computed against.
    pub labels: Vec<u32>,
}

impl Predictions {
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The logits of sample `i`.
    pub fn logits_row(&self, i: usize) -> &[f32] {
        &self.logits[i * self.num_classes..(i + 1) * self.num_classes]
    }

    /// The features of sample `i` (empty if features were not computed).
    pub fn features_row(&self, i: usize) -> &[f32] {
        if self.features.is_empty() { &[] } else { &self.features[i * self.feature_dim..(i + 1) * self.feature_dim] }
    }

    /// The predicted class of every sample (first maximum on ties, like `torch.argmax`).
    pub fn predicted(&self) -> Vec<u32> {
        (0..self.len())
            .map(|i| {
                let row = self.logits_row(i);
                let mut best = 0;
                for (k, &v) in row.iter().enumerate() {
                    if v > row[best] {
                        best = k;
                    }
                }
                best as u32
            })
            .collect()
    }

    /// Whether each sample is classified correctly.
    pub fn correct(&self) -> Vec<bool> {
        self.predicted().iter().zip(&self.labels).map(|(p, l)| p == l).collect()
    }

    /// Fraction of samples classified correctly.
    pub fn accuracy(&self) -> f64 {
        if self.is_empty() {
            return 0.0;
        }
        self.correct().iter().filter(|c| **c).count() as f64 / self.len() as f64
    }

    /// Mean of the per-sample losses.
    pub fn mean_loss(&self) -> f64 {
        if self.is_empty() { 0.0 } else { self.losses.iter().sum::<f64>() / self.len() as f64 }
    }
}

/// Runs `net` in eval mode over `data` in batches of `batch_size`; `features` also collects the
/// penultimate features.
pub fn predict(net: &Network, data: &DeviceData, batch_size: usize, features: bool) -> Result<Predictions> {
    predict_batches(net, data, batch_size, features, &mut |_, _| Ok(()))
}

/// [`predict`] inside a stage: progress through `ctx` after every batch, and a stop between
/// batches once the run is cancelled.
pub fn predict_reporting(
    ctx: &tmu_plugin::Context,
    net: &Network,
    data: &DeviceData,
    batch_size: usize,
    features: bool,
) -> Result<Predictions> {
    predict_batches(net, data, batch_size, features, &mut |done, total| {
        ctx.progress(done as u64, total as u64, "predicting");
        Ok(ctx.check_cancelled()?)
    })
}

/// The batch loop of [`predict`]; `after_batch(done, total)` runs after every batch and may stop it.
fn predict_batches(
    net: &Network,
    data: &DeviceData,
    batch_size: usize,
    features: bool,
    after_batch: &mut dyn FnMut(usize, usize) -> Result<()>,
) -> Result<Predictions> {
    let shape = data.shape();
    if shape[1..] != net.spec().input_shape {
        return Err(NnError::Data(format!(
            "images are {:?} (C, H, W) but the network takes {:?}",
            &shape[1..],
            net.spec().input_shape
        )));
    }
    let k = net.num_classes();
    let n = data.len();
    let batch_size = batch_size.max(1);
    let mut out = Predictions {
        logits: Vec::with_capacity(n * k),
        num_classes: k,
        losses: Vec::with_capacity(n),
        features: Vec::new(),
        feature_dim: if features { net.feature_dim() } else { 0 },
        labels: data.labels().to_vec(),
    };
    for start in (0..n).step_by(batch_size) {
        let len = batch_size.min(n - start);
        let (images, _) = data.range(start, len)?;
        let (f, logits) = net.forward_with_features(&net.normalise_u8(&images)?, false)?;
        out.logits.extend(logits.flatten_all()?.to_vec1::<f32>()?);
        if features {
            out.features.extend(f.flatten_all()?.to_vec1::<f32>()?);
        }
        after_batch(start + len, n)?;
    }
    if let Some(&l) = out.labels.iter().find(|&&l| l as usize >= k) {
        return Err(NnError::Data(format!("label {l} is out of range for a network of {k} classes")));
    }
    out.losses = (0..n).map(|i| cross_entropy_f64(out.logits_row(i), out.labels[i] as usize)).collect();
    Ok(out)
}

/// Accuracy of `net` (eval mode) on `data`.
pub fn evaluate(net: &Network, data: &DeviceData, batch_size: usize) -> Result<f64> {
    Ok(predict(net, data, batch_size, false)?.accuracy())
}

/// The gradient of `loss(logits)` with respect to `pixels` (f32 `[B, C, H, W]` in `[0, 1]`; the
/// network's normalisation is applied inside), and the logits. `train` picks the mode
/// (attacks use eval mode).
pub fn input_gradient_with<F>(net: &Network, pixels: &Tensor, train: bool, loss: F) -> Result<(Tensor, Tensor)>
where
    F: FnOnce(&Tensor) -> Result<Tensor>,
{
    let x = Var::from_tensor(&pixels.detach().copy()?)?;
    let logits = net.forward_t(&net.normalise(x.as_tensor())?, train)?;
    let grads = loss(&logits)?.backward()?;
    let g = grads
        .get(x.as_tensor())
        .cloned()
        .ok_or_else(|| NnError::Config("the loss does not depend on the input".into()))?;
    Ok((g, logits.detach()))
}

/// The gradient of the summed cross-entropy against `labels` (u32 `[B]`) with respect to
/// `pixels` in `[0, 1]`, in eval mode, and the logits: what PGD needs.
pub fn input_gradient(net: &Network, pixels: &Tensor, labels: &Tensor) -> Result<(Tensor, Tensor)> {
    input_gradient_with(net, pixels, false, |logits| Ok(per_sample_cross_entropy(logits, labels)?.sum_all()?))
}

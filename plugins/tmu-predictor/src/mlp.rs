//! The predictor network: an MLP F -> hidden... -> 1 with ReLU between layers, PyTorch
//! `nn.Linear` layers (`weight` `[out, in]`, `bias` `[out]`) initialised from U(-1/sqrt(in),
//! 1/sqrt(in)) drawn from a seeded generator. It always lives on the CPU: it is a few hundred
//! weights, and a GPU would only add launch latency.

use anyhow::{Context as _, bail};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tmu_nn::candle::{Device, Tensor, Var};

/// The weights of one layer on the host: (weight `[out, in]` row-major, bias `[out]`).
pub type LayerWeights = (Vec<f32>, Vec<f32>);

/// The predictor MLP.
pub struct PredictorMlp {
    /// Layer widths: F, the hidden widths, then 1.
    sizes: Vec<usize>,
    /// (weight, bias) per layer.
    layers: Vec<(Var, Var)>,
}

impl std::fmt::Debug for PredictorMlp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PredictorMlp").field("sizes", &self.sizes).finish_non_exhaustive()
    }
}

/// Layer widths `[inputs, hidden..., 1]`, checked.
pub fn layer_sizes(inputs: usize, hidden: &[usize]) -> anyhow::Result<Vec<usize>> {
    if inputs == 0 {
        bail!("the predictor needs at least one feature column");
    }
    if hidden.contains(&0) {
        bail!("hidden layer widths must be positive, got {hidden:?}");
    }
    Ok(std::iter::once(inputs).chain(hidden.iter().copied()).chain(std::iter::once(1)).collect())
}

impl PredictorMlp {
    /// A fresh network with PyTorch's default `nn.Linear` initialisation (per layer: the weight,
    /// then the bias, each element `lo + (up - lo) u` with `u` uniform in [0, 1) from a ChaCha8
    /// generator seeded with `seed`).
    pub fn new(sizes: &[usize], seed: u64) -> anyhow::Result<Self> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut weights = Vec::with_capacity(sizes.len().saturating_sub(1));
        for pair in sizes.windows(2) {
            let (d_in, d_out) = (pair[0], pair[1]);
            let bound = 1.0 / (d_in as f64).sqrt();
            let mut draw = |n: usize| -> Vec<f32> {
                (0..n).map(|_| (-bound + 2.0 * bound * rng.random::<f64>()) as f32).collect()
            };
            let w = draw(d_out * d_in);
            let b = draw(d_out);
            weights.push((w, b));
        }
        PredictorMlp::from_weights(sizes, weights)
    }

    /// A network with the given weights (`weights[i]` for the layer `sizes[i] -> sizes[i+1]`).
    pub fn from_weights(sizes: &[usize], weights: Vec<LayerWeights>) -> anyhow::Result<Self> {
        if sizes.len() < 2 || sizes.contains(&0) || sizes.last() != Some(&1) {
            bail!("layer sizes {sizes:?} do not describe an MLP ending in one output");
        }
        if weights.len() != sizes.len() - 1 {
            bail!("{} weight layers for layer sizes {sizes:?}", weights.len());
        }
        let mut layers = Vec::with_capacity(weights.len());
        for (i, (pair, (w, b))) in sizes.windows(2).zip(weights).enumerate() {
            let (d_in, d_out) = (pair[0], pair[1]);
            if w.len() != d_out * d_in || b.len() != d_out {
                bail!(
                    "layer {i}: weight has {} values and bias {}, expected {d_out}x{d_in} and {d_out}",
                    w.len(),
                    b.len()
                );
            }
            let w = Var::from_tensor(&Tensor::from_vec(w, (d_out, d_in), &Device::Cpu)?)?;
            let b = Var::from_tensor(&Tensor::from_vec(b, d_out, &Device::Cpu)?)?;
            layers.push((w, b));
        }
        Ok(PredictorMlp { sizes: sizes.to_vec(), layers })
    }

    /// Layer widths, `[F, hidden..., 1]`.
    pub fn sizes(&self) -> &[usize] {
        &self.sizes
    }

    /// Number of input features F.
    pub fn inputs(&self) -> usize {
        self.sizes[0]
    }

    /// The trainable parameters by PyTorch-style name (`layers.{i}.weight`, `layers.{i}.bias`).
    pub fn named_params(&self) -> Vec<(String, Var)> {
        self.layers
            .iter()
            .enumerate()
            .flat_map(|(i, (w, b))| {
                [(format!("layers.{i}.weight"), w.clone()), (format!("layers.{i}.bias"), b.clone())]
            })
            .collect()
    }

    /// The weights on the host.
    pub fn weights(&self) -> anyhow::Result<Vec<LayerWeights>> {
        self.layers
            .iter()
            .map(|(w, b)| Ok((w.as_tensor().flatten_all()?.to_vec1()?, b.as_tensor().to_vec1()?)))
            .collect()
    }

    /// Logits `[B]` of a batch `[B, F]` (ReLU after every layer but the last).
    pub fn logits(&self, x: &Tensor) -> tmu_nn::candle::Result<Tensor> {
        let mut y = x.clone();
        for (i, (w, b)) in self.layers.iter().enumerate() {
            // The same products as `y.matmul(&w.t())?.broadcast_add(b)`, bit for bit, without
            // candle's per-matmul thread-count lookup (see tmu_nn::ops::linear).
            y = tmu_nn::ops::linear(&y, w.as_tensor(), b.as_tensor())?;
            if i + 1 < self.layers.len() {
                y = y.relu()?;
            }
        }
        y.squeeze(1)
    }

    /// Logits of a host matrix (row-major `[N, F]`) as f32 values.
    pub fn logits_of(&self, rows: &[f32]) -> anyhow::Result<Vec<f32>> {
        let f = self.inputs();
        if rows.is_empty() || !rows.len().is_multiple_of(f) {
            bail!("{} values do not make rows of {f} features", rows.len());
        }
        let x = Tensor::from_slice(rows, (rows.len() / f, f), &Device::Cpu)?;
        self.logits(&x).and_then(|z| z.to_vec1()).context("running the predictor")
    }
}

/// `sigmoid(z)` in f64 (the predicted probability of *easy*).
pub fn sigmoid(z: f32) -> f64 {
    1.0 / (1.0 + (-f64::from(z)).exp())
}

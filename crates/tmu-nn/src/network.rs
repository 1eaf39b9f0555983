//! [`Network`]: an architecture with its weights (a `VarMap`, names in PyTorch layout), the
//! input normalisation it was trained with, and the forward pass in train or eval mode.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU8, Ordering};

use candle_core::{DType, Device, Tensor, Var};
use candle_nn::VarMap;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::Dataset;
use tmu_plugin::derive_seed;

use crate::error::{NnError, Result};
use crate::init::{Registry, is_buffer};
use crate::layers::Mode;
use crate::models::{ArchConfig, Model, build};
use crate::ops::{Precision, with_precision};

/// Everything about a network except its weights: saved in model files.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NetworkSpec {
    pub arch: ArchConfig,
    /// Class names; their number is the number of logits.
    pub classes: Vec<String>,
    /// `[C, H, W]` of one input image.
    pub input_shape: [usize; 3],
    /// Per-channel mean of pixels in `[0, 1]`, subtracted before the network.
    pub mean: Vec<f32>,
    /// Per-channel standard deviation of pixels in `[0, 1]`, divided by before the network.
    pub std: Vec<f32>,
}

impl NetworkSpec {
    /// A spec for training `arch` on `data` (its classes, image shape and statistics).
    pub fn for_dataset(arch: ArchConfig, data: &Dataset) -> Self {
        NetworkSpec {
            arch,
            classes: data.meta.classes.clone(),
            input_shape: [data.shape[1], data.shape[2], data.shape[3]],
            mean: data.meta.mean.clone(),
            std: data.meta.std.clone(),
        }
    }

    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// Checks the normalisation against the input shape.
    pub fn validate(&self) -> Result<()> {
        let c = self.input_shape[0];
        if self.mean.len() != c || self.std.len() != c {
            return Err(NnError::Config(format!(
                "normalisation has {} means and {} stds for {c} input channels",
                self.mean.len(),
                self.std.len()
            )));
        }
        if let Some(s) = self.std.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
            return Err(NnError::Config(format!("normalisation std {s} is not positive")));
        }
        Ok(())
    }

    /// Checks that `data` fits this network (image shape and class list); the message names
    /// both sides.
    pub fn check_data(&self, data: &Dataset) -> Result<()> {
        let shape = [data.shape[1], data.shape[2], data.shape[3]];
        if shape != self.input_shape {
            return Err(NnError::Data(format!(
                "images are {shape:?} (C, H, W) but the network takes {:?}",
                self.input_shape
            )));
        }
        if data.meta.classes != self.classes {
            return Err(NnError::Data(format!(
                "the data set has classes {:?} but the network was built for {:?}",
                data.meta.classes, self.classes
            )));
        }
        Ok(())
    }
}

/// The tiers in the order of `Network::precision`'s index.
const PRECISIONS: [Precision; 3] = [Precision::F32, Precision::Tf32, Precision::Bf16];

/// An architecture, its weights and its input normalisation, on one device.
pub struct Network {
    spec: NetworkSpec,
    device: Device,
    varmap: VarMap,
    /// Parameter and buffer names in creation order.
    names: Vec<String>,
    model: Box<dyn Model>,
    dropout_rng: Box<Mutex<ChaCha8Rng>>,
    /// The [`Precision`] of training forward passes, as its index in `PRECISIONS`.
    precision: AtomicU8,
    /// Per-channel `1 / (255 std)` and `-mean / std`, shaped `[1, C, 1, 1]`.
    scale: Tensor,
    shift: Tensor,
}

impl std::fmt::Debug for Network {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Network").field("spec", &self.spec).field("device", &self.device).finish_non_exhaustive()
    }
}

impl Network {
    /// A freshly initialised network (PyTorch's default distributions, drawn from a generator
    /// seeded by `seed`; the same seed gives the same weights on every device).
    pub fn new(spec: NetworkSpec, device: &Device, seed: u64) -> Result<Self> {
        Network::assemble(spec, device, Registry::init(derive_seed(seed, "init")), seed)
    }

    /// A network whose every parameter and buffer is taken from `tensors` by name; missing,
    /// extra or wrongly shaped tensors are all reported.
    pub fn from_tensors(spec: NetworkSpec, tensors: HashMap<String, Tensor>, device: &Device) -> Result<Self> {
        Network::assemble(spec, device, Registry::load(tensors), 0)
    }

    fn assemble(spec: NetworkSpec, device: &Device, registry: Registry, seed: u64) -> Result<Self> {
        spec.validate()?;
        let model = build(&spec.arch, spec.input_shape, spec.num_classes(), registry.var_builder(device))?;
        let (varmap, names) = registry.finish()?;
        let c = spec.input_shape[0];
        let scale: Vec<f32> = spec.std.iter().map(|s| 1.0 / (255.0 * s)).collect();
        let shift: Vec<f32> = spec.mean.iter().zip(&spec.std).map(|(m, s)| -m / s).collect();
        Ok(Network {
            scale: Tensor::from_vec(scale, (1, c, 1, 1), device)?,
            shift: Tensor::from_vec(shift, (1, c, 1, 1), device)?,
            dropout_rng: Box::new(Mutex::new(ChaCha8Rng::seed_from_u64(derive_seed(seed, "dropout")))),
            precision: AtomicU8::new(0),
            spec,
            device: device.clone(),
            varmap,
            names,
            model,
        })
    }

    pub fn spec(&self) -> &NetworkSpec {
        &self.spec
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn num_classes(&self) -> usize {
        self.spec.num_classes()
    }

    pub fn feature_dim(&self) -> usize {
        self.model.feature_dim()
    }

    /// The weights (parameters and buffers) as candle variables.
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    fn var(&self, name: &str) -> Var {
        self.varmap.data().lock().expect("varmap lock").get(name).expect("registered name").clone()
    }

    /// Every parameter and buffer by name, in creation order (the order of model files).
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        self.names.iter().map(|n| (n.clone(), self.var(n))).collect()
    }

    /// The trainable parameters by name (batch-norm statistics excluded), in creation order.
    pub fn trainable_vars(&self) -> Vec<(String, Var)> {
        self.names.iter().filter(|n| !is_buffer(n)).map(|n| (n.clone(), self.var(n))).collect()
    }

    /// Copies every weight of `other` (same architecture) into this network.
    pub fn copy_weights_from(&self, other: &Network) -> Result<()> {
        if other.names != self.names {
            return Err(NnError::Config("cannot copy weights between different architectures".into()));
        }
        for ((_, dst), (_, src)) in self.named_vars().iter().zip(other.named_vars()) {
            dst.set(&src.as_tensor().to_device(&self.device)?)?;
        }
        Ok(())
    }

    /// An independent copy (weights copied) on `device`.
    pub fn clone_to(&self, device: &Device) -> Result<Network> {
        let tensors = self
            .named_vars()
            .into_iter()
            .map(|(n, v)| Ok((n, v.as_tensor().to_device(device)?.copy()?)))
            .collect::<Result<HashMap<_, _>>>()?;
        Network::from_tensors(self.spec.clone(), tensors, device)
    }

    /// Reseeds the generator that dropout masks are drawn from (the training loop does this at
    /// every epoch, so that a resumed run draws the same masks).
    pub fn reseed_dropout(&self, seed: u64) {
        *self.dropout_rng.lock().expect("dropout lock") = ChaCha8Rng::seed_from_u64(seed);
    }

    /// u8 images `[B, C, H, W]` -> normalised f32 `(x / 255 - mean) / std`, on the network's device.
    pub fn normalise_u8(&self, images: &Tensor) -> Result<Tensor> {
        let x = images.to_device(&self.device)?.to_dtype(DType::F32)?;
        Ok(x.broadcast_mul(&self.scale)?.broadcast_add(&self.shift)?)
    }

    /// Pixels in `[0, 1]` (f32 `[B, C, H, W]`) -> normalised; differentiable (for input gradients
    /// in pixel space).
    pub fn normalise(&self, pixels: &Tensor) -> Result<Tensor> {
        let x = pixels.broadcast_mul(&(&self.scale * 255.0)?)?;
        Ok(x.broadcast_add(&self.shift)?)
    }

    fn check_input(&self, x: &Tensor) -> Result<()> {
        let dims = x.dims();
        if dims.len() != 4 || dims[1..] != self.spec.input_shape {
            return Err(NnError::Data(format!(
                "input batch has shape {dims:?}, the network takes [B, {}, {}, {}]",
                self.spec.input_shape[0], self.spec.input_shape[1], self.spec.input_shape[2]
            )));
        }
        Ok(())
    }

    /// The numeric tier of training forward passes (strict f32 unless set).
    pub fn precision(&self) -> Precision {
        PRECISIONS[self.precision.load(Ordering::Relaxed) as usize]
    }

    /// Sets the numeric tier of training forward passes (and so of their backward): TF32 or bf16
    /// mixed precision need a cuda device. Weights stay f32 (the master copy the optimizer
    /// updates); under bf16 the input is cast to bf16, convolutions take bf16 copies of their
    /// weights, batch norm keeps f32 statistics and parameters, and the features and logits come
    /// back in f32. Eval-mode passes always run in strict f32.
    pub fn set_precision(&self, p: Precision) -> Result<()> {
        if p != Precision::F32 && !self.device.is_cuda() {
            return Err(NnError::Config(format!("{p} precision needs a cuda device, the network is on the cpu")));
        }
        let index = PRECISIONS.iter().position(|&q| q == p).expect("every precision is listed");
        self.precision.store(index as u8, Ordering::Relaxed);
        Ok(())
    }

    /// (penultimate features `[B, F]`, logits `[B, K]`) of a normalised batch, in f32. `train` uses
    /// batch statistics (and updates the running ones), dropout and the network's precision.
    pub fn forward_with_features(&self, x: &Tensor, train: bool) -> Result<(Tensor, Tensor)> {
        self.check_input(x)?;
        if train {
            let p = self.precision();
            let mut rng = self.dropout_rng.lock().expect("dropout lock");
            let x = x.to_dtype(p.activation_dtype())?;
            let (features, logits) = with_precision(p, || self.model.forward(&x, &mut Mode::train(&mut rng)))?;
            Ok((features.to_dtype(DType::F32)?, logits.to_dtype(DType::F32)?))
        } else {
            Ok(self.model.forward(x, &mut Mode::eval())?)
        }
    }

    /// Logits `[B, K]` of a normalised batch.
    pub fn forward_t(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        Ok(self.forward_with_features(x, train)?.1)
    }

    /// Penultimate features `[B, F]` of a normalised batch.
    pub fn features(&self, x: &Tensor, train: bool) -> Result<Tensor> {
        Ok(self.forward_with_features(x, train)?.0)
    }
}

//! Where parameters come from: drawn from a seeded host generator (candle's CPU generator cannot
//! be seeded) or taken by name from loaded tensors, both behind candle's `VarBuilder`.
//!
//! Layers ask for their parameters with PyTorch's default distributions (`Init::Uniform` with
//! the fan-in bound, `Init::Const`, `Init::Randn`); the registry records the creation order,
//! which is the parameter order of optimizers, checkpoints and model files.

use std::collections::HashMap;
use std::sync::Mutex;

use candle_core::{DType, Device, Shape, Tensor, Var};
use candle_nn::var_builder::SimpleBackend;
use candle_nn::{Init, VarBuilder, VarMap};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use crate::error::{NnError, Result};

/// Names ending like this are buffers (batch-norm statistics): saved, never trained.
pub fn is_buffer(name: &str) -> bool {
    name.ends_with(".running_mean") || name.ends_with(".running_var") || name.ends_with(".num_batches_tracked")
}

enum Source {
    /// New parameters drawn from this generator.
    Init(Box<Mutex<ChaCha8Rng>>),
    /// Parameters taken from these tensors; anything missing is a problem.
    Load(HashMap<String, Tensor>),
}

/// Collects the parameters of a model while it is built.
pub(crate) struct Registry {
    varmap: VarMap,
    names: Mutex<Vec<String>>,
    problems: Mutex<Vec<String>>,
    source: Source,
}

impl Registry {
    /// Parameters drawn from a generator seeded with `seed`.
    pub(crate) fn init(seed: u64) -> Self {
        Registry::with_source(Source::Init(Box::new(Mutex::new(ChaCha8Rng::seed_from_u64(seed)))))
    }

    /// Parameters taken from `tensors` (already on the target device).
    pub(crate) fn load(tensors: HashMap<String, Tensor>) -> Self {
        Registry::with_source(Source::Load(tensors))
    }

    fn with_source(source: Source) -> Self {
        Registry { varmap: VarMap::new(), names: Mutex::new(Vec::new()), problems: Mutex::new(Vec::new()), source }
    }

    /// A `VarBuilder` over this registry.
    pub(crate) fn var_builder<'a>(&'a self, device: &Device) -> VarBuilder<'a> {
        VarBuilder::from_backend(Box::new(Backend(self)), DType::F32, device.clone())
    }

    /// The variables in creation order, or every problem found while loading.
    pub(crate) fn finish(self) -> Result<(VarMap, Vec<String>)> {
        let names = self.names.into_inner().expect("registry lock");
        let mut problems = self.problems.into_inner().expect("registry lock");
        if let Source::Load(tensors) = &self.source {
            let mut extra: Vec<&String> = tensors.keys().filter(|k| !names.contains(k)).collect();
            extra.sort();
            problems.extend(extra.into_iter().map(|k| format!("unexpected weight `{k}`")));
        }
        if problems.is_empty() { Ok((self.varmap, names)) } else { Err(NnError::Weights(problems)) }
    }

    fn problem(&self, p: String) {
        self.problems.lock().expect("registry lock").push(p);
    }

    fn create(&self, shape: &Shape, name: &str, init: Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        match &self.source {
            Source::Init(rng) => {
                let mut rng = rng.lock().expect("registry lock");
                draw(&mut rng, shape, init)?.to_dtype(dtype)?.to_device(dev)
            }
            Source::Load(tensors) => match tensors.get(name) {
                None => {
                    self.problem(format!("missing weight `{name}` (shape {:?})", shape.dims()));
                    Tensor::zeros(shape, dtype, dev)
                }
                Some(t) if t.shape() != shape => {
                    self.problem(format!(
                        "weight `{name}` has shape {:?}, the architecture needs {:?}",
                        t.dims(),
                        shape.dims()
                    ));
                    Tensor::zeros(shape, dtype, dev)
                }
                Some(t) => t.to_dtype(dtype)?.to_device(dev),
            },
        }
    }
}

/// Draws host values for one parameter (PyTorch's distributions; f64 arithmetic, f32 values).
fn draw(rng: &mut ChaCha8Rng, shape: &Shape, init: Init) -> candle_core::Result<Tensor> {
    let n = shape.elem_count();
    let values: Vec<f32> = match init {
        Init::Const(v) => vec![v as f32; n],
        Init::Uniform { lo, up } => (0..n).map(|_| (lo + (up - lo) * rng.random::<f64>()) as f32).collect(),
        Init::Randn { mean, stdev } => {
            (0..n).map(|_| (mean + stdev * rng.sample::<f64, _>(StandardNormal)) as f32).collect()
        }
        Init::Kaiming { .. } => candle_core::bail!("Init::Kaiming is not supported: use Init::Uniform with its bound"),
    };
    Tensor::from_vec(values, shape.clone(), &Device::Cpu)
}

struct Backend<'a>(&'a Registry);

impl SimpleBackend for Backend<'_> {
    fn get(&self, s: Shape, name: &str, h: Init, dtype: DType, dev: &Device) -> candle_core::Result<Tensor> {
        let reg = self.0;
        let mut data = reg.varmap.data().lock().expect("varmap lock");
        if let Some(v) = data.get(name) {
            if v.shape() != &s {
                candle_core::bail!("parameter `{name}` requested with shapes {:?} and {:?}", v.dims(), s.dims());
            }
            return Ok(v.as_tensor().clone());
        }
        let var = Var::from_tensor(&reg.create(&s, name, h, dtype, dev)?)?;
        let t = var.as_tensor().clone();
        data.insert(name.to_string(), var);
        reg.names.lock().expect("registry lock").push(name.to_string());
        Ok(t)
    }

    fn get_unchecked(&self, name: &str, _dtype: DType, _dev: &Device) -> candle_core::Result<Tensor> {
        candle_core::bail!("parameter `{name}` requested without a shape")
    }

    fn contains_tensor(&self, name: &str) -> bool {
        match &self.0.source {
            Source::Init(_) => false,
            Source::Load(t) => t.contains_key(name),
        }
    }
}

/// PyTorch's default bound for `Conv2d`/`Linear` weights and biases: `1/sqrt(fan_in)`
/// (`kaiming_uniform_(a=sqrt(5))` reduces to this).
pub fn fan_in_bound(fan_in: usize) -> f64 {
    1.0 / (fan_in as f64).sqrt()
}

/// `Init::Uniform` over `[-b, b]`.
pub fn uniform(b: f64) -> Init {
    Init::Uniform { lo: -b, up: b }
}

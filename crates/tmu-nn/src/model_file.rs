//! Model artifacts: a safetensors file whose tensors are the network's weights by PyTorch name
//! (batch-norm buffers included, so `load_state_dict(strict=True)` accepts it) and whose
//! metadata holds `tmu.kind = "model"`, `tmu.format`, the architecture and its config, the
//! classes, the input shape and the normalisation. Loading checks all of it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use safetensors::Dtype;
use tmu_plugin::ArtifactKind;
use tmu_plugin::artifact::{Container, ContainerWriter};

use crate::error::{NnError, Result};
use crate::models::ArchConfig;
use crate::network::{Network, NetworkSpec};

/// Metadata: the architecture name (`resnet18`, ...).
pub const META_ARCH: &str = "tmu.arch";
/// Metadata: the architecture config as JSON (`{"arch":"resnet18","stem":"cifar","width":64}`).
pub const META_ARCH_CONFIG: &str = "tmu.arch_config";
/// Metadata: class names, JSON list.
pub const META_CLASSES: &str = "tmu.classes";
/// Metadata: number of classes.
pub const META_NUM_CLASSES: &str = "tmu.num_classes";
/// Metadata: `[C, H, W]`, JSON.
pub const META_INPUT_SHAPE: &str = "tmu.input_shape";
/// Metadata: per-channel mean of `[0, 1]` pixels, JSON.
pub const META_MEAN: &str = "tmu.mean";
/// Metadata: per-channel standard deviation of `[0, 1]` pixels, JSON.
pub const META_STD: &str = "tmu.std";

/// Metadata: seconds of compute of the stage that produced the model (training or unlearning).
pub const META_WALL_SECONDS: &str = "tmu.wall_seconds";

/// A tensor's safetensors dtype and little-endian bytes (f32 and i64 only).
pub(crate) fn tensor_bytes(t: &Tensor) -> Result<(Dtype, Vec<u8>)> {
    let flat = t.flatten_all()?;
    Ok(match t.dtype() {
        DType::F32 => (Dtype::F32, flat.to_vec1::<f32>()?.iter().flat_map(|v| v.to_le_bytes()).collect()),
        DType::I64 => (Dtype::I64, flat.to_vec1::<i64>()?.iter().flat_map(|v| v.to_le_bytes()).collect()),
        other => return Err(NnError::Config(format!("cannot save a {other:?} weight"))),
    })
}

/// One tensor ready for safetensors: name, dtype, shape, little-endian bytes.
pub(crate) type Record = (String, Dtype, Vec<usize>, Vec<u8>);

/// The weights of `net` as records, in creation order.
pub(crate) fn weight_records(net: &Network) -> Result<Vec<Record>> {
    net.named_vars()
        .into_iter()
        .map(|(name, var)| {
            let (dtype, bytes) = tensor_bytes(var.as_tensor())?;
            Ok((name, dtype, var.dims().to_vec(), bytes))
        })
        .collect()
}

/// Adds the spec's metadata entries to a writer.
pub(crate) fn write_spec(w: &mut ContainerWriter, spec: &NetworkSpec) {
    w.meta(META_ARCH, spec.arch.name())
        .meta_json(META_ARCH_CONFIG, &spec.arch)
        .meta_json(META_CLASSES, &spec.classes)
        .meta(META_NUM_CLASSES, spec.num_classes().to_string())
        .meta_json(META_INPUT_SHAPE, &spec.input_shape)
        .meta_json(META_MEAN, &spec.mean)
        .meta_json(META_STD, &spec.std);
}

/// Reads a spec from metadata; every missing or malformed entry is listed.
pub(crate) fn read_spec(meta: &HashMap<String, String>) -> std::result::Result<NetworkSpec, Vec<String>> {
    let mut problems = Vec::new();
    fn field<T: serde::de::DeserializeOwned>(
        meta: &HashMap<String, String>,
        key: &str,
        problems: &mut Vec<String>,
    ) -> Option<T> {
        match meta.get(key) {
            None => {
                problems.push(format!("metadata `{key}` is missing"));
                None
            }
            Some(s) => match serde_json::from_str(s) {
                Ok(v) => Some(v),
                Err(e) => {
                    problems.push(format!("metadata `{key}` is not valid: {e}"));
                    None
                }
            },
        }
    }
    let arch: Option<ArchConfig> = field(meta, META_ARCH_CONFIG, &mut problems);
    let classes: Option<Vec<String>> = field(meta, META_CLASSES, &mut problems);
    let input_shape: Option<[usize; 3]> = field(meta, META_INPUT_SHAPE, &mut problems);
    let mean: Option<Vec<f32>> = field(meta, META_MEAN, &mut problems);
    let std: Option<Vec<f32>> = field(meta, META_STD, &mut problems);
    match (meta.get(META_ARCH), &arch) {
        (None, _) => problems.push(format!("metadata `{META_ARCH}` is missing")),
        (Some(name), Some(a)) if name != a.name() => problems
            .push(format!("metadata `{META_ARCH}` says `{name}` but `{META_ARCH_CONFIG}` describes `{}`", a.name())),
        _ => {}
    }
    if let (Some(n), Some(c)) = (meta.get(META_NUM_CLASSES), &classes)
        && n.parse::<usize>().ok() != Some(c.len())
    {
        problems.push(format!("metadata `{META_NUM_CLASSES}` is {n} but {} class names are listed", c.len()));
    }
    match (arch, classes, input_shape, mean, std) {
        (Some(arch), Some(classes), Some(input_shape), Some(mean), Some(std)) if problems.is_empty() => {
            Ok(NetworkSpec { arch, classes, input_shape, mean, std })
        }
        _ => Err(problems),
    }
}

impl Network {
    /// Writes the model artifact atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.save_with_metadata(path, &[])
    }

    /// Writes the model artifact atomically with extra metadata entries, e.g.
    /// ([`META_WALL_SECONDS`], "12.5") so evaluators can put a method's cost next to the gold
    /// retrain's.
    pub fn save_with_metadata(&self, path: &Path, extra: &[(&str, String)]) -> Result<()> {
        let mut w = ContainerWriter::new(ArtifactKind::Model);
        write_spec(&mut w, self.spec());
        for (key, value) in extra {
            w.meta(key, value.clone());
        }
        for (name, dtype, shape, bytes) in weight_records(self)? {
            w.raw(&name, dtype, shape, Cow::Owned(bytes));
        }
        Ok(w.write(path)?)
    }

    /// Reads a model artifact onto `device`; errors name the file and every problem (missing
    /// metadata, unknown architecture, missing or extra weights, wrong shapes).
    pub fn load(path: &Path, device: &Device) -> Result<Network> {
        let container = Container::read(path, ArtifactKind::Model)?;
        let spec = read_spec(container.metadata())
            .map_err(|problems| NnError::Model { path: path.to_path_buf(), problems })?;
        drop(container);
        let tensors = candle_core::safetensors::load(path, device)
            .map_err(|e| NnError::Model { path: path.to_path_buf(), problems: vec![e.to_string()] })?;
        Network::from_tensors(spec, tensors, device).map_err(|e| match e {
            NnError::Weights(problems) => NnError::Model { path: path.to_path_buf(), problems },
            NnError::Candle(e) => NnError::Model { path: path.to_path_buf(), problems: vec![e.to_string()] },
            other => other,
        })
    }

    /// Reads only the spec of a model artifact (no weights).
    pub fn read_spec(path: &Path) -> Result<NetworkSpec> {
        let (kind, meta) = tmu_plugin::artifact::read_header(path)?;
        if kind != Some(ArtifactKind::Model) {
            return Err(NnError::Model {
                path: path.to_path_buf(),
                problems: vec![format!(
                    "it is a `{}` artifact, expected `model`",
                    kind.map_or("(none)", |k| k.as_str())
                )],
            });
        }
        read_spec(&meta).map_err(|problems| NnError::Model { path: path.to_path_buf(), problems })
    }
}

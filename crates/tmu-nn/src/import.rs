//! Importing a PyTorch `state_dict` (safetensors, or a `.pt`/`.pth` zip written by
//! `torch.save(model.state_dict())`) as a [`Network`]: the zoo's weight names are PyTorch's (for
//! `resnet18` exactly torchvision's), so the import checks names, shapes and dtypes and says
//! which tensor is wrong; half-precision weights are widened to f32 with a note.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};

use crate::error::{NnError, Result};
use crate::network::{Network, NetworkSpec};

/// What an import produced besides the network: notes for the user (dtype conversions, a
/// stripped prefix).
#[derive(Debug, Default)]
pub struct ImportNotes {
    pub notes: Vec<String>,
}

/// The one-line conversion a user runs when a pickle file cannot be read.
pub const CONVERT_HINT: &str = "convert it with: python3 -c \"import torch, sys; from safetensors.torch import save_file; \
     save_file({k: v.contiguous() for k, v in torch.load(sys.argv[1], map_location='cpu').items()}, sys.argv[2])\" \
     IN.pt OUT.safetensors";

/// Reads every tensor of a state_dict file, by extension: `.safetensors`, or `.pt`/`.pth`/`.bin`
/// (PyTorch's zip of pickles; a checkpoint dict with a `state_dict` entry is accepted too).
pub fn read_state_dict(path: &Path) -> Result<HashMap<String, Tensor>> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    let fail = |problem: String| NnError::Model { path: path.to_path_buf(), problems: vec![problem] };
    match ext.as_str() {
        "safetensors" => candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| fail(e.to_string())),
        "pt" | "pth" | "bin" => {
            let read = |key| candle_core::pickle::read_all_with_key(path, key);
            let tensors = match read(None) {
                Ok(t) if !t.is_empty() => t,
                Ok(_) => read(Some("state_dict")).unwrap_or_default(),
                Err(e) => return Err(fail(format!("cannot read it as a torch.save zip ({e}); {CONVERT_HINT}"))),
            };
            if tensors.is_empty() {
                return Err(fail(format!(
                    "no tensors found (expected the file of torch.save(model.state_dict())); {CONVERT_HINT}"
                )));
            }
            Ok(tensors.into_iter().collect())
        }
        other => Err(fail(format!(
            "unknown extension `.{other}`: a state_dict is read from .safetensors, .pt, .pth or .bin"
        ))),
    }
}

/// `tensors` with `prefix` taken off every name, when every name has it (DataParallel's
/// `module.`, or a wrapper's attribute name); unchanged otherwise.
pub fn strip_prefix(
    tensors: HashMap<String, Tensor>,
    prefix: &str,
    notes: &mut ImportNotes,
) -> HashMap<String, Tensor> {
    if prefix.is_empty() || tensors.is_empty() || !tensors.keys().all(|k| k.starts_with(prefix)) {
        return tensors;
    }
    notes.notes.push(format!("the prefix `{prefix}` was taken off all {} tensor names", tensors.len()));
    tensors.into_iter().map(|(k, v)| (k[prefix.len()..].to_string(), v)).collect()
}

/// Builds the network of `spec` from a state_dict. Every problem is listed, each naming its
/// tensor: missing, unexpected, wrong shape, wrong dtype (an integer where a float belongs or
/// the reverse; f16, bf16 and f64 floats are converted to f32 with a note).
pub fn import_state_dict(
    spec: NetworkSpec,
    tensors: HashMap<String, Tensor>,
    device: &Device,
) -> Result<(Network, ImportNotes)> {
    let mut notes = ImportNotes::default();
    let mut problems = Vec::new();
    let mut converted: HashMap<DType, Vec<String>> = HashMap::new();
    let mut checked = HashMap::with_capacity(tensors.len());
    let mut names: Vec<&String> = tensors.keys().collect();
    names.sort();
    for name in names {
        let t = &tensors[name];
        let wants_int = name.ends_with(".num_batches_tracked");
        let is_float = matches!(t.dtype(), DType::F32 | DType::F16 | DType::BF16 | DType::F64);
        let is_int = matches!(t.dtype(), DType::I64 | DType::U32 | DType::U8 | DType::I32 | DType::I16);
        let t = if wants_int {
            if !is_int {
                problems.push(format!("weight `{name}` has dtype {:?}, the architecture needs an integer", t.dtype()));
            }
            t.to_dtype(DType::I64)?
        } else {
            if !is_float {
                problems.push(format!("weight `{name}` has dtype {:?}, the architecture needs a float", t.dtype()));
            } else if t.dtype() != DType::F32 {
                converted.entry(t.dtype()).or_default().push(name.clone());
            }
            t.to_dtype(DType::F32)?
        };
        checked.insert(name.clone(), t.to_device(device)?);
    }
    let mut kinds: Vec<_> = converted.into_iter().collect();
    kinds.sort_by_key(|(d, _)| d.as_str());
    for (dtype, names) in kinds {
        notes.notes.push(format!(
            "{} {} tensors (first `{}`) were converted to f32; the model computes in f32",
            names.len(),
            dtype.as_str(),
            names[0]
        ));
    }
    match Network::from_tensors(spec, checked, device) {
        Ok(net) if problems.is_empty() => Ok((net, notes)),
        Ok(_) => Err(NnError::Weights(problems)),
        Err(NnError::Weights(more)) => {
            problems.extend(more);
            Err(NnError::Weights(problems))
        }
        Err(e) => Err(e),
    }
}

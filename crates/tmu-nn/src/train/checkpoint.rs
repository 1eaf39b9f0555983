//! Per-epoch checkpoints: one safetensors file (`model.<weight>`, `optim.<state>` tensors and a
//! JSON record) written atomically into the stage's work folder, read back to resume.
//!
//! The generators need no saved state: every epoch draws its shuffling, augmentation, dropout
//! and batch randomness from streams derived from (seed, epoch), so the record's epoch count is
//! the generator state at an epoch boundary.

use std::collections::HashMap;
use std::path::Path;

use safetensors::tensor::TensorView;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::write_atomic;

use super::observer::EpochStats;
use crate::error::{NnError, Result};
use crate::model_file::{Record, tensor_bytes, weight_records};
use crate::network::Network;
use crate::optim::Optimizer;

/// The checkpoint's file name inside the checkpoint folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
const META_RECORD: &str = "tmu.checkpoint";
const META_KIND: &str = "tmu.kind";

/// The JSON record of a checkpoint.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// Identifies the run (config, network, data, seed); a different run ignores the file.
    pub fingerprint: String,
    /// Completed epochs.
    pub epochs_done: usize,
    /// Optimizer steps taken.
    pub global_step: u64,
    /// The seed the per-epoch generator streams derive from.
    pub seed: u64,
    /// Stats of the completed epochs.
    pub history: Vec<EpochStats>,
}

/// Writes the checkpoint atomically: a crash leaves the previous one intact.
pub(crate) fn save(dir: &Path, record: &Checkpoint, net: &Network, optimizer: &Optimizer) -> Result<()> {
    let path = dir.join(CHECKPOINT_FILE);
    let fail = |problem: String| NnError::Checkpoint { path: path.clone(), problem };
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create the folder: {e}")))?;
    let mut records: Vec<Record> = weight_records(net)?
        .into_iter()
        .map(|(name, dtype, shape, bytes)| (format!("model.{name}"), dtype, shape, bytes))
        .collect();
    for (name, t) in optimizer.state() {
        let (dtype, bytes) = tensor_bytes(&t)?;
        records.push((format!("optim.{name}"), dtype, t.dims().to_vec(), bytes));
    }
    let mut views = Vec::with_capacity(records.len());
    for (name, dtype, shape, bytes) in &records {
        views.push((name.clone(), TensorView::new(*dtype, shape.clone(), bytes).map_err(|e| fail(e.to_string()))?));
    }
    let mut meta = HashMap::new();
    meta.insert(META_KIND.to_string(), "checkpoint".to_string());
    meta.insert(META_RECORD.to_string(), serde_json::to_string(record).expect("record serialises"));
    let bytes = safetensors::serialize(views, Some(meta)).map_err(|e| fail(e.to_string()))?;
    write_atomic(&path, &bytes)?;
    Ok(())
}

/// What was found in the checkpoint folder.
pub(crate) enum Resume {
    /// No checkpoint: start from scratch.
    Fresh,
    /// A checkpoint of another run (the message says so): start from scratch.
    Foreign(String),
    /// `net` and the optimizer were restored to the end of this record's last epoch.
    Resumed(Checkpoint),
}

/// Restores `net` and `optimizer` from the checkpoint in `dir` if there is one for this run
/// (same fingerprint).
pub(crate) fn load(dir: &Path, fingerprint: &str, net: &Network, optimizer: &mut Optimizer) -> Result<Resume> {
    let path = dir.join(CHECKPOINT_FILE);
    if !path.is_file() {
        return Ok(Resume::Fresh);
    }
    let fail = |problem: String| NnError::Checkpoint { path: path.clone(), problem };
    let (_, meta) = tmu_plugin::artifact::read_header(&path)?;
    let record: Checkpoint = match meta.get(META_RECORD).map(|s| serde_json::from_str(s)) {
        Some(Ok(r)) => r,
        _ => return Err(fail("it has no valid `tmu.checkpoint` record".into())),
    };
    if record.fingerprint != fingerprint {
        return Ok(Resume::Foreign(format!(
            "ignoring checkpoint {}: it belongs to another run (fingerprint {} instead of {fingerprint})",
            path.display(),
            record.fingerprint
        )));
    }
    let tensors = candle_core::safetensors::load(&path, net.device()).map_err(|e| fail(e.to_string()))?;
    let mut optim_state = HashMap::new();
    let mut weights = HashMap::new();
    for (name, t) in tensors {
        if let Some(n) = name.strip_prefix("model.") {
            weights.insert(n.to_string(), t);
        } else if let Some(n) = name.strip_prefix("optim.") {
            optim_state.insert(n.to_string(), t);
        }
    }
    for (name, var) in net.named_vars() {
        let t = weights.get(&name).ok_or_else(|| fail(format!("weight `{name}` is missing")))?;
        if t.shape() != var.shape() {
            return Err(fail(format!("weight `{name}` has shape {:?}, expected {:?}", t.dims(), var.dims())));
        }
        var.set(&t.to_dtype(var.dtype())?)?;
    }
    optimizer.load_state(record.global_step, &optim_state).map_err(|e| fail(e.to_string()))?;
    Ok(Resume::Resumed(record))
}

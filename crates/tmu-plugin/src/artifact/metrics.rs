//! Metrics artifacts: one JSON object per file.

use std::path::Path;

use super::{ArtifactError, write_json_atomic};

/// Writes a metrics object atomically.
pub fn write_metrics(path: &Path, metrics: &serde_json::Value) -> Result<(), ArtifactError> {
    if !metrics.is_object() {
        return Err(ArtifactError::invalid(path, "metrics must be a JSON object"));
    }
    write_json_atomic(path, metrics)
}

/// Reads a metrics file; it must hold a JSON object.
pub fn read_metrics(path: &Path) -> Result<serde_json::Value, ArtifactError> {
    let bytes = std::fs::read(path).map_err(|e| ArtifactError::io("read", path, e))?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| ArtifactError::invalid(path, format!("not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ArtifactError::invalid(path, "metrics must be a JSON object"));
    }
    Ok(value)
}

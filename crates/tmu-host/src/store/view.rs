//! The stage views `runs/<pipeline>/<stage>/`: what a user reads, linked from the cache.

use std::path::PathBuf;

use super::fsops::{io_err, link_tree, remove_tree};
use super::{OUT_DIR, RunsDir, StoreError};
use crate::record::CacheRecord;

impl RunsDir {
    /// Empties (creating) the stage view folder, e.g. before a stage runs.
    pub fn reset_stage_dir(&self, pipeline: &str, stage: &str) -> Result<PathBuf, StoreError> {
        let dir = self.stage_dir(pipeline, stage);
        if dir.exists() {
            remove_tree(&dir)?;
        }
        std::fs::create_dir_all(&dir).map_err(io_err("create", &dir))?;
        Ok(dir)
    }

    /// Fills the stage view from a cache entry: outputs, `config.json` and `stage.log` linked
    /// (hard links, else read-only copies). The caller writes `stage.json` last.
    pub fn link_view(&self, pipeline: &str, stage: &str, record: &CacheRecord) -> Result<PathBuf, StoreError> {
        let dir = self.reset_stage_dir(pipeline, stage)?;
        let entry = self.cache_dir(&record.key);
        for out in record.outputs.values() {
            link_tree(&entry.join(OUT_DIR).join(&out.file), &dir.join(&out.file))?;
        }
        for file in ["config.json", "stage.log"] {
            if entry.join(file).exists() {
                link_tree(&entry.join(file), &dir.join(file))?;
            }
        }
        Ok(dir)
    }
}

//! Test helpers for tmu: small seeded data sets and an in-process stage harness.

mod data;
mod harness;

pub use data::{BlobsSpec, blobs};
pub use harness::{RecordingHost, RunOptions, StageRun, config, run_stage, run_stage_with};

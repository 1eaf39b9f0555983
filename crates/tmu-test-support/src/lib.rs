//! Test helpers for tmu: small seeded data sets, an in-process stage harness, checks of a
//! plugin's self-description, and its snapshot that the generated docs are made from.

mod data;
mod describe;
mod harness;
mod snapshot;

pub use data::{BlobsSpec, blobs};
pub use describe::{check_examples, check_stage_configs, run_examples, run_examples_except};
pub use harness::{RecordingHost, RunOptions, StageRun, config, run_stage, run_stage_with};
pub use snapshot::{check_describe_snapshot, plugin_docs_dir};

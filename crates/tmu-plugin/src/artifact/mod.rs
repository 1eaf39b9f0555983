//! Artifact files: safetensors with `tmu.kind` metadata, and JSON metrics. Parsing validates.

mod container;
mod dataset;
mod error;
mod features;
mod io;
mod labels;
mod metrics;

pub use container::{Container, ContainerWriter, read_header};
pub use dataset::{Dataset, DatasetMeta};
pub use error::ArtifactError;
pub use features::Features;
pub use io::{write_atomic, write_json_atomic};
pub use labels::Labels;
pub use metrics::{read_metrics, write_metrics};

/// Metadata key naming the artifact kind (`dataset`, `model`, `features`, `labels`).
pub const META_KIND: &str = "tmu.kind";
/// Metadata key of the artifact format version.
pub const META_FORMAT: &str = "tmu.format";
/// The format version this crate writes and reads.
pub const FORMAT_VERSION: u32 = 1;

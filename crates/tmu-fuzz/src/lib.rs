//! tmu-fuzz: fuzz targets for every reader of untrusted bytes in tmu (pipeline files, safetensors
//! artifacts, CIFAR binary and pickle files, images, the plugin protocol's JSON), their seed
//! corpora, and a bounded, deterministic mutation run that CI executes as a test.
//!
//! Coverage-guided fuzzing runs the same targets through cargo-fuzz (the `fuzz/` folder at the
//! repository root; see docs/reliability.md).

pub mod driver;
pub mod mutate;
pub mod seeds;
pub mod targets;

pub use targets::{TARGETS, Target};

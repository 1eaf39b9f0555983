//! tmu-nn: the candle model zoo, training engine, fast custom ops and model artifacts of tmu.
//!
//! - [`Network`]: an architecture ([`ArchConfig`]) with weights in PyTorch layout and its input
//!   normalisation; `new` (seeded init), `load`/`save` (model artifacts), `forward_t`.
//! - [`DeviceData`]: a data set uploaded once as u8; batches gathered and normalised on the device.
//! - [`fit`] trains a classifier; [`train_loop`] runs the same machinery (optimizer, schedule,
//!   shuffling, augmentation, stop rules, progress, cancellation, checkpoints) with a caller's
//!   per-batch loss.
//! - [`predict()`], [`evaluate`] and [`input_gradient`] for feature extractors and evaluators.
//!
//! ```no_run
//! # fn main() -> tmu_nn::Result<()> {
//! use tmu_nn::{ArchName, ArchOptions, DeviceData, Network, NetworkSpec, NoObserver, NnError};
//! use tmu_nn::{TrainConfig, TrainOptions, fit, predict};
//! # let data: tmu_plugin::artifact::Dataset = unimplemented!();
//! let device = tmu_nn::candle::Device::Cpu;
//! let arch = ArchOptions::default().resolve(ArchName::SmallCnn).map_err(NnError::Config)?;
//! let net = Network::new(NetworkSpec::for_dataset(arch, &data), &device, 0)?;
//! let train = DeviceData::new(&data, &device)?;
//! let opts = TrainOptions { seed: 1, ..Default::default() };
//! let report = fit(&net, &train, &TrainConfig::default(), &opts, &mut NoObserver)?;
//! let p = predict(&net, &train, 256, true)?; // logits, f64 losses, features, in data order
//! net.save(std::path::Path::new("model.safetensors"))?;
//! # Ok(()) }
//! ```

pub mod cost;
pub mod data;
pub mod error;
pub mod import;
pub mod init;
pub mod layers;
pub mod loss;
mod model_file;
pub mod models;
mod network;
pub mod ops;
pub mod optim;
pub mod ports;
pub mod predict;
pub mod train;

pub use cost::{Cost, META_FORWARD_SAMPLES, META_TRAIN_SAMPLES, trained_samples};
pub use data::{Augment, DeviceData};
pub use error::{NnError, Result};
pub use model_file::{
    META_ARCH, META_ARCH_CONFIG, META_CLASSES, META_INPUT_SHAPE, META_MEAN, META_NUM_CLASSES, META_STD,
    META_WALL_SECONDS,
};
pub use models::{ArchConfig, ArchName, ArchOptions};
pub use network::{Network, NetworkSpec};
pub use ops::Precision;
pub use optim::{Optimizer, OptimizerConfig, Schedule};
pub use ports::{data_on_port, model_on_port};
pub use predict::{Predictions, evaluate, input_gradient, input_gradient_with, predict, predict_reporting};
pub use train::{
    Batch, Control, EpochStats, NoObserver, StepOutput, StopReason, StopRules, TrainConfig, TrainObserver,
    TrainOptions, TrainReport, fit, train_loop,
};

/// Re-exported so that users of tmu-nn build against the same candle.
pub use candle_core as candle;
pub use candle_nn;

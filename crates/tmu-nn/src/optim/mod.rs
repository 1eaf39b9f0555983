//! Optimizers with PyTorch semantics (SGD with momentum, Nesterov, dampening and weight decay;
//! Adam; AdamW) whose state can be saved and restored, and learning-rate schedules.

mod adam;
mod config;
mod optimizer;
mod schedule;
mod sgd;

pub use config::{AdamConfig, OptimizerConfig, SgdConfig};
pub use optimizer::Optimizer;
pub use schedule::Schedule;

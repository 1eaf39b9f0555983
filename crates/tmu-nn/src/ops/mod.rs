//! Fast custom ops (candle `CustomOp`s with their own backward) used by the model zoo: CPU f32
//! kernels here, and with the `cuda` feature cuDNN and CUDA kernels in `cuda/` for cuda tensors.

mod alloc;
mod batch_norm;
mod batch_norm_cpu;
mod conv2d;
mod conv_cpu;
mod conv_nhwc;
mod conv_winograd;
mod cpu;
#[cfg(feature = "cuda")]
pub(crate) mod cuda;
mod linear;
mod precision;
mod profile;
mod relu;
mod sgd;
mod winograd_tiles;

pub use alloc::keep_freed_memory;
pub use batch_norm::{batch_norm_eval, batch_norm_relu_train, batch_norm_train, update_running_stats};
pub use conv_nhwc::set_channels_last_enabled;
pub use conv_winograd::set_winograd_enabled;
pub use conv2d::{Conv2dCfg, conv2d};
pub use linear::{PARALLEL_MIN as LINEAR_PARALLEL_MIN, linear};
pub use precision::{Precision, current_precision, with_precision};
pub use profile::{KernelTime, profile_report, reset_profile, set_profiling};
pub use relu::{add_relu, relu};
pub use sgd::{SgdCfg, sgd_momentum_update};

//! CUDA implementations of the fast ops (feature `cuda`): cuDNN convolutions, tmu-nn's own
//! kernels for batch norm (and its running statistics), ReLU, the residual join, the optimizer steps and augmentation. The
//! op entry points in `crate::ops` dispatch here for cuda tensors.

mod augment;
mod batch_norm;
mod conv;
mod cudnn;
mod device;
mod elementwise;
mod optim;

pub(crate) use augment::crop_flip;
pub(crate) use batch_norm::{batch_norm_train, running_stats_apply, update_running_stats};
pub(crate) use conv::conv2d;
pub(crate) use elementwise::{add_relu, relu};
pub(crate) use optim::{AdamStep, adam_update, applies as optimizer_applies, sgd_update};

/// True when `t` is a cuda tensor of a dtype the CUDA kernels take (f32 or bf16).
pub(crate) fn handles(t: &candle_core::Tensor) -> bool {
    t.device().is_cuda() && matches!(t.dtype(), candle_core::DType::F32 | candle_core::DType::BF16)
}

//! The building blocks of every architecture: the one place where a layer's computation lives,
//! so that swapping in a faster op (see `crate::ops`) is a change to one file.

mod activation;
mod batch_norm;
mod conv;
mod dropout;
mod layer_norm;
mod linear;
mod mode;
mod pool;

pub use activation::{add_relu, relu};
pub use batch_norm::{BatchNorm2d, batch_norm2d};
pub use conv::{Conv2d, Conv2dConfig, conv2d};
pub use dropout::Dropout;
pub use layer_norm::{LayerNorm, layer_norm};
pub use linear::{Linear, linear};
pub use mode::Mode;
pub use pool::{global_avg_pool, max_pool_3x3_s2_p1, max_pool2d};

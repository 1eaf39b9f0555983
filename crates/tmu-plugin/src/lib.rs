//! tmu-plugin: the stage API and C ABI of tmu; the only crate a third-party plugin needs.
//!
//! A plugin is a `cdylib` that implements [`Stage`] for a few unit structs and lists them in
//! [`export_plugin!`]. The host loads it with the C ABI in [`abi`]: JSON messages in
//! [`protocol`] cross the boundary, data travels as [`artifact`] files, never as memory.
//! With the `candle` feature this crate re-exports the candle version every plugin must use.

pub mod abi;
pub mod artifact;
mod context;
mod device;
pub mod export;
mod help;
mod inputs;
pub mod plugin;
pub mod protocol;
mod seed;
mod stage;

pub use context::{Cancelled, Context, HostSink, LogLevel, NullHost};
pub use device::DeviceSpec;
#[cfg(feature = "candle")]
pub use device::{candle_device, device_name};
pub use help::{Advice, Help, ResultExt, with_help};
pub use inputs::{ArtifactRef, Binding, InputError, Inputs};
pub use plugin::Plugin;
pub use seed::{derive_seed, mix64};
pub use stage::{Arity, ArtifactKind, Example, InputPort, OutputPort, Signature, Stage};

/// Re-exported so that stage authors use the same versions as the SDK.
pub use anyhow;
pub use schemars;
pub use serde;
pub use serde_json;

#[cfg(feature = "candle")]
pub use candle_core as candle;
#[cfg(feature = "candle")]
pub use candle_nn;

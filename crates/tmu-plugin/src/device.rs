//! Device requests (`cpu`, `cuda`, `cuda:N`, `auto`) and, with the `candle` feature, candle devices.

use std::fmt;
use std::str::FromStr;

/// A parsed `device` setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceSpec {
    Cpu,
    Cuda(usize),
    /// CUDA when the plugin was built with it and a GPU is present, else CPU.
    Auto,
}

impl FromStr for DeviceSpec {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(DeviceSpec::Cpu),
            "auto" => Ok(DeviceSpec::Auto),
            "cuda" => Ok(DeviceSpec::Cuda(0)),
            _ => match s.strip_prefix("cuda:").map(str::parse::<usize>) {
                Some(Ok(n)) => Ok(DeviceSpec::Cuda(n)),
                _ => Err(format!("unknown device `{s}`: expected cpu, cuda, cuda:N or auto")),
            },
        }
    }
}

impl fmt::Display for DeviceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceSpec::Cpu => f.write_str("cpu"),
            DeviceSpec::Cuda(n) => write!(f, "cuda:{n}"),
            DeviceSpec::Auto => f.write_str("auto"),
        }
    }
}

#[cfg(feature = "candle")]
mod candle_device {
    use super::DeviceSpec;
    use crate::context::Context;

    /// Advice when a build without the `cuda` feature is asked for a cuda device.
    const NO_CUDA_FEATURE_HELP: &str = "build the plugins with CUDA (no GPU needed to build): \
         `bash scripts/cuda-cargo.sh build --release --features cuda -p <plugin>` (docs/cuda.md), \
         and run them where an NVIDIA GPU, its driver and the CUDA 13 libraries are; or set device = \"cpu\"";

    /// Advice when a CUDA build cannot open its device.
    const NO_GPU_HELP: &str = "a CUDA build needs an NVIDIA GPU with its driver (libcuda.so.1; `nvidia-smi` \
         lists the GPU) and the CUDA 13 libraries libcudart.so.13, libcublas.so.13, libcublasLt.so.13, \
         libcurand.so.10, libnvrtc.so.13 and libcudnn.so.9 on LD_LIBRARY_PATH (PyTorch's pip packages have \
         them under site-packages/nvidia/*/lib; docs/cuda.md); or set device = \"cpu\"";

    /// The candle device for a request; `auto` prefers CUDA when this build has it and a GPU is
    /// present.
    pub fn candle_device(spec: DeviceSpec) -> anyhow::Result<candle_core::Device> {
        match spec {
            DeviceSpec::Cpu => Ok(candle_core::Device::Cpu),
            DeviceSpec::Cuda(n) => {
                if !cfg!(feature = "cuda") {
                    return Err(crate::help::with_help(
                        format!("device cuda:{n} was requested but this plugin was built without CUDA"),
                        NO_CUDA_FEATURE_HELP,
                    ));
                }
                candle_core::Device::new_cuda(n)
                    .map_err(|e| crate::help::with_help(format!("cannot open cuda:{n}: {e}"), NO_GPU_HELP))
            }
            DeviceSpec::Auto => {
                if cfg!(feature = "cuda") && candle_core::utils::cuda_is_available() {
                    candle_core::Device::new_cuda(0).map_err(|e| anyhow::anyhow!("cannot open cuda:0: {e}"))
                } else {
                    Ok(candle_core::Device::Cpu)
                }
            }
        }
    }

    /// The device name as reported back to the host.
    pub fn device_name(device: &candle_core::Device) -> String {
        match device.location() {
            candle_core::DeviceLocation::Cpu => "cpu".to_string(),
            candle_core::DeviceLocation::Cuda { gpu_id } => format!("cuda:{gpu_id}"),
            candle_core::DeviceLocation::Metal { gpu_id } => format!("metal:{gpu_id}"),
        }
    }

    impl Context<'_> {
        /// Opens the device the pipeline asked for and records it as the device used.
        pub fn candle_device(&mut self) -> anyhow::Result<candle_core::Device> {
            let spec: DeviceSpec = self.device_request().parse().map_err(anyhow::Error::msg)?;
            let device = candle_device(spec)?;
            self.set_device_used(device_name(&device));
            Ok(device)
        }
    }
}

#[cfg(feature = "candle")]
pub use candle_device::{candle_device, device_name};

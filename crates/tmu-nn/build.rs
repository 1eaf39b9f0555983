//! Compiles tmu-nn's CUDA kernels (`src/ops/cuda/kernels/*.cu`) to PTX with nvcc when the `cuda`
//! feature is on; does nothing otherwise (CPU builds need no CUDA toolkit).
//!
//! PTX is built here, not with NVRTC at run time, because the GPU machine's driver (CUDA 13.0)
//! rejects PTX from a newer compiler: the build pins nvcc 13.0 (scripts/cuda-cargo.sh), the same
//! way candle's own kernels are built, while the NVRTC found at run time could be any 13.x.

use std::path::PathBuf;
use std::process::Command;

const KERNELS: &[&str] = &["batch_norm", "elementwise", "optim", "augment"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_CUDA").is_none() {
        return;
    }
    println!("cargo:rerun-if-env-changed=CUDA_COMPUTE_CAP");
    println!("cargo:rerun-if-env-changed=NVCC");
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let cap = std::env::var("CUDA_COMPUTE_CAP").unwrap_or_else(|_| "90".to_string());
    let nvcc = std::env::var("NVCC").unwrap_or_else(|_| "nvcc".to_string());
    println!("cargo:rerun-if-changed=src/ops/cuda/kernels/common.cuh");
    for name in KERNELS {
        let src = format!("src/ops/cuda/kernels/{name}.cu");
        println!("cargo:rerun-if-changed={src}");
        let ptx = out.join(format!("{name}.ptx"));
        let status = Command::new(&nvcc)
            .args(["--ptx", "-O3", "-std=c++17", "--restrict"])
            .arg(format!("-arch=compute_{cap}"))
            .arg("-Isrc/ops/cuda/kernels")
            .arg("-o")
            .arg(&ptx)
            .arg(&src)
            .status()
            .unwrap_or_else(|e| {
                panic!("cannot run `{nvcc}` for {src}: {e} (build with scripts/cuda-cargo.sh, see docs/cuda.md)")
            });
        assert!(status.success(), "`{nvcc}` failed on {src} with {status}");
    }
}

#!/usr/bin/env bash
# Runs cargo with `--features cuda`-capable settings on a machine with NO GPU, NO NVIDIA driver
# and NO system CUDA toolkit, using only the Python and Rust package registries; every output
# goes to target/cuda (never the shared target/release, whose CPU plugins everyone loads).
#
#   bash scripts/cuda-cargo.sh build --release --features cuda -p tmu-nn --example bench_train_step
#   bash scripts/cuda-cargo.sh clippy --features cuda -p tmu-nn --all-targets -- -D warnings
#   bash scripts/cuda-cargo.sh env      # only set up the toolchain and print the environment
#
# The project's copy of the shared CUDA recipe (docs/cuda.md), extended with cuDNN:
# - nvcc 13.0 and the CUDA 13 headers and link-time libraries from PyPI, in a virtual
#   environment under target/cuda/toolchain (git-ignored, so the device tool never carries it);
# - cuDNN 9 for linking: reused from an installed `nvidia-cudnn-cu13` (PyTorch's) when the host
#   python has one, else installed from PyPI into the same environment (a 0.5 GB wheel);
# - a CUDA_ROOT-shaped folder (target/cuda/cuda-root) with the unversioned lib*.so names the
#   linker needs, and a link-time stub of libcuda.so (the real one comes with the driver).
# nvcc must not be newer than the GPU driver's CUDA (13.0 on the GPU machine): candle and tmu-nn
# ship PTX that the driver compiles at load time, and a driver rejects PTX from a newer nvcc.
set -euo pipefail

NVCC_VERSION=13.0.88
CAP=${CUDA_COMPUTE_CAP:-90}
ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="$ROOT_DIR/target/cuda"
VENV="$TARGET/toolchain"
CUDA_ROOT_DIR="$TARGET/cuda-root"

mkdir -p "$TARGET"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
STAMP="$VENV/.tmu-cuda-$NVCC_VERSION"
if [ ! -f "$STAMP" ]; then
  "$VENV/bin/pip" install -q \
    "nvidia-cuda-nvcc==$NVCC_VERSION" \
    "nvidia-cuda-crt==$NVCC_VERSION" \
    "nvidia-nvvm==$NVCC_VERSION" \
    "nvidia-cuda-cccl==13.0.85" \
    "nvidia-cuda-runtime==13.0.96" \
    "nvidia-cuda-nvrtc==$NVCC_VERSION" \
    "nvidia-cublas==13.0.2.14" \
    "nvidia-curand==10.4.0.35"
  touch "$STAMP"
fi
SP="$("$VENV/bin/python" -c 'import sysconfig;print(sysconfig.get_paths()["purelib"])')"
CU="$SP/nvidia/cu13"
test -x "$CU/bin/nvcc"

# cuDNN: the host python's (PyTorch's) install if any, else PyPI.
CUDNN_LIB="${CUDNN_LIB_DIR:-}"
if [ -z "$CUDNN_LIB" ]; then
  CUDNN_LIB="$(python3 - <<'EOF' 2>/dev/null || true
import importlib.util, os
spec = importlib.util.find_spec("nvidia.cudnn")
if spec and spec.submodule_search_locations:
    lib = os.path.join(list(spec.submodule_search_locations)[0], "lib")
    if os.path.exists(os.path.join(lib, "libcudnn.so.9")):
        print(lib)
EOF
)"
fi
if [ -z "$CUDNN_LIB" ]; then
  if [ ! -f "$SP/nvidia/cudnn/lib/libcudnn.so.9" ]; then
    "$VENV/bin/pip" install -q "nvidia-cudnn-cu13>=9.10,<10"
  fi
  CUDNN_LIB="$SP/nvidia/cudnn/lib"
fi
test -f "$CUDNN_LIB/libcudnn.so.9"

# A CUDA_ROOT: bin/include/nvvm from the wheels, unversioned lib*.so for the linker.
rm -rf "$CUDA_ROOT_DIR"
mkdir -p "$CUDA_ROOT_DIR/lib/stubs"
ln -s "$CU/bin" "$CUDA_ROOT_DIR/bin"
ln -s "$CU/include" "$CUDA_ROOT_DIR/include"
ln -s "$CU/nvvm" "$CUDA_ROOT_DIR/nvvm"
for l in cublas cublasLt curand nvrtc cudart; do
  f=$(ls "$CU/lib/lib$l.so."* | grep -v alt | head -n1)
  ln -s "$f" "$CUDA_ROOT_DIR/lib/lib$l.so"
done
ln -s "$CUDNN_LIB/libcudnn.so.9" "$CUDA_ROOT_DIR/lib/libcudnn.so"
ln -s lib "$CUDA_ROOT_DIR/lib64"

# libcuda.so belongs to the driver and is not on PyPI: a link-time stub exporting every cu*
# entry point of cuda.h (SONAME libcuda.so.1, so the driver's library is loaded at run time).
grep -oE '\bcu[A-Z][A-Za-z0-9_]*\b' "$CU/include/cuda.h" | sort -u \
  | awk '{print "int " $1 "(void){return 34;}"}' > "$CUDA_ROOT_DIR/lib/stubs/cuda_stub.c"
gcc -shared -fPIC -O1 -Wl,-soname,libcuda.so.1 -o "$CUDA_ROOT_DIR/lib/stubs/libcuda.so" \
  "$CUDA_ROOT_DIR/lib/stubs/cuda_stub.c"

# cudarc's build script reads `nvcc --version` and searches $CUDA_ROOT/{lib,lib/stubs,lib64};
# candle-kernels and tmu-nn's build scripts run nvcc from PATH for CUDA_COMPUTE_CAP.
export PATH="$CUDA_ROOT_DIR/bin:$PATH"
export CUDA_ROOT="$CUDA_ROOT_DIR"
export CUDA_COMPUTE_CAP="$CAP"
export CARGO_TARGET_DIR="$TARGET"
cd "$ROOT_DIR"
if [ "${1:-}" = "env" ]; then
  echo "export PATH=\"$CUDA_ROOT_DIR/bin:\$PATH\" CUDA_ROOT=\"$CUDA_ROOT\" CUDA_COMPUTE_CAP=$CAP CARGO_TARGET_DIR=\"$TARGET\""
  nvcc --version | tail -n 2
  exit 0
fi
exec cargo "$@"

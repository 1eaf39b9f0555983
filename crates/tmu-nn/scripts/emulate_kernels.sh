#!/usr/bin/env bash
# Compiles tmu-nn's CUDA kernels for the host with an emulation of the CUDA execution model
# (scripts/emulate/cuda_bf16.h: one CPU thread per CUDA thread, barriers, warp shuffles) and runs
# them against double-precision references: a check of the kernels' indexing, reductions and
# formulas on a machine without a GPU. Needs g++ (C++20). Run by hand from anywhere:
#   bash crates/tmu-nn/scripts/emulate_kernels.sh
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
g++ -std=c++20 -O2 -pthread -Wall -Wno-unknown-pragmas -I"$HERE/emulate" -I"$HERE/../src/ops/cuda/kernels" \
  -o "$OUT/emulate_kernels" "$HERE/emulate/emulate_kernels.cpp"
"$OUT/emulate_kernels"

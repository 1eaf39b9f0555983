#!/usr/bin/env bash
# The GPU check, packed by `cargo xtask gpu-check` into target/gpu-check/run.sh. On a GPU machine
# (no Rust, no network; Python with PyTorch and NVIDIA's pip CUDA libraries), from the repository
# root:   bash target/gpu-check/run.sh
# Steps: the libraries (ldd misses, driver, cuDNN), the PTX (ptxas when there is one), every
# parity test of tmu-nn's cuda_parity binary in its own process with a timeout (a failing one is
# rerun with CUDA_LAUNCH_BLOCKING=1 so the failing kernel is named), the CIFAR ResNet-18 training
# step of tmu-nn and PyTorch per tier and batch. It keeps going past failures and always writes
# $OUT/summary.md.
# Environment: OUT (default a temporary folder), BATCHES ("128 512"), STEPS (20),
# TEST_TIMEOUT (90 s per parity test), PARITY_BUDGET (300 s: no parity test starts that could end
# after it; a blocking rerun may take 60 s more), LIMIT (530 s: likewise for every run, so the script ends
# within 9 minutes).
set -u
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$(mktemp -d)}"
mkdir -p "$OUT"
BATCHES="${BATCHES:-128 512}"
STEPS="${STEPS:-20}"
TEST_TIMEOUT="${TEST_TIMEOUT:-90}"
PARITY_BUDGET="${PARITY_BUDGET:-300}"
LIMIT="${LIMIT:-530}"
S="$OUT/summary.md"
STATUS="$OUT/status.tsv"   # step <TAB> result, one line per step
: > "$STATUS"
# fits SECONDS_NEEDED [UNTIL]: true when a run of that length, started now, ends by UNTIL (LIMIT).
fits() { [ $((SECONDS + $1)) -le "${2:-$LIMIT}" ]; }
step() { printf '%s\t%s\n' "$1" "$2" >> "$STATUS"; echo "== $1: $2"; }

# Always write the summary, whatever happens below.
summary() {
  python3 "$HERE/summary.py" "$OUT" > "$S" 2> "$OUT/summary.err" || {
    { echo "# GPU check (summary.py failed: see summary.err)"; echo; cat "$STATUS"; } > "$S"
  }
  echo "summary: $S"
}
trap summary EXIT

# The binaries, gzipped to fit what is carried.
BIN="$(mktemp -d)"
for f in "$HERE"/*.gz; do
  b="$(basename "$f" .gz)"
  if gzip -dc "$f" > "$BIN/$b" 2>/dev/null; then chmod +x "$BIN/$b"; else step "unpack $b" "FAILED"; fi
done

# tmu-nn and candle load libcudart, libcublas(Lt), libcurand, libnvrtc and libcudnn: PyTorch's
# pip CUDA libraries provide them.
SP="$(python3 -c 'import sysconfig;print(sysconfig.get_paths()["purelib"])' 2>/dev/null)"
LIBS=""
for d in "$SP"/nvidia/*/lib "$SP"/nvidia/cu13/lib; do
  if [ -d "$d" ]; then LIBS="$LIBS:$d"; fi
done
export LD_LIBRARY_PATH="${LIBS#:}:${LD_LIBRARY_PATH:-}"

# 1. libraries
{
  echo "gpu: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | head -n1)"
  echo "cuda (driver): $(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | head -n1)"
  python3 - <<'EOF' 2>&1
import ctypes
try:
    import torch
    print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn (torch)", torch.backends.cudnn.version())
except Exception as e:
    print("torch: not importable:", e)
try:
    print("cudnn (libcudnn.so.9 loaded here):", ctypes.CDLL("libcudnn.so.9").cudnnGetVersion())
except Exception as e:
    print("libcudnn.so.9: not loadable:", e)
EOF
  echo "ldd misses:"
  ldd "$BIN"/* 2>&1 | grep "not found" | sort -u || echo "  none"
} > "$OUT/libraries.txt" 2>&1
cat "$OUT/libraries.txt"
if grep -q "not found" "$OUT/libraries.txt"; then step libraries "MISSING (libraries.txt)"; else step libraries ok; fi

# 2. PTX (tmu-nn's kernels; candle's are validated by the driver when loaded)
if command -v ptxas > /dev/null || [ -x "$(dirname "$(command -v nvcc 2>/dev/null || echo /x)")/ptxas" ]; then
  PTXAS="$(command -v ptxas || echo "$(dirname "$(command -v nvcc)")/ptxas")"
  ok=1
  for f in "$HERE"/ptx/*.ptx; do
    if ! "$PTXAS" -arch=sm_90 "$f" -o /dev/null >> "$OUT/ptxas.log" 2>&1; then ok=0; echo "ptxas failed: $f" >> "$OUT/ptxas.log"; fi
  done
  if [ "$ok" = 1 ]; then step "ptxas -arch=sm_90" ok; else step "ptxas -arch=sm_90" "FAILED (ptxas.log)"; fi
else
  step "ptxas -arch=sm_90" "skipped (no ptxas here; checked when packed)"
fi

# 3. parity tests, one process each
mkdir -p "$OUT/parity"
if [ -x "$BIN/cuda_parity" ]; then
  "$BIN/cuda_parity" --list 2> "$OUT/parity/list.err" | sed -n 's/: test$//p' > "$OUT/parity/tests.txt"
  [ -s "$OUT/parity/tests.txt" ] || step "parity list" "FAILED (parity/list.err)"
  while read -r t; do
    if ! fits "$TEST_TIMEOUT" "$PARITY_BUDGET"; then step "parity $t" "skipped (time budget)"; continue; fi
    log="$OUT/parity/$t.log"
    timeout "$TEST_TIMEOUT" "$BIN/cuda_parity" --exact "$t" --nocapture --test-threads=1 > "$log" 2>&1
    rc=$?
    if [ "$rc" = 0 ]; then
      step "parity $t" ok
    else
      why="FAILED (exit $rc)"; [ "$rc" = 124 ] && why="TIMEOUT (${TEST_TIMEOUT}s)"
      if ! fits "$TEST_TIMEOUT" $((PARITY_BUDGET + 60)); then step "parity $t" "$why; no time for a blocking rerun"; continue; fi
      CUDA_LAUNCH_BLOCKING=1 timeout "$TEST_TIMEOUT" "$BIN/cuda_parity" --exact "$t" --nocapture --test-threads=1 \
        > "$OUT/parity/$t.blocking.log" 2>&1
      step "parity $t" "$why; rerun with CUDA_LAUNCH_BLOCKING=1 exit $? ($t.blocking.log)"
    fi
  done < "$OUT/parity/tests.txt"
fi

# 4. training step, tmu-nn and PyTorch, same batch and tier
: > "$OUT/bench.log"
if [ -x "$BIN/bench_train_step" ]; then
  for b in $BATCHES; do
    for p in f32 tf32 bf16; do
      for impl in ops zoo; do
        if ! fits 90; then step "bench $impl $p $b" "skipped (time budget)"; continue; fi
        timeout 90 "$BIN/bench_train_step" --device cuda --impl "$impl" --precision "$p" --batch "$b" \
          --steps "$STEPS" --warmup 5 >> "$OUT/bench.log" 2>> "$OUT/bench.err" \
          || step "bench $impl $p $b" "FAILED (exit $?, bench.err)"
      done
    done
    if fits 90; then
      timeout 90 python3 "$HERE/torch_resnet18.py" cuda "$b" "$STEPS" >> "$OUT/bench.log" 2>> "$OUT/bench.err" \
        || step "bench torch $b" "FAILED (exit $?, bench.err)"
    else
      step "bench torch $b" "skipped (time budget)"
    fi
    if fits 60; then
      timeout 60 "$BIN/bench_train_step" --device cuda --impl ops --precision f32 --batch "$b" --steps 10 --warmup 3 \
        --phases >> "$OUT/bench.log" 2>> "$OUT/bench.err" || step "bench phases $b" "FAILED (exit $?)"
    fi
  done
  cat "$OUT/bench.log"
fi

exit 0

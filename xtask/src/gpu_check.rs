//! `cargo xtask gpu-check`: builds tmu-nn's CUDA binaries here (no GPU needed) with
//! `scripts/cuda-cargo.sh` into `target/cuda`, strips and gzips them into `target/gpu-check/`
//! with the PyTorch bench and a `run.sh`, and prints the command that runs it all on a GPU
//! machine: the op parity tests, then the training-step bench beside PyTorch (same batch, same
//! tier) with the ratios.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{root, sh};

/// What the device tool carries at most.
const CARRY_LIMIT: u64 = 64 << 20;
/// The folder carried to the GPU machine, relative to the workspace root (git-ignored).
const OUT_DIR: &str = "target/gpu-check";

const USAGE: &str = "\
cargo xtask gpu-check [--no-build]

Builds the CUDA parity tests and the training-step bench with scripts/cuda-cargo.sh (target/cuda,
never target/release), writes target/gpu-check/ (stripped, gzipped binaries, torch_resnet18.py, run.sh)
and prints the command that runs them on a GPU machine. --no-build reuses the last build.
";

pub fn run(args: &[String]) -> Result<()> {
    let mut build = true;
    for a in args {
        match a.as_str() {
            "--no-build" => build = false,
            "-h" | "--help" => {
                print!("{USAGE}");
                return Ok(());
            }
            other => bail!("unknown argument `{other}`\n\n{USAGE}"),
        }
    }
    let root = root();
    let script = root.join("scripts/cuda-cargo.sh");
    let cargo = |args: &[&str]| {
        let mut cmd = Command::new("bash");
        cmd.arg(&script).args(args);
        cmd
    };
    let bench = root.join("target/cuda/release/examples/bench_train_step");
    if build {
        sh(&mut cargo(&["build", "--release", "--features", "cuda", "-p", "tmu-nn", "--example", "bench_train_step"]))?;
    }
    let parity = parity_binary(&cargo, build)?;
    for bin in [&bench, &parity] {
        if !bin.is_file() {
            bail!("{} is missing: run `cargo xtask gpu-check` without --no-build", bin.display());
        }
    }

    let out = root.join(OUT_DIR);
    if out.exists() {
        std::fs::remove_dir_all(&out).with_context(|| format!("removing {}", out.display()))?;
    }
    std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
    for (bin, name) in [(&bench, "bench_train_step"), (&parity, "cuda_parity")] {
        let dst = out.join(name);
        strip_into(bin, &dst)?;
        // 54 MiB stripped each (mostly candle's PTX text): gzip brings both under the limit
        sh(Command::new("gzip").args(["-6", "-n", "-f"]).arg(&dst))?;
    }
    let torch = root.join("crates/tmu-nn/benches/torch_resnet18.py");
    std::fs::copy(&torch, out.join("torch_resnet18.py")).with_context(|| format!("copying {}", torch.display()))?;
    let run_sh = out.join("run.sh");
    std::fs::write(&run_sh, RUN_SH).with_context(|| format!("writing {}", run_sh.display()))?;

    let mut total = 0;
    for entry in std::fs::read_dir(&out)? {
        let entry = entry?;
        let len = entry.metadata()?.len();
        total += len;
        eprintln!("  {:>8.1} MiB  {}/{}", len as f64 / (1 << 20) as f64, OUT_DIR, entry.file_name().to_string_lossy());
    }
    eprintln!("  {:>8.1} MiB  in all (the device tool carries at most 64 MiB)", total as f64 / (1 << 20) as f64);
    if total > CARRY_LIMIT {
        bail!("{OUT_DIR} is {total} bytes, more than the 64 MiB the device tool carries");
    }
    println!("on the GPU machine (device tool `run`), from the repository root:");
    println!("  command: bash {OUT_DIR}/run.sh");
    println!("  carry:   [\"{OUT_DIR}\"]");
    println!("  timeout_s: 420 (about 4-5 minutes at batch 128; BATCHES=\"128 512\" in front adds batch 512)");
    Ok(())
}

/// Builds the `cuda_parity` test binary (unless `!build`) and returns its path.
fn parity_binary(cargo: &dyn Fn(&[&str]) -> Command, build: bool) -> Result<PathBuf> {
    let record = root().join("target/cuda/gpu-check-parity-path");
    if build {
        let mut cmd = cargo(&[
            "test",
            "--release",
            "--features",
            "cuda",
            "-p",
            "tmu-nn",
            "--test",
            "cuda_parity",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ]);
        eprintln!("$ {cmd:?}");
        let output = cmd.current_dir(root()).output().context("cannot start scripts/cuda-cargo.sh")?;
        if !output.status.success() {
            eprint!("{}", String::from_utf8_lossy(&output.stderr));
            bail!("building the cuda parity tests failed with {}", output.status);
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let path = stdout
            .lines()
            .filter(|l| l.contains("\"name\":\"cuda_parity\""))
            .find_map(|l| json_string(l, "executable"))
            .context("cargo did not report the cuda_parity executable")?;
        std::fs::write(&record, &path).with_context(|| format!("writing {}", record.display()))?;
    }
    let path = std::fs::read_to_string(&record)
        .with_context(|| format!("reading {} (build once without --no-build)", record.display()))?;
    Ok(PathBuf::from(path.trim()))
}

/// The string value of `"key":"..."` in one line of cargo's JSON (paths have no escapes here).
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let end = line[start..].find('"')? + start;
    Some(line[start..end].to_string())
}

/// Copies `src` to `dst` without symbols (`strip`).
fn strip_into(src: &Path, dst: &Path) -> Result<()> {
    sh(Command::new("strip").arg("--strip-all").arg("-o").arg(dst).arg(src))
        .with_context(|| format!("stripping {}", src.display()))
}

/// The script run on the GPU machine (from the repository root, `$OUT` collecting the logs).
const RUN_SH: &str = r#"#!/usr/bin/env bash
# Written by `cargo xtask gpu-check`. On a GPU machine, from the repository root:
#   bash target/gpu-check/run.sh            (BATCHES="128" STEPS=30 by default; "128 512" adds
#                                            PyTorch's second reference batch, about 3 minutes more)
# 1. the CUDA op parity tests (tmu-nn's cuda_parity test binary), 2. the CIFAR ResNet-18 training
# step of tmu-nn (ops and model zoo) and of plain candle, and PyTorch's, per batch size and tier,
# 3. the ratios. Logs go to $OUT (or a temporary folder).
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
OUT="${OUT:-$(mktemp -d)}"
BATCHES="${BATCHES:-128}"
STEPS="${STEPS:-30}"

# the binaries, gzipped to fit what the device tool carries
BIN="$(mktemp -d)"
for b in cuda_parity bench_train_step; do
  gzip -dc "$HERE/$b.gz" > "$BIN/$b" 2>/dev/null || python3 -c \
    'import gzip, shutil, sys; shutil.copyfileobj(gzip.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$HERE/$b.gz" "$BIN/$b"
  chmod +x "$BIN/$b"
done

# candle, cuDNN and tmu-nn link libcudart, libcublas(Lt), libcurand, libnvrtc and libcudnn:
# PyTorch's pip CUDA libraries provide them.
SP="$(python3 -c 'import sysconfig;print(sysconfig.get_paths()["purelib"])')"
LIBS=""
for d in "$SP"/nvidia/*/lib; do
  if [ -d "$d" ]; then LIBS="$LIBS:$d"; fi
done
export LD_LIBRARY_PATH="${LIBS#:}:${LD_LIBRARY_PATH:-}"

echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
python3 -c 'import torch; print("torch", torch.__version__, "cudnn", torch.backends.cudnn.version())' || true
echo "== libraries not found (none expected)"
ldd "$BIN/cuda_parity" "$BIN/bench_train_step" | grep "not found" || echo "none"

echo "== parity tests"
"$BIN/cuda_parity" --test-threads=1 --nocapture > "$OUT/parity.log" 2>&1
parity=$?
grep -E "^test |max abs error .*(e-0[0-2]|e\+)|panicked|FAILED|test result" "$OUT/parity.log" | tail -n 80
echo "parity exit status: $parity (full log: parity.log)"

echo "== training step (forward + backward + SGD momentum 0.9, wd 5e-4)"
: > "$OUT/bench.log"
for b in $BATCHES; do
  for p in f32 tf32 bf16; do
    for impl in ops zoo; do
      "$BIN/bench_train_step" --device cuda --impl "$impl" --precision "$p" --batch "$b" \
        --steps "$STEPS" --warmup 5 2>>"$OUT/bench.err" | tee -a "$OUT/bench.log"
    done
  done
  "$BIN/bench_train_step" --device cuda --impl candle --precision f32 --batch "$b" --steps 10 --warmup 2 \
    2>>"$OUT/bench.err" | tee -a "$OUT/bench.log"
  "$BIN/bench_train_step" --device cuda --impl ops --precision f32 --batch "$b" --steps 10 --warmup 3 --phases \
    2>>"$OUT/bench.err" | tee -a "$OUT/bench.log"
  python3 "$HERE/torch_resnet18.py" cuda "$b" "$STEPS" 2>>"$OUT/bench.err" | tee -a "$OUT/bench.log"
done
tail -n 20 "$OUT/bench.err" 2>/dev/null

echo "== ratios (candle / PyTorch, same batch, same tier: f32~fp32, tf32~tf32, bf16~bf16-cl)"
python3 - "$OUT/bench.log" <<'EOF'
import re, sys
ours, torch = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"candle-(\w+) cuda (\w+) batch=(\d+) .*?([0-9.]+) img/s \(([0-9.]+) ms/step\)", line)
    if m:
        ours[(m[1], m[2], int(m[3]))] = float(m[4])
    m = re.match(r"torch cuda (\S+) batch=(\d+) .*?([0-9.]+) img/s", line)
    if m:
        torch[({"fp32": "f32", "tf32": "tf32", "bf16-cl": "bf16"}[m[1]], int(m[2]))] = float(m[3])
print(f"{'impl':7} {'tier':5} {'batch':>5} {'img/s':>9} {'torch':>9} {'ratio':>6}")
for (impl, tier, b), v in sorted(ours.items(), key=lambda kv: (kv[0][2], kv[0][1], kv[0][0])):
    t = torch.get((tier, b))
    ratio = f"{v / t:6.3f}" if t else "     -"
    print(f"{impl:7} {tier:5} {b:5} {v:9.0f} {t if t else float('nan'):9.0f} {ratio}")
EOF
exit "$parity"
"#;

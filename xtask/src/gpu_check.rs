//! `cargo xtask gpu-check`: builds tmu-nn's CUDA binaries here (no GPU needed) with
//! `scripts/cuda-cargo.sh` into `target/cuda`, checks tmu-nn's PTX with `ptxas -arch=sm_90`,
//! strips and gzips the binaries into `target/gpu-check/` with the PTX, the PyTorch bench,
//! `run.sh` (`gpu_check_run.sh`) and `summary.py` (`gpu_check_summary.py`), and prints the command
//! that runs it all on a GPU machine and writes one summary file.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{root, sh};

/// What a GPU machine call carries at most.
const CARRY_LIMIT: u64 = 64 << 20;
/// The folder carried to the GPU machine, relative to the workspace root (git-ignored).
const OUT_DIR: &str = "target/gpu-check";

const USAGE: &str = "\
cargo xtask gpu-check [--no-build]

Builds the CUDA parity tests and the training-step bench with scripts/cuda-cargo.sh (target/cuda,
never target/release), checks tmu-nn's PTX with ptxas -arch=sm_90, writes target/gpu-check/
(stripped, gzipped binaries, the PTX, torch_resnet18.py, run.sh, summary.py) and prints the command
that runs them on a GPU machine. --no-build reuses the last build.
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
    let ptx = tmu_nn_ptx(&root)?;
    ptxas_check(&root, &ptx)?;
    std::fs::create_dir_all(out.join("ptx"))?;
    for f in &ptx {
        std::fs::copy(f, out.join("ptx").join(f.file_name().expect("a file")))?;
    }
    let torch = root.join("crates/tmu-nn/benches/torch_resnet18.py");
    std::fs::copy(&torch, out.join("torch_resnet18.py")).with_context(|| format!("copying {}", torch.display()))?;
    let run_sh = out.join("run.sh");
    std::fs::write(&run_sh, RUN_SH).with_context(|| format!("writing {}", run_sh.display()))?;
    std::fs::write(out.join("summary.py"), SUMMARY_PY)?;

    let mut total = 0;
    for entry in std::fs::read_dir(&out)? {
        let entry = entry?;
        let len = dir_size(&entry.path())?;
        total += len;
        eprintln!("  {:>8.1} MiB  {}/{}", len as f64 / (1 << 20) as f64, OUT_DIR, entry.file_name().to_string_lossy());
    }
    eprintln!("  {:>8.1} MiB  in all (a GPU machine call carries at most 64 MiB)", total as f64 / (1 << 20) as f64);
    if total > CARRY_LIMIT {
        bail!("{OUT_DIR} is {total} bytes, more than the 64 MiB a GPU machine call carries");
    }
    println!("on a GPU machine, from the repository root of a copy of this working tree:");
    println!("  command:   bash {OUT_DIR}/run.sh");
    println!("  carry:     [\"{OUT_DIR}\"]   (git-ignored, so it must be named)");
    println!("  timeout_s: 570   (the script ends within 9 minutes and always writes $OUT/summary.md)");
    Ok(())
}

/// tmu-nn's kernels as PTX, from the last CUDA build (`build.rs` writes them to its `OUT_DIR`).
fn tmu_nn_ptx(root: &Path) -> Result<Vec<PathBuf>> {
    let build = root.join("target/cuda/release/build");
    let mut newest: Option<(std::time::SystemTime, PathBuf)> = None;
    for entry in std::fs::read_dir(&build).with_context(|| format!("reading {}", build.display()))? {
        let out = entry?.path().join("out");
        let name = out.parent().and_then(|p| p.file_name()).map(|n| n.to_string_lossy().into_owned());
        if !name.is_some_and(|n| n.starts_with("tmu-nn-")) || !out.is_dir() {
            continue;
        }
        let has_ptx = std::fs::read_dir(&out)?.flatten().any(|e| e.path().extension().is_some_and(|x| x == "ptx"));
        let time = std::fs::metadata(&out)?.modified()?;
        if has_ptx && newest.as_ref().is_none_or(|(t, _)| time > *t) {
            newest = Some((time, out));
        }
    }
    let (_, dir) = newest.context("no tmu-nn PTX under target/cuda/release/build: build without --no-build")?;
    let mut ptx: Vec<PathBuf> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "ptx"))
        .collect();
    ptx.sort();
    Ok(ptx)
}

/// `ptxas -arch=sm_90` on each PTX file, with the ptxas of the toolchain scripts/cuda-cargo.sh
/// installs: what the H100's driver will compile, checked before any GPU time is spent.
fn ptxas_check(root: &Path, ptx: &[PathBuf]) -> Result<()> {
    let ptxas = root.join("target/cuda/cuda-root/bin/ptxas");
    if !ptxas.is_file() {
        bail!("{} is missing: run `bash scripts/cuda-cargo.sh env` once", ptxas.display());
    }
    for f in ptx {
        sh(Command::new(&ptxas).arg("-arch=sm_90").arg(f).args(["-o", "/dev/null"]))
            .with_context(|| format!("ptxas rejects {}", f.display()))?;
    }
    eprintln!("ptxas -arch=sm_90: {} PTX files of tmu-nn compile", ptx.len());
    Ok(())
}

/// The size of a file, or of everything under a folder.
fn dir_size(path: &Path) -> Result<u64> {
    if path.is_dir() {
        let mut n = 0;
        for e in std::fs::read_dir(path)? {
            n += dir_size(&e?.path())?;
        }
        Ok(n)
    } else {
        Ok(std::fs::metadata(path)?.len())
    }
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

/// The script run on the GPU machine (from the repository root, `$OUT` collecting the results).
const RUN_SH: &str = include_str!("gpu_check_run.sh");
/// Its summary writer (`summary.md` from the logs).
const SUMMARY_PY: &str = include_str!("gpu_check_summary.py");

#[cfg(test)]
mod tests {
    use super::*;

    /// `run.sh` parses, and `summary.py` turns logs of the formats the parity tests and benches
    /// print into the tables, a failing check and a missing PyTorch number included.
    #[test]
    fn the_script_parses_and_the_summary_reads_the_logs() {
        let dir = std::env::temp_dir().join(format!("tmu-gpu-check-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("parity")).unwrap();
        let script = dir.join("run.sh");
        std::fs::write(&script, RUN_SH).unwrap();
        assert!(Command::new("bash").arg("-n").arg(&script).status().unwrap().success(), "run.sh does not parse");
        std::fs::write(dir.join("status.tsv"), "libraries\tok\nparity a\tFAILED (exit 101)\n").unwrap();
        std::fs::write(
            dir.join("parity/a.log"),
            "conv f32 forward: max abs error 1.00e-6 (magnitude 3.00, tolerance 3.0e-4)\n\
             resnet18 b128 bf16 grad fc.weight: relative error 2.50e-1 (norm 1.20e0, tolerance 1.0e-1)\n",
        )
        .unwrap();
        std::fs::write(
            dir.join("bench.log"),
            "candle-ops cuda f32 batch=128 threads=16 keep_freed_memory=true 8000.0 img/s (16.0 ms/step) loss 2.3 -> 2.2\n\
             candle-ops cuda bf16 batch=128 threads=16 keep_freed_memory=true 9000.0 img/s (14.2 ms/step) loss 2.3 -> 2.2\n\
             torch cuda fp32 batch=128 threads=16 7200.0 img/s (17.8 ms/step)\n\
             torch cuda bf16-cl batch=128 threads=16 16000.0 img/s (8.0 ms/step)\n",
        )
        .unwrap();
        let out = Command::new("python3").arg("-c").arg(SUMMARY_PY).arg(&dir).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.contains("| a | conv f32 forward | 1.00e-06 | 3.0e-04 | pass |"), "{text}");
        assert!(text.contains("| a | resnet18 b128 bf16 grad fc.weight | 2.50e-01 | 1.0e-01 | FAIL |"), "{text}");
        assert!(text.contains("| f32 | 128 | 8000 | - | 7200 | 1.11x | - | 1.0x | yes |"), "{text}");
        assert!(text.contains("| bf16 | 128 | 9000 | - | 16000 | 0.56x | - | 0.8x | NO |"), "{text}");
        assert!(text.contains("| tf32 | 128 | - | - | - | - | - | 1.0x | - |"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

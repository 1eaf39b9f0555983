//! `cargo xtask slurm-check`: a cut-down quickstart sweep through a real one-node Slurm cluster
//! (`scripts/slurm-one-node.sh`), against an in-process run of the same pipeline: the same
//! numbers (wall times aside); then the quickstart submitted detached with TMU's forget job
//! cancelled (scancel), and a rerun that submits only the missing work and completes the run.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail, ensure};

use crate::build::build_release;
use crate::root;

/// The Slurm daemons of one check, stopped (by pid) when dropped.
struct Cluster {
    dir: PathBuf,
    conf: String,
}

impl Cluster {
    fn start(dir: &Path) -> Result<Cluster> {
        let out = Command::new(root().join("scripts/slurm-one-node.sh"))
            .arg("start")
            .arg(dir)
            .output()
            .context("cannot run scripts/slurm-one-node.sh")?;
        let text = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            bail!("the Slurm cluster did not start:\n{}{}", text, String::from_utf8_lossy(&out.stderr));
        }
        let conf = text
            .lines()
            .find_map(|l| l.strip_prefix("export SLURM_CONF="))
            .context("slurm-one-node.sh did not say where its config is")?
            .to_string();
        Ok(Cluster { dir: dir.to_path_buf(), conf })
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(root().join("scripts/slurm-one-node.sh")).arg("stop").arg(&self.dir).status();
    }
}

/// `tmu <args>` with the cluster's config; returns stdout, failing with both streams.
fn tmu(tmu: &Path, conf: &str, cwd: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(tmu).args(args).current_dir(cwd).env("SLURM_CONF", conf).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        bail!("tmu {} failed:\n{stdout}\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr));
    }
    Ok(stdout)
}

/// The evaluation's numbers without the wall times and the ratios made from them.
fn numbers(metrics: &Path) -> Result<serde_json::Value> {
    fn strip(v: &serde_json::Value) -> serde_json::Value {
        match v {
            serde_json::Value::Object(m) => serde_json::Value::Object(
                m.iter()
                    .filter(|(k, _)| !["wall", "time", "seconds", "ratio", "cost"].iter().any(|w| k.contains(w)))
                    .map(|(k, v)| (k.clone(), strip(v)))
                    .collect(),
            ),
            serde_json::Value::Array(a) => serde_json::Value::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    let bytes = std::fs::read(metrics).with_context(|| format!("cannot read {}", metrics.display()))?;
    Ok(strip(&serde_json::from_slice(&bytes)?))
}

/// `pipelines/quickstart-sweep.toml` with fewer points: its axes and the report's tuning seeds
/// cut down, each cut checked so that a change of the file cannot make it a silent no-op.
fn reduced_sweep() -> Result<String> {
    let path = root().join("pipelines/quickstart-sweep.toml");
    let mut text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    for (from, to) in [
        ("seed = [100, 101, 0, 1, 2]", "seed = [100, 0]"),
        ("forget_class = { values = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],", "forget_class = { values = [3, 8],"),
        ("fraction = { values = [0.1, 0.3, 0.5],", "fraction = { values = [0.3],"),
        ("tune_values = [100, 101]", "tune_values = [100]"),
    ] {
        ensure!(text.contains(from), "{} no longer has `{from}`: update xtask/src/slurm_check.rs", path.display());
        text = text.replace(from, to);
    }
    Ok(text)
}

/// The number in `N ran` of a run's last line.
fn ran(out: &str) -> Result<usize> {
    let last = out.lines().rev().find(|l| l.contains(" ran, ")).context("no `N ran, M cached` line")?;
    last.split(" ran, ").next().and_then(|n| n.rsplit(' ').next()).and_then(|n| n.parse().ok()).context("a count")
}

/// Checks that every `metrics.json` under `a` has the same numbers (timings aside) as its
/// counterpart under `b`; returns how many it compared.
fn same_numbers(a: &Path, b: &Path) -> Result<usize> {
    let mut n = 0;
    let mut stack = vec![a.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).with_context(|| format!("cannot list {}", dir.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|f| f == "metrics.json") {
                let other = b.join(path.strip_prefix(a)?);
                ensure!(numbers(&path)? == numbers(&other)?, "{} and {} differ", path.display(), other.display());
                n += 1;
            }
        }
    }
    ensure!(n > 0, "no metrics.json under {}", a.display());
    Ok(n)
}

/// How many stages of the run's summary table ended with `result`.
fn count(table: &str, result: &str) -> usize {
    table.lines().filter(|l| l.split_whitespace().nth(1) == Some(result)).count()
}

fn wait_for_jobs(conf: &str) -> Result<()> {
    for _ in 0..1200 {
        let out = Command::new("squeue").args(["-h", "-o", "%i"]).env("SLURM_CONF", conf).output()?;
        if String::from_utf8_lossy(&out.stdout).trim().is_empty() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    bail!("Slurm jobs still queued after 10 minutes")
}

/// Why no cluster can be started here, if it cannot: a missing program or not being root.
pub fn missing() -> Option<String> {
    for exe in ["sbatch", "squeue", "scancel", "slurmctld", "slurmd", "munged"] {
        let found = Command::new("sh").args(["-c", &format!("command -v {exe}")]).output();
        if !found.is_ok_and(|o| o.status.success()) {
            return Some(format!(
                "{exe} is not installed (apt-get install slurmctld slurmd slurm-client munge; .ci/run does as root)"
            ));
        }
    }
    let uid = Command::new("id").arg("-u").output().ok().map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string());
    if uid.as_deref() != Some("0") {
        return Some("the one-node cluster runs its daemons as root".into());
    }
    None
}

pub fn run(_args: &[String]) -> Result<()> {
    if let Some(why) = missing() {
        bail!("{why}");
    }
    let tmu_bin = build_release(&[])?;
    let work = tempfile::tempdir()?;
    let cluster = Cluster::start(&work.path().join("slurm"))?;
    let conf = cluster.conf.clone();
    let cwd = work.path();

    // The quickstart sweep, cut to 2 seeds (one tuning, one reported), 2 forget classes and one
    // size with all 4 settings (16 points), in-process and through Slurm: the same numbers.
    let sweep = cwd.join("sweep.toml");
    std::fs::write(&sweep, reduced_sweep()?)?;
    let sweep = sweep.to_str().context("a UTF-8 path")?;
    let timed = |args: &[&str]| -> Result<(String, f64)> {
        let start = std::time::Instant::now();
        let out = tmu(&tmu_bin, &conf, cwd, args)?;
        Ok((out, start.elapsed().as_secs_f64()))
    };
    let (local, local_s) = timed(&["run", sweep, "--runs-dir", "local", "-q", "-j", "2"])?;
    let (slurm, slurm_s) = timed(&["run", sweep, "--runs-dir", "slurm", "-q", "--executor", "slurm"])?;
    let jobs = ran(&slurm)?;
    ensure!(jobs == ran(&local)? && jobs > 0, "the Slurm run ran {jobs} stages:\n{slurm}");
    let compared = same_numbers(&cwd.join("local/quickstart-sweep"), &cwd.join("slurm/quickstart-sweep"))?;
    eprintln!(
        "xtask slurm-check: {jobs} Slurm jobs ({slurm_s:.0} s) gave the in-process run's numbers ({local_s:.0} s, -j 2): \
         {compared} metrics files compared"
    );

    let pipeline = root().join("pipelines/quickstart.toml");
    let pipeline = pipeline.to_str().context("a UTF-8 path")?;
    let eval = |runs: &str| cwd.join(runs).join("quickstart/eval/metrics.json");
    tmu(&tmu_bin, &conf, cwd, &["run", pipeline, "--runs-dir", "local", "-q"])?;

    // A detached submission with one job cancelled: the stages after it do not run; a rerun
    // submits only what is missing.
    let detached =
        tmu(&tmu_bin, &conf, cwd, &["run", pipeline, "--runs-dir", "again", "-q", "--executor", "slurm", "--detach"])?;
    let submitted = count(&detached, "submitted");
    let jobs_file = cwd.join("again/.slurm/quickstart/jobs.json");
    let ids: serde_json::Value = serde_json::from_slice(&std::fs::read(&jobs_file)?)?;
    // TMU's forget stage waits on the longest chain of the pipeline (data, split, twin, its
    // features, the predictor, the prediction), so it has not started when the submission returns.
    let job = ids["tmu"].as_str().context("no job for `tmu`")?;
    let cancelled = Command::new("scancel").arg(job).env("SLURM_CONF", &conf).status()?;
    ensure!(cancelled.success(), "scancel {job} failed");
    wait_for_jobs(&conf)?;
    let status = tmu(&tmu_bin, &conf, cwd, &["status", pipeline, "--runs-dir", "again"])?;
    let rerun = tmu(&tmu_bin, &conf, cwd, &["run", pipeline, "--runs-dir", "again", "-q", "--executor", "slurm"])?;
    let (ran, cached) = (count(&rerun, "ran"), count(&rerun, "cached"));
    ensure!(
        ran > 0 && ran < submitted && ran + cached == submitted,
        "the rerun ran {ran} and reused {cached}:\n{rerun}"
    );
    ensure!(
        numbers(&eval("again"))? == numbers(&eval("local"))?,
        "the rerun's metrics differ from the in-process run's"
    );
    eprintln!(
        "xtask slurm-check: detached, {submitted} jobs; `tmu` cancelled ({}); the rerun submitted {ran} and reused {cached}",
        status.lines().last().unwrap_or_default()
    );
    drop(cluster);
    Ok(())
}

//! `--executor slurm` against stand-ins for `sbatch` and `squeue` (shell scripts on `PATH` that
//! run each job script at once and log what they were asked): the job scripts, their `#SBATCH`
//! lines and dependencies, the results the jobs leave in the store, a failed job's dependents
//! never started, and `tmu plan --slurm`. `cargo xtask slurm-check` runs the same executor
//! against a real one-node cluster.

#![cfg(unix)]

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use support::Workspace;

/// `sbatch` that runs the job at once (unless a job it depends on with `afterok` failed, as
/// `--kill-on-invalid-dep=yes` would have it), writing its output where `#SBATCH` says, or, for
/// the instance `FAKE_SLURM_KILL` names, starts it and kills it at once as a time limit would;
/// `squeue` that knows no job (each has ended by the time it is asked).
fn fake_slurm(ws: &Workspace) -> String {
    let bin = ws.path().join("fake-slurm");
    std::fs::create_dir_all(&bin).unwrap();
    let sbatch = r#"#!/bin/sh
dir=$(dirname "$0")
echo "$@" >> "$dir/sbatch.log"
dep=""
for a in "$@"; do
  case "$a" in --dependency=*) dep="${a#--dependency=}" ;; esac
  script="$a"
done
n=$(( $(cat "$dir/next" 2>/dev/null || echo 100) + 1 ))
echo "$n" > "$dir/next"
for d in $(echo "$dep" | tr ',' ' '); do
  id=${d#*:}
  if [ "${d%%:*}" = afterok ] && [ "$(cat "$dir/job$id" 2>/dev/null)" != 0 ]; then
    echo skipped > "$dir/job$n"; echo "$n"; exit 0
  fi
done
out=$(sed -n 's/^#SBATCH --output=//p' "$script")
err=$(sed -n 's/^#SBATCH --error=//p' "$script")
if grep -q "instance '$FAKE_SLURM_KILL'" "$script"; then
  : > "$out"; echo "slurmstepd: error: *** JOB $n CANCELLED DUE TO TIME LIMIT ***" > "$err"; echo 1 > "$dir/job$n"
else
  sh "$script" > "$out" 2> "$err"
  echo $? > "$dir/job$n"
fi
echo "$n"
"#;
    for (name, text) in [("sbatch", sbatch), ("squeue", "#!/bin/sh\nexit 0\n"), ("scancel", "#!/bin/sh\nexit 0\n")] {
        let path = bin.join(name);
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

fn pipeline(ws: &Workspace, how: &str) -> String {
    ws.write(
        "cluster.toml",
        &format!(
            r#"
format = 1
name = "cluster"

[slurm]
partition = "short"
mem = "2G"
extra = ["--qos=test"]

[stages.src]
kind = "fixture.source"
config = {{ values = [1.5, 2.5] }}

[stages.add]
kind = "fixture.add"
inputs = {{ x = "src.metrics", labels = "src.labels" }}
config = {{ add = 3.0 }}
timeout = "90s"

[stages.boom]
kind = "fixture.crash"
inputs = {{ x = "src.metrics" }}
config = {{ how = "{how}" }}

[stages.after]
kind = "fixture.add"
inputs = {{ x = "boom.metrics" }}
"#
        ),
    )
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn slurm_jobs_give_the_in_process_results_and_a_failure_stops_its_dependents() {
    let ws = Workspace::new();
    let path = fake_slurm(&ws);
    let file = pipeline(&ws, "abort");
    let mut cmd = ws.tmu(&["run", &file, "--runs-dir", "slurm", "--executor", "slurm"]);
    let run = support::Run::from(cmd.env("PATH", &path).output().unwrap());
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.result("src"), "ran");
    assert_eq!(run.result("add"), "ran");
    assert_eq!(run.result("boom"), "failed");
    assert_eq!(run.result("after"), "not run");
    assert!(run.stderr.contains("stage `boom` (fixture.crash)"), "{}", run.stderr);

    // Four jobs, each after the jobs of what it reads.
    let log = read(&ws.path().join("fake-slurm/sbatch.log"));
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 4, "{log}");
    assert!(!lines[0].contains("--dependency"), "{log}");
    assert!(lines[1].contains("--dependency=afterok:101 --kill-on-invalid-dep=yes"), "{log}");
    assert!(lines[3].contains("--dependency=afterok:103"), "{log}");

    // The job script of `add`: the [slurm] table, its timeout as the time limit, one command.
    let script = read(&ws.path().join("slurm/.slurm/cluster/00001-add.sh"));
    for line in [
        "#SBATCH --job-name=tmu:cluster:add",
        "#SBATCH --partition=short",
        "#SBATCH --time=2",
        "#SBATCH --mem=2G",
        "#SBATCH --qos=test",
    ] {
        assert!(script.lines().any(|l| l == line), "no `{line}` in:\n{script}");
    }
    assert!(script.contains("__stage --runs-dir") && script.contains("--instance 'add'"), "{script}");

    // What the jobs stored is what an in-process run computes.
    ws.run(&["run", &file, "--runs-dir", "local", "--to", "add"]).ok();
    for stage in ["src", "add"] {
        let job = support::read_json(&ws.path().join("slurm/cluster").join(stage).join("stage.json"));
        let local = support::read_json(&ws.path().join("local/cluster").join(stage).join("stage.json"));
        assert_eq!(job["key"], local["key"], "{stage}");
        assert_eq!(job["outputs"], local["outputs"], "{stage}: the outputs hash alike");
    }

    // A rerun submits only what is missing: the failed stage and what needs it.
    let file = pipeline(&ws, "none");
    let mut cmd = ws.tmu(&["run", &file, "--runs-dir", "slurm", "--executor", "slurm"]);
    let rerun = support::Run::from(cmd.env("PATH", &path).output().unwrap()).ok();
    assert_eq!((rerun.result("src"), rerun.result("add")), ("cached".into(), "cached".into()));
    assert_eq!((rerun.result("boom"), rerun.result("after")), ("ran".into(), "ran".into()));
    assert_eq!(read(&ws.path().join("fake-slurm/sbatch.log")).lines().count(), 6);
}

#[test]
fn plan_writes_job_scripts_and_a_submit_script() {
    let ws = Workspace::new();
    let file = pipeline(&ws, "none");
    let run = ws.run(&["plan", &file, "--slurm", "jobs"]).ok();
    assert!(run.stdout.contains("submit.sh"), "{}", run.stdout);
    let submit = read(&ws.path().join("jobs/submit.sh"));
    assert!(submit.contains("j0=$(sbatch --parsable '"), "{submit}");
    assert!(submit.contains("j1=$(sbatch --parsable --dependency=afterok:$j0 --kill-on-invalid-dep=yes"), "{submit}");
    let mode = std::fs::metadata(ws.path().join("jobs/submit.sh")).unwrap().permissions().mode();
    assert_eq!(mode & 0o100, 0o100, "submit.sh is executable");
    assert!(read(&ws.path().join("jobs/00002-boom.sh")).contains("#SBATCH --partition=short"));
}

#[test]
fn a_job_that_ends_without_an_outcome_fails_its_stage_with_its_standard_error() {
    let ws = Workspace::new();
    let path = fake_slurm(&ws);
    let file = pipeline(&ws, "none");
    let mut cmd = ws.tmu(&["run", &file, "--executor", "slurm", "-k"]);
    let run = support::Run::from(cmd.env("PATH", &path).env("FAKE_SLURM_KILL", "add").output().unwrap());
    assert_eq!(run.code, Some(1), "{}\n{}", run.stdout, run.stderr);
    assert_eq!(run.result("add"), "failed");
    assert_eq!(run.result("after"), "ran");
    for text in [
        "stage `add` (fixture.add): Slurm job 102 ended without a result",
        "CANCELLED DUE TO TIME LIMIT",
        "sacct -j 102",
    ] {
        assert!(run.stderr.contains(text), "no `{text}` in:\n{}", run.stderr);
    }
}

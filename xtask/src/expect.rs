//! `cargo xtask expect [--update] [PIPELINE...]`: the headline numbers under test. Runs each
//! checked pipeline (release build, CPU) and compares every number it prints with the table
//! committed in `pipelines/expected/<name>.tsv`: each stage's summary (the end-of-run table) and
//! every value of the final reports' metrics (the per-method tables), except wall times and the
//! ratios made of them (`cost_ratio`, `wall_ratio`). A CPU run is deterministic, so the comparison is exact (the text of
//! each value, shortest round-trip form); a difference fails with the list of what moved.
//!
//! When a change is meant to move the numbers, `cargo xtask expect --update` rewrites the tables
//! and the commit says why they moved.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::build::run_tmu;
use crate::root;

/// The pipelines whose numbers CI checks: small enough for CI's budget.
pub const CHECKED: &[&str] = &["pipelines/quickstart.toml", "pipelines/synthetic-small.toml"];

/// Where the expected tables live.
const EXPECTED_DIR: &str = "pipelines/expected";

/// The runs folder the checks use (shared with `cargo xtask run`, so a rerun is cached).
const RUNS_DIR: &str = "runs";

/// The stages whose metrics output is checked in full: the reports a run ends with.
const REPORT_KINDS: &[&str] = &["eval.unlearning", "report.sweep"];

pub fn run(args: &[String]) -> Result<()> {
    let update = args.iter().any(|a| a == "--update");
    let picked: Vec<&str> = args.iter().filter(|a| !a.starts_with("--")).map(String::as_str).collect();
    let pipelines: Vec<&str> = if picked.is_empty() { CHECKED.to_vec() } else { picked };
    let mut failures = Vec::new();
    for pipeline in &pipelines {
        match check(pipeline, update) {
            Ok(()) => {}
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    if !failures.is_empty() {
        bail!(
            "{}\n\nIf the change is meant to move these numbers: `cargo xtask expect --update`, and say in the \
             commit message why they moved.",
            failures.join("\n\n")
        );
    }
    Ok(())
}

/// Runs `pipeline`, then compares its numbers with the expected table (or writes the table).
pub fn check(pipeline: &str, update: bool) -> Result<()> {
    let name = pipeline_name(&root().join(pipeline))?;
    // The pipeline's view folder is rebuilt from the cache, so a stage that left the pipeline
    // leaves no stale record behind.
    let view = root().join(RUNS_DIR).join(&name);
    if view.is_dir() {
        std::fs::remove_dir_all(&view).with_context(|| format!("removing {}", view.display()))?;
    }
    run_tmu(&[
        "run".to_string(),
        pipeline.to_string(),
        "--runs-dir".to_string(),
        RUNS_DIR.to_string(),
        "-q".to_string(),
    ])?;
    let got = collect(&view).with_context(|| format!("reading the run of {pipeline}"))?;
    let path = root().join(EXPECTED_DIR).join(format!("{name}.tsv"));
    if update {
        std::fs::create_dir_all(path.parent().expect("a folder"))?;
        std::fs::write(&path, render(pipeline, &got)).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("xtask expect: wrote {} ({} values)", path.display(), got.len());
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!("no expected numbers for {pipeline} at {} (`cargo xtask expect --update` writes them)", path.display())
    })?;
    let want = parse(&text).with_context(|| format!("reading {}", path.display()))?;
    let diff = compare(&want, &got);
    if diff.is_empty() {
        eprintln!("xtask expect: {pipeline}: all {} values as expected ({})", got.len(), rel(&path));
        return Ok(());
    }
    bail!(
        "{pipeline}: {} of {} values differ from {}:\n{}",
        diff.len(),
        want.len().max(got.len()),
        rel(&path),
        diff.join("\n")
    )
}

fn rel(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

/// The pipeline's `name = "..."` (a top-level key, before the first table).
fn pipeline_name(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    text.lines()
        .take_while(|l| !l.trim_start().starts_with('['))
        .find_map(|l| {
            let (key, value) = l.split_once('=')?;
            (key.trim() == "name").then(|| value.trim().trim_matches('"').to_string())
        })
        .with_context(|| format!("{} has no top-level `name`", path.display()))
}

/// A key the check leaves out: a timing, which no two runs share.
fn is_timing(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    last.ends_with("seconds") || last == "cost_ratio" || last == "wall_ratio"
}

/// `(stage, key) -> value text` of every stage of the run folder: its summary, and for the report
/// stages every leaf of their metrics outputs.
fn collect(dir: &Path) -> Result<BTreeMap<(String, String), String>> {
    let mut out = BTreeMap::new();
    let mut stages: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("stage.json").is_file())
        .collect();
    stages.sort();
    for stage_dir in stages {
        let stage = stage_dir.file_name().expect("a name").to_string_lossy().into_owned();
        let record: Value = read_json(&stage_dir.join("stage.json"))?;
        if let Some(summary) = record.get("summary") {
            leaves(summary, "summary", &mut |k, v| {
                out.insert((stage.clone(), k), v);
            });
        }
        let kind = record.get("kind").and_then(Value::as_str).unwrap_or_default();
        if !REPORT_KINDS.contains(&kind) {
            continue;
        }
        let outputs = record.get("outputs").and_then(Value::as_object).cloned().unwrap_or_default();
        for (port, o) in outputs {
            if o.get("kind").and_then(Value::as_str) != Some("metrics") {
                continue;
            }
            let file = o.get("file").and_then(Value::as_str).context("an output without a file")?;
            let metrics = read_json(&stage_dir.join(file))?;
            leaves(&metrics, &port, &mut |k, v| {
                out.insert((stage.clone(), k), v);
            });
        }
    }
    if out.is_empty() {
        bail!("no stage records in {}", dir.display());
    }
    Ok(out)
}

fn read_json(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
}

/// Every scalar leaf of `v` under `prefix` (objects by key, arrays by index), timings left out.
fn leaves(v: &Value, prefix: &str, put: &mut dyn FnMut(String, String)) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                leaves(child, &format!("{prefix}.{k}"), put);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                leaves(child, &format!("{prefix}.{i}"), put);
            }
        }
        scalar if !is_timing(prefix) => put(prefix.to_string(), scalar.to_string()),
        _ => {}
    }
}

fn render(pipeline: &str, values: &BTreeMap<(String, String), String>) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# The numbers `tmu run {pipeline}` prints on CPU (every stage's summary, every value of");
    let _ = writeln!(s, "# the final reports' metrics; wall times and cost ratios left out), checked exactly by");
    let _ = writeln!(s, "# `cargo xtask expect` in CI. Written by `cargo xtask expect --update`: do not edit by hand.");
    let _ = writeln!(s, "# stage\tkey\tvalue");
    for ((stage, key), value) in values {
        let _ = writeln!(s, "{stage}\t{key}\t{value}");
    }
    s
}

fn parse(text: &str) -> Result<BTreeMap<(String, String), String>> {
    let mut out = BTreeMap::new();
    for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.starts_with('#') && !l.trim().is_empty()) {
        let mut parts = line.splitn(3, '\t');
        let (Some(stage), Some(key), Some(value)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("line {}: expected `stage<TAB>key<TAB>value`, got `{line}`", i + 1);
        };
        out.insert((stage.to_string(), key.to_string()), value.to_string());
    }
    Ok(out)
}

/// One line per difference: changed, missing from the run, or new in the run.
fn compare(want: &BTreeMap<(String, String), String>, got: &BTreeMap<(String, String), String>) -> Vec<String> {
    let mut diff = Vec::new();
    for ((stage, key), w) in want {
        match got.get(&(stage.clone(), key.clone())) {
            Some(g) if g == w => {}
            Some(g) => diff.push(format!("  {stage:<16} {key:<48} expected {w}, got {g}")),
            None => diff.push(format!("  {stage:<16} {key:<48} expected {w}, missing from the run")),
        }
    }
    for ((stage, key), g) in got {
        if !want.contains_key(&(stage.clone(), key.clone())) {
            diff.push(format!("  {stage:<16} {key:<48} not expected, the run has {g}"));
        }
    }
    diff
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[(&str, &str, &str)]) -> BTreeMap<(String, String), String> {
        rows.iter().map(|(s, k, v)| ((s.to_string(), k.to_string()), v.to_string())).collect()
    }

    #[test]
    fn leaves_skip_timings_and_keep_every_other_value() {
        let v = serde_json::json!({ "a": 1.5, "wall_seconds": 3.0, "m": { "tmu": { "delta": 6.896551724137936,
            "cost_ratio": 0.5, "seconds": 2 }, "l": [1, "x", null] } });
        let mut got = Vec::new();
        leaves(&v, "metrics", &mut |k, v| got.push(format!("{k}={v}")));
        assert_eq!(
            got,
            [
                "metrics.a=1.5",
                "metrics.m.tmu.delta=6.896551724137936",
                "metrics.m.l.0=1",
                "metrics.m.l.1=\"x\"",
                "metrics.m.l.2=null"
            ]
        );
    }

    #[test]
    fn a_run_folder_gives_every_summary_and_the_reports_metrics() {
        let dir = tempfile::tempdir().unwrap();
        let stage = |name: &str, record: serde_json::Value| {
            std::fs::create_dir_all(dir.path().join(name)).unwrap();
            std::fs::write(dir.path().join(name).join("stage.json"), record.to_string()).unwrap();
        };
        stage(
            "gold",
            serde_json::json!({ "kind": "train.classifier", "summary": { "loss": 0.25, "wall_seconds": 1.0 },
            "outputs": { "model": { "kind": "model", "file": "model.safetensors" } } }),
        );
        stage(
            "eval",
            serde_json::json!({ "kind": "eval.unlearning", "summary": { "delta.tmu": 6.9 },
            "outputs": { "metrics": { "kind": "metrics", "file": "metrics.json" }, "report": { "kind": "report", "file": "report.md" } } }),
        );
        std::fs::write(
            dir.path().join("eval").join("metrics.json"),
            r#"{ "models": { "tmu": { "delta": 6.896551724137936, "cost_ratio": 0.5 } } }"#,
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("not-a-stage")).unwrap();
        let got = collect(dir.path()).unwrap();
        let want = table(&[
            ("eval", "metrics.models.tmu.delta", "6.896551724137936"),
            ("eval", "summary.delta.tmu", "6.9"),
            ("gold", "summary.loss", "0.25"),
        ]);
        assert_eq!(got, want);
        assert!(collect(&dir.path().join("not-a-stage")).is_err(), "a folder without stages is an error");
    }

    #[test]
    fn tables_round_trip_and_differences_are_listed() {
        let a = table(&[("eval", "metrics.models.tmu.delta", "6.9"), ("gold", "summary.loss", "0.01")]);
        assert_eq!(parse(&render("p.toml", &a)).unwrap(), a);
        let b = table(&[("eval", "metrics.models.tmu.delta", "10.3"), ("twin", "summary.epochs", "8")]);
        let diff = compare(&a, &b);
        assert_eq!(diff.len(), 3, "{diff:?}");
        assert!(diff[0].contains("metrics.models.tmu.delta") && diff[0].contains("expected 6.9, got 10.3"));
        assert!(diff[1].contains("summary.loss") && diff[1].contains("missing from the run"));
        assert!(diff[2].contains("summary.epochs") && diff[2].contains("not expected, the run has 8"));
        assert!(compare(&a, &a).is_empty());
        assert!(parse("eval\tonly-two").is_err());
    }
}

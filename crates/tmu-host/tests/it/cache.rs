//! The stage cache on real plugin runs: records, reuse, minimal reruns after edits, sharing
//! between pipelines, and the stage views.

use crate::pipeline;

use pipeline::{outcomes, plan, ran, read_json, run, stage_record, tmp_attempts};
use tmu_host::record::Status;

fn pipeline_text(src_config: &str, add_config: &str) -> String {
    format!(
        r#"
format = 1
name = "demo"
seed = 7

[stages.src]
kind = "fixture.source"
config = {{ {src_config} }}

[stages.add]
kind = "fixture.add"
inputs = {{ x = "src.metrics", labels = "src.labels" }}
config = {{ {add_config} }}

[stages.other]
kind = "fixture.source"
config = {{ values = [5.0] }}

[stages.add2]
kind = "fixture.add"
inputs = {{ x = "other.metrics" }}
"#
    )
}

#[test]
fn first_run_records_everything_and_the_second_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(dir.path(), &pipeline_text("values = [1.0, 2.0, 3.0]", ""));
    let first = run(&p, &runs);
    assert_eq!(ran(&first), ["src", "add", "other", "add2"]);

    // Outputs in the stage view, and what they say.
    let add = runs.join("demo/add");
    assert_eq!(read_json(&add.join("metrics.json"))["values"], serde_json::json!([2.0, 3.0, 4.0]));
    assert_eq!(read_json(&add.join("config.json")), serde_json::json!({ "add": 1.0 }));
    assert!(runs.join("demo/src/labels.safetensors").is_file());
    let log = std::fs::read_to_string(runs.join("demo/src/stage.log")).unwrap();
    assert!(log.contains("INFO  writing 3 values"), "{log}");

    // stage.json: key, plugin, hashes of inputs (the producer's output hashes), device, timing.
    let src = stage_record(&runs, "demo", "src");
    let rec = stage_record(&runs, "demo", "add");
    assert_eq!(rec.status, Status::Ran);
    assert_eq!(rec.entry.plugin.name, "fixture-stages");
    assert_eq!(rec.entry.plugin.blake3, pipeline::registry().plugins()[0].binary_hash);
    assert_eq!(rec.entry.device_key, "cpu");
    assert_eq!(rec.entry.device_used, "cpu");
    assert_eq!(rec.entry.seed, tmu_plugin::derive_seed(7, "add"));
    assert_eq!(rec.entry.inputs["x"][0].source, "src.metrics");
    assert_eq!(rec.entry.inputs["x"][0].blake3, src.entry.outputs["metrics"].blake3);
    assert_eq!(rec.entry.inputs["labels"][0].blake3, src.entry.outputs["labels"].blake3);
    let out = &rec.entry.outputs["metrics"];
    assert_eq!(out.blake3, blake3::hash(&std::fs::read(add.join("metrics.json")).unwrap()).to_hex().to_string());
    assert_eq!(rec.entry.summary["sum"], 9.0);
    assert!(rec.entry.timing.started_us <= rec.entry.timing.finished_us);
    assert_eq!(rec.cache_dir, std::fs::canonicalize(&runs).unwrap().join(".cache").join(&rec.entry.key));
    assert!(rec.cache_dir.join("out/metrics.json").is_file());
    assert!(!runs.join(".work").join(&rec.entry.key).exists(), "the work folder is removed after success");
    assert!(tmp_attempts(&runs).is_empty());

    let second = run(&p, &runs);
    assert!(ran(&second).is_empty(), "{:?}", outcomes(&second));
    assert_eq!(second.count(tmu_host::Outcome::Cached), 4);
    let rec2 = stage_record(&runs, "demo", "add");
    assert_eq!(rec2.status, Status::Cached);
    assert_eq!(rec2.entry, rec.entry, "a cached stage keeps the record of the run that produced it");
}

#[test]
fn an_edit_reruns_that_stage_and_only_dependants_whose_inputs_changed() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let base = "values = [1.0, 2.0, 3.0]";
    run(&plan(dir.path(), &pipeline_text(base, "")), &runs);

    // A consumer's config: only it reruns.
    let r = run(&plan(dir.path(), &pipeline_text(base, "add = 2.0")), &runs);
    assert_eq!(ran(&r), ["add"]);
    assert_eq!(read_json(&runs.join("demo/add/metrics.json"))["sum"], 12.0);

    // A producer's config that does not change its outputs: it reruns, its consumer does not.
    let r = run(&plan(dir.path(), &pipeline_text(&format!("{base}, note = \"same data\""), "add = 2.0")), &runs);
    assert_eq!(ran(&r), ["src"]);

    // A producer's config that changes its outputs: it and its consumer rerun, nothing else.
    let r = run(&plan(dir.path(), &pipeline_text("values = [1.0, 2.0]", "add = 2.0")), &runs);
    assert_eq!(ran(&r), ["src", "add"]);
    assert_eq!(read_json(&runs.join("demo/add/metrics.json"))["values"], serde_json::json!([3.0, 4.0]));

    // Back to an earlier config: every result is still in the cache.
    let r = run(&plan(dir.path(), &pipeline_text(base, "")), &runs);
    assert!(ran(&r).is_empty(), "{:?}", outcomes(&r));
}

#[test]
fn pipelines_sharing_a_runs_folder_share_results() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    run(&plan(dir.path(), &pipeline_text("values = [1.0]", "")), &runs);
    // Another pipeline with the same seed and an identical `other` stage: it is reused.
    let second = plan(
        dir.path(),
        r#"
format = 1
name = "second"
seed = 7

[stages.other]
kind = "fixture.source"
config = { values = [5.0] }

[stages.more]
kind = "fixture.add"
inputs = { x = "other.metrics" }
config = { add = 10.0 }
"#,
    );
    let r = run(&second, &runs);
    assert_eq!(outcomes(&r), [("other".to_string(), "cached"), ("more".to_string(), "ran")]);
    assert!(runs.join("second/other/metrics.json").is_file());
    let rec = stage_record(&runs, "second", "other");
    assert_eq!(rec.entry.produced_by.pipeline, "demo");
}

#[test]
fn a_folder_of_a_dead_process_is_removed_and_a_live_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    std::fs::create_dir_all(runs.join(".tmp")).unwrap();
    // A process that died mid-stage: its attempt folder and its (unlocked) owner lock.
    let dead = runs.join(".tmp/abc-4000000-0");
    std::fs::create_dir_all(dead.join("out")).unwrap();
    std::fs::write(dead.join("INCOMPLETE"), b"").unwrap();
    std::fs::write(runs.join(".tmp/4000000.lock"), b"").unwrap();
    // A live process: its owner lock is held.
    let live = runs.join(".tmp/def-4000001-0");
    std::fs::create_dir_all(&live).unwrap();
    let lock = std::fs::File::create(runs.join(".tmp/4000001.lock")).unwrap();
    lock.lock().unwrap();

    let _runs = tmu_host::RunsDir::open(&runs).unwrap();
    assert!(!dead.exists());
    assert!(!runs.join(".tmp/4000000.lock").exists());
    assert!(live.exists());
}

#[test]
fn one_process_can_open_a_runs_folder_twice() {
    let dir = tempfile::tempdir().unwrap();
    let a = tmu_host::RunsDir::open(dir.path()).unwrap();
    let b = tmu_host::RunsDir::open(dir.path()).unwrap();
    drop(a);
    // The owner lock is still held through `b`: another process would see this one alive.
    let owner = dir.path().join(format!(".tmp/{}@{}.owner", std::process::id(), tmu_host::store::lock::host()));
    let lock = std::fs::File::open(&owner).unwrap();
    assert!(matches!(lock.try_lock(), Err(std::fs::TryLockError::WouldBlock)));
    drop(b);
    assert!(!owner.exists(), "the owner file is removed with the last handle");
}

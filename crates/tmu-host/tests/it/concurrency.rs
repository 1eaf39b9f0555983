//! Running stages at the same time (`jobs`), and cancelling a run: running stages stop, finished
//! ones are kept, the stopped stage's checkpoints let the next run resume.

use crate::pipeline;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::channel;

use pipeline::{outcomes, plan, registry, run, run_with, stage_record, tmp_attempts};
use tmu_host::{Event, ExecOptions, Outcome, RunError, RunsDir, run_plan};

/// Two independent sleepers that each wait until the other has started: they can only both
/// finish if they run at the same time.
fn rendezvous(dir: &std::path::Path) -> String {
    let (a, b) = (dir.join("a.started"), dir.join("b.started"));
    format!(
        r#"
format = 1
name = "pair"

[stages.a]
kind = "fixture.sleep"
config = {{ name = "a", signal_file = "{a}", wait_for = "{b}" }}

[stages.b]
kind = "fixture.sleep"
config = {{ name = "b", signal_file = "{b}", wait_for = "{a}" }}
"#,
        a = a.display(),
        b = b.display()
    )
}

#[test]
fn with_two_jobs_independent_stages_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(dir.path(), &rendezvous(dir.path()));
    let opts = ExecOptions { jobs: 2, ..Default::default() };
    let report = run_with(&p, &runs, &opts).0.unwrap();
    assert_eq!(report.count(Outcome::Ran), 2);
    let a = stage_record(&runs, "pair", "a").entry.timing;
    let b = stage_record(&runs, "pair", "b").entry.timing;
    assert!(a.started_us < b.finished_us && b.started_us < a.finished_us, "no overlap: {a:?} {b:?}");
}

#[test]
fn with_one_job_stages_run_one_after_the_other() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(
        dir.path(),
        r#"
format = 1
name = "serial"

[stages.a]
kind = "fixture.sleep"
config = { name = "a", millis = 20 }

[stages.b]
kind = "fixture.sleep"
config = { name = "b", millis = 20 }
"#,
    );
    run(&p, &runs);
    let a = stage_record(&runs, "serial", "a").entry.timing;
    let b = stage_record(&runs, "serial", "b").entry.timing;
    assert!(a.finished_us <= b.started_us, "overlap with jobs = 1: {a:?} {b:?}");
}

#[test]
fn cancelling_keeps_finished_stages_and_the_next_run_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let runs_path = dir.path().join("runs");
    let p = plan(
        dir.path(),
        r#"
format = 1
name = "long"

[stages.src]
kind = "fixture.source"

[stages.sleeper]
kind = "fixture.sleep"
inputs = { x = "src.metrics" }
config = { name = "sleeper" }

[stages.tail]
kind = "fixture.add"
inputs = { x = "sleeper.metrics" }
"#,
    );
    let runs = RunsDir::open(&runs_path).unwrap();
    let cancel = AtomicBool::new(false);
    let (tx, rx) = channel();
    let result = std::thread::scope(|s| {
        let handle = s.spawn(|| run_plan(&p, registry(), &runs, &ExecOptions::default(), &tx, &cancel));
        // Ctrl-C once the sleeper reports progress (it has written its checkpoint by then).
        for event in rx.iter() {
            if matches!(&event, Event::Progress { stage, .. } if stage == "sleeper") {
                cancel.store(true, Ordering::SeqCst);
                break;
            }
        }
        handle.join().unwrap()
    });
    let err = result.unwrap_err();
    assert_eq!(err.to_string(), "cancelled; 1 stage finished and kept");
    let RunError::Cancelled { report, .. } = &err else { panic!("{err:?}") };
    assert_eq!(outcomes(report), [("src".into(), "ran"), ("sleeper".into(), "cancelled"), ("tail".into(), "not run")]);
    let key = report.stage("sleeper").unwrap().key.clone().unwrap();
    assert!(runs_path.join(".work").join(&key).join("checkpoint").is_file(), "the work folder survives");
    assert!(tmp_attempts(&runs_path).is_empty(), "the partial output is thrown away");
    assert_eq!(pipeline::stage_json(&runs_path, "long", "sleeper")["status"], "cancelled");
    drop(runs);

    let report = run(&p, &runs_path);
    assert_eq!(outcomes(&report), [("src".into(), "cached"), ("sleeper".into(), "ran"), ("tail".into(), "ran")]);
    assert_eq!(report.stage("sleeper").unwrap().summary["resumed"], true);
    assert!(!runs_path.join(".work").join(&key).exists());
}

/// One stage per CUDA device at a time, whatever `jobs` says; stages on two devices overlap.
/// (The fixture stages never open a device: this checks the scheduling, not CUDA.)
#[test]
fn stages_on_one_gpu_take_turns_and_stages_on_two_gpus_overlap() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(
        dir.path(),
        r#"
format = 1
name = "gpu"

[stages.a]
kind = "fixture.sleep"
device = "cuda:0"
config = { name = "a", millis = 20 }

[stages.b]
kind = "fixture.sleep"
device = "cuda:0"
config = { name = "b", millis = 20 }
"#,
    );
    run_with(&p, &runs, &ExecOptions { jobs: 2, ..Default::default() }).0.unwrap();
    let a = stage_record(&runs, "gpu", "a").entry;
    let b = stage_record(&runs, "gpu", "b").entry;
    assert_eq!((a.device_key.as_str(), a.device_requested.as_str()), ("cuda", "cuda:0"));
    assert!(a.timing.finished_us <= b.timing.started_us, "two stages shared cuda:0: {:?} {:?}", a.timing, b.timing);

    let text = rendezvous(dir.path())
        .replace("name = \"pair\"", "name = \"two-gpus\"")
        .replace("[stages.a]\n", "[stages.a]\ndevice = \"cuda:0\"\n")
        .replace("[stages.b]\n", "[stages.b]\ndevice = \"cuda:1\"\n");
    let p = plan(dir.path(), &text);
    run_with(&p, &runs, &ExecOptions { jobs: 2, ..Default::default() }).0.unwrap();
    let a = stage_record(&runs, "two-gpus", "a").entry.timing;
    let b = stage_record(&runs, "two-gpus", "b").entry.timing;
    assert!(a.started_us < b.finished_us && b.started_us < a.finished_us, "no overlap: {a:?} {b:?}");
}

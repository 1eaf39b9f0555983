//! A store that cannot lie: cached results are verified before reuse (a changed file is dropped
//! and recomputed, and says so), inputs are checked before a stage reads them, files are
//! read-only, the first finisher of a key wins, and `verify_store` / `gc` see the whole store.

use crate::pipeline;

use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::channel;

use pipeline::{outcomes, plan, registry, run, run_with, stage_record};
use tmu_host::store::audit::EntryProblem;
use tmu_host::{Event, ExecOptions, RunError, RunsDir, StoreOptions, run_plan};

const DEMO: &str = r#"
format = 1
name = "demo"

[stages.src]
kind = "fixture.source"
config = { values = [1.0, 2.0, 3.0] }

[stages.add]
kind = "fixture.add"
inputs = { x = "src.metrics" }
"#;

/// Overwrites a byte of a file in place, as a user's script (or a disk) would: through the
/// stage view's hard link, the cached file changes too. Write permission is given back first,
/// as `chmod u+w` would (root needs no permission to write).
fn flip_byte(path: &Path, at: usize) {
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(path, perms).unwrap();
    let mut bytes = std::fs::read(path).unwrap();
    bytes[at] ^= 0x20;
    // In place (same inode), not by a new file.
    use std::io::{Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    f.seek(SeekFrom::Start(at as u64)).unwrap();
    f.write_all(&bytes[at..=at]).unwrap();
}

fn corrupt_events(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Corrupt { stage, message } => Some((stage.clone(), message.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_changed_cached_file_is_dropped_recomputed_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(dir.path(), DEMO);
    run(&p, &runs);
    let view = runs.join("demo/src/metrics.json");
    let good = std::fs::read(&view).unwrap();
    flip_byte(&view, 3);
    let cached = stage_record(&runs, "demo", "src").cache_dir.join("out/metrics.json");
    assert_ne!(std::fs::read(&cached).unwrap(), good, "the view is a hard link into the cache");

    let (result, events) = run_with(&p, &runs, &ExecOptions::default());
    let report = result.unwrap();
    let corrupt = corrupt_events(&events);
    assert_eq!(corrupt.len(), 1, "{corrupt:?}");
    assert_eq!(corrupt[0].0, "src");
    let message = &corrupt[0].1;
    assert!(message.contains(&cached.display().to_string()), "{message}");
    assert!(message.contains("output `metrics` of stage `src` in pipeline `demo`"), "{message}");
    assert!(message.contains("hashes to"), "{message}");
    // The entry was recomputed; its output came out the same, so `add` stays cached.
    assert_eq!(outcomes(&report), [("src".to_string(), "ran"), ("add".to_string(), "cached")]);
    assert_eq!(std::fs::read(&view).unwrap(), good);
    assert_eq!(std::fs::read(&cached).unwrap(), good);
    // And a third run finds everything intact.
    let (_, events) = run_with(&p, &runs, &ExecOptions::default());
    assert!(corrupt_events(&events).is_empty());
}

#[test]
fn a_removed_cached_file_is_recomputed() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(dir.path(), DEMO);
    run(&p, &runs);
    let rec = stage_record(&runs, "demo", "add");
    std::fs::remove_file(rec.cache_dir.join("out/metrics.json")).unwrap();
    let (result, events) = run_with(&p, &runs, &ExecOptions::default());
    assert_eq!(outcomes(&result.unwrap()), [("src".to_string(), "cached"), ("add".to_string(), "ran")]);
    let corrupt = corrupt_events(&events);
    assert!(corrupt[0].1.ends_with("is missing"), "{corrupt:?}");
}

#[test]
fn trusting_the_cache_skips_verification() {
    let dir = tempfile::tempdir().unwrap();
    let runs_path = dir.path().join("runs");
    let p = plan(dir.path(), DEMO);
    run(&p, &runs_path);
    flip_byte(&runs_path.join("demo/src/metrics.json"), 3);
    let runs = RunsDir::open_with(&runs_path, StoreOptions { verify: false }).unwrap();
    let (tx, rx) = channel();
    let report = run_plan(&p, registry(), &runs, &ExecOptions::default(), &tx, &AtomicBool::new(false)).unwrap();
    drop(tx);
    assert_eq!(report.count(tmu_host::Outcome::Cached), 2);
    assert!(corrupt_events(&rx.into_iter().collect::<Vec<_>>()).is_empty());
}

#[test]
fn cached_files_and_their_views_are_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    run(&plan(dir.path(), DEMO), &runs);
    let rec = stage_record(&runs, "demo", "src");
    for file in ["out/metrics.json", "out/labels.safetensors", "entry.json", "config.json", "stage.log"] {
        let path = rec.cache_dir.join(file);
        assert!(std::fs::metadata(&path).unwrap().permissions().readonly(), "{} is writable", path.display());
    }
    for file in ["metrics.json", "labels.safetensors", "config.json"] {
        let path = runs.join("demo/src").join(file);
        assert!(std::fs::metadata(&path).unwrap().permissions().readonly(), "{} is writable", path.display());
    }
}

/// A stage that gathers `src` and a gate that waits: `src`'s output is changed while the gate
/// waits, after `src` verified; `both` must notice before it reads it.
#[test]
fn an_input_changed_during_the_run_stops_the_stage_that_would_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let (started, release) = (dir.path().join("started"), dir.path().join("release"));
    let text = format!(
        r#"
format = 1
name = "gate"

[stages.src]
kind = "fixture.source"

[stages.gate]
kind = "fixture.sleep"
inputs = {{ x = "src.metrics" }}
config = {{ name = "gate", signal_file = "{}", wait_for = "{}" }}

[stages.both]
kind = "fixture.collect"
inputs = {{ parts = {{ a = "src.metrics", b = "gate.metrics" }} }}
"#,
        started.display(),
        release.display()
    );
    let p = plan(dir.path(), &text);
    let view = runs.join("gate/src/metrics.json");
    let result = std::thread::scope(|s| {
        let runner = s.spawn(|| run_with(&p, &runs, &ExecOptions::default()).0);
        while !started.exists() {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        flip_byte(&view, 3);
        std::fs::write(&release, b"go").unwrap();
        runner.join().unwrap()
    });
    let Err(RunError::Failed { failures, .. }) = result else { panic!("expected a failure: {result:?}") };
    assert_eq!(failures[0].stage, "both");
    let message = failures[0].error.chain_line();
    assert!(message.contains("input `parts`"), "{message}");
    assert!(message.contains("from `src.metrics`"), "{message}");
    assert!(message.contains("its cache entry was dropped"), "{message}");
    // The next run computes `src` anew and finishes.
    std::fs::remove_file(&started).unwrap();
    let report = run(&p, &runs);
    assert_eq!(report.stage("src").unwrap().outcome.as_str(), "ran");
    assert_eq!(report.stage("both").unwrap().outcome.as_str(), "ran");
}

#[test]
fn verify_store_finds_corrupt_entries_and_replaced_view_files() {
    let dir = tempfile::tempdir().unwrap();
    let runs_path = dir.path().join("runs");
    run(&plan(dir.path(), DEMO), &runs_path);
    let runs = RunsDir::open(&runs_path).unwrap();
    let audit = runs.verify_store(false).unwrap();
    assert_eq!((audit.entries, audit.problems.len(), audit.views.len()), (2, 0, 0));

    // A view file replaced by a new file (as an editor saves): the cache is intact.
    let view = runs_path.join("demo/add/metrics.json");
    std::fs::remove_file(&view).unwrap();
    std::fs::write(&view, b"{}").unwrap();
    // A cached file changed in place, and an entry whose record is not JSON.
    flip_byte(&runs_path.join("demo/src/metrics.json"), 3);
    let bogus = runs_path.join(".cache/0123abcd");
    std::fs::create_dir_all(bogus.join("out")).unwrap();
    std::fs::write(bogus.join("entry.json"), b"{ not json").unwrap();

    let runs = RunsDir::open(&runs_path).unwrap();
    let audit = runs.verify_store(false).unwrap();
    assert_eq!(audit.entries, 3);
    let texts: Vec<String> = audit.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(matches!(audit.problems[0], EntryProblem::BadRecord { .. }), "{texts:?}");
    assert!(texts[0].contains("is not JSON"), "{texts:?}");
    assert!(matches!(audit.problems[1], EntryProblem::Corrupt(_)), "{texts:?}");
    // The changed file shows through two views (demo/src), the replaced one through one.
    let views: Vec<String> = audit.views.iter().map(|v| format!("{} {}", v.file.display(), v.reason)).collect();
    assert!(views.iter().any(|v| v.contains("demo/add/metrics.json differs from the cached result")), "{views:?}");

    let audit = runs.verify_store(true).unwrap();
    assert_eq!(audit.evicted, 2);
    assert_eq!(runs.cached_keys().unwrap().len(), 1);
    assert!(runs.verify_store(false).unwrap().problems.is_empty());
}

#[test]
fn gc_removes_only_what_the_kept_pipelines_do_not_reuse() {
    let dir = tempfile::tempdir().unwrap();
    let runs_path = dir.path().join("runs");
    let demo = plan(dir.path(), DEMO);
    run(&demo, &runs_path);
    let other = plan(dir.path(), &DEMO.replace("\"demo\"", "\"other\"").replace("2.0", "20.0"));
    run(&other, &runs_path);
    let runs = RunsDir::open(&runs_path).unwrap();
    assert_eq!(runs.cached_keys().unwrap().len(), 4);

    let keep: HashSet<String> = tmu_host::plan_status(&demo, registry(), &runs, &ExecOptions::default())
        .unwrap()
        .into_iter()
        .filter_map(|s| match s {
            tmu_host::StageStatus::Cached { key } => Some(key),
            _ => None,
        })
        .collect();
    assert_eq!(keep.len(), 2);
    let gc = runs.gc_plan(&keep).unwrap();
    assert_eq!(gc.entries.len(), 2);
    assert!(gc.entries.iter().all(|e| e.produced_by.as_ref().unwrap().pipeline == "other"));
    assert_eq!(gc.views.len(), 2, "{:?}", gc.views);
    // Nothing changes until the plan is applied.
    assert_eq!(runs.cached_keys().unwrap().len(), 4);
    let done = runs.gc_apply(&gc).unwrap();
    assert_eq!((done.removed, done.busy.len()), (2, 0));
    assert_eq!(runs.cached_keys().unwrap().len(), 2);
    assert!(!runs_path.join("other/src").exists());
    assert_eq!(run(&demo, &runs_path).count(tmu_host::Outcome::Cached), 2);
}

#[test]
fn gc_leaves_an_entry_whose_key_a_process_holds() {
    let dir = tempfile::tempdir().unwrap();
    let runs_path = dir.path().join("runs");
    run(&plan(dir.path(), DEMO), &runs_path);
    let runs = RunsDir::open(&runs_path).unwrap();
    let gc = runs.gc_plan(&HashSet::new()).unwrap();
    let held = runs.try_lock_key(&gc.entries[0].key).unwrap().unwrap();
    // Another handle of the runs folder in this process is another holder to the lock.
    let other = RunsDir::open(&runs_path).unwrap();
    let done = other.gc_apply(&gc).unwrap();
    assert_eq!((done.removed, done.busy.len()), (1, 1));
    drop(held);
}

#[test]
fn the_first_finisher_of_a_key_wins_and_a_second_keeps_its_result() {
    let dir = tempfile::tempdir().unwrap();
    let runs_path = dir.path().join("runs");
    run(&plan(dir.path(), DEMO), &runs_path);
    let runs = RunsDir::open(&runs_path).unwrap();
    let record = stage_record(&runs_path, "demo", "src").entry;
    // A second attempt at the same key, as a process that did not see the first one's lock
    // (a lock broken across hosts) would make: different bytes, same key.
    let attempt = runs.begin(&record.key).unwrap();
    let attempt_dir = attempt.dir.clone();
    for out in record.outputs.values() {
        std::fs::write(attempt.out_dir.join(&out.file), b"other bytes").unwrap();
    }
    std::fs::write(attempt.dir.join("entry.json"), serde_json::to_vec(&record).unwrap()).unwrap();
    match runs.commit(attempt, &record, false).unwrap() {
        tmu_host::store::Committed::Existing(kept) => assert_eq!(*kept, record),
        other => panic!("the second finisher replaced the first: {other:?}"),
    }
    assert!(!attempt_dir.exists());
    assert!(runs.verify_store(false).unwrap().problems.is_empty());
}

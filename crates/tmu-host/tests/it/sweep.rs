//! Sweeps on real plugin runs: instance run folders, a failing point that does not stop the
//! others, gathering over the points that finished, identical work shared through the cache,
//! reruns that fill in only what is missing or changed, and progress counted in points.

use crate::pipeline;

use pipeline::{plan, read_json, run, run_with};
use tmu_host::{Event, ExecOptions, Outcome, RunError, RunReport};

/// Two seeds x the given divisors: `src` per seed, `div` and `after` per point, `collect`
/// gathering `div.metrics` over every point.
fn grid(divisors: &str) -> String {
    format!(
        r#"
format = 1
name = "grid"

[sweep]
seed = [0, 1]
by = {{ values = [{divisors}], bind = ["div.config.by"] }}

[stages.src]
kind = "fixture.source"

[stages.div]
kind = "fixture.divide"
inputs = {{ x = "src.metrics" }}

[stages.after]
kind = "fixture.add"
inputs = {{ x = "div.metrics" }}

[stages.collect]
kind = "fixture.collect"
inputs = {{ parts = "div.metrics" }}
"#
    )
}

/// `(base, outcome)` counts: how many instances of each stage ended so.
fn count(report: &RunReport, base: &str, outcome: Outcome) -> usize {
    report.count_of(base, outcome)
}

#[test]
fn a_failing_point_does_not_stop_the_others_and_gathering_uses_the_points_that_finished() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(dir.path(), &grid("1.0, 0.0, 2.0"));
    let (result, events) = run_with(&p, &runs, &ExecOptions::default());
    let Err(RunError::Failed { failures, report }) = result else { panic!("two points divide by zero: {result:?}") };

    // Both failing points are reported, each naming its instance.
    let failed: Vec<&str> = failures.iter().map(|f| f.stage.as_str()).collect();
    assert_eq!(failed, ["seed=0,by=0.0/div", "seed=1,by=0.0/div"]);
    assert!(failures[0].to_string().contains("cannot divide by zero"), "{}", failures[0]);

    // Every other point ran to the end; what needs a failed instance was skipped, with a reason.
    assert_eq!(count(&report, "src", Outcome::Ran), 2);
    assert_eq!(count(&report, "div", Outcome::Ran), 4);
    assert_eq!(count(&report, "after", Outcome::Ran), 4);
    let skipped = report.stage("seed=1,by=0.0/after").unwrap();
    assert_eq!(skipped.outcome, Outcome::NotRun);
    assert_eq!(skipped.reason.as_deref(), Some("`seed=1,by=0.0/div` failed or did not run"));
    assert!(events.iter().any(|e| matches!(e, Event::Skipped { stage, .. } if stage == "seed=0,by=0.0/after")));

    // The gathering stage ran on the four points that finished, and its log names the others.
    assert_eq!(report.stage("collect").unwrap().outcome, Outcome::Ran);
    let collected = read_json(&runs.join("grid/collect/metrics.json"));
    let keys: Vec<&String> = collected["sums"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["seed=0,by=1.0", "seed=0,by=2.0", "seed=1,by=1.0", "seed=1,by=2.0"]);
    assert_eq!(collected["total"], 2.0 * (6.0 + 3.0));
    let log = std::fs::read_to_string(runs.join("grid/collect/stage.log")).unwrap();
    assert!(
        log.contains("WARN  input `parts` gathers `div.metrics` from 4 of 6 points; missing (failed or not run): seed=0,by=0.0; seed=1,by=0.0"),
        "{log}"
    );

    // Run folders: `<pipeline>/<point label>/<stage>/`, shared stages directly under the pipeline.
    assert!(runs.join("grid/seed=1/src/metrics.json").is_file());
    assert!(runs.join("grid/seed=0,by=2.0/after/metrics.json").is_file());
    assert!(runs.join("grid/seed=0,by=0.0/div/stage.json").is_file(), "a failed instance keeps its record");

    // Progress in points: four done, two failed.
    let last = events.iter().rev().find_map(|e| match e {
        Event::Points(p) => Some(p.clone()),
        _ => None,
    });
    let last = last.expect("points progress events");
    assert_eq!((last.total, last.done, last.failed), (6, 4, 2));
    assert_eq!(report.points.as_ref().map(|p| (p.done, p.failed)), Some((4, 2)));
    assert!(events.iter().any(|e| matches!(e, Event::Points(p) if p.eta_s.is_some_and(|s| s > 0.0))));

    // A rerun fills in only what is missing: the failed points fail again, the rest is cached.
    let (again, _) = run_with(&p, &runs, &ExecOptions::default());
    let Err(RunError::Failed { failures, report }) = again else { panic!("still failing") };
    assert_eq!(failures.len(), 2);
    assert_eq!(report.count(Outcome::Ran), 0);
    assert_eq!(report.count(Outcome::Cached), 2 + 4 + 4 + 1);
}

#[test]
fn changing_one_axis_value_reruns_only_the_points_it_touches() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let first = run(&plan(dir.path(), &grid("1.0, 2.0, 4.0")), &runs);
    assert_eq!(first.count(Outcome::Ran), 2 + 6 + 6 + 1);

    // 4.0 -> 8.0: the two points with 8.0 are new (their `div` and `after`), and the gathering
    // stage sees a changed input; the seeds' sources and the other four points are cached.
    let second = run(&plan(dir.path(), &grid("1.0, 2.0, 8.0")), &runs);
    let mut ran: Vec<&str> =
        second.stages.iter().filter(|s| s.outcome == Outcome::Ran).map(|s| s.stage.as_str()).collect();
    ran.sort_unstable();
    assert_eq!(
        ran,
        ["collect", "seed=0,by=8.0/after", "seed=0,by=8.0/div", "seed=1,by=8.0/after", "seed=1,by=8.0/div"]
    );
    assert_eq!(second.count(Outcome::Cached), 2 + 4 + 4);
    let collected = read_json(&runs.join("grid/collect/metrics.json"));
    assert_eq!(collected["sums"]["seed=1,by=8.0"], 6.0 / 8.0);

    // Back to 4.0: every instance is in the cache again.
    let third = run(&plan(dir.path(), &grid("1.0, 2.0, 4.0")), &runs);
    assert_eq!(third.count(Outcome::Ran), 0);
}

#[test]
fn identical_work_at_different_points_runs_once() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    // `note` changes the source's config (so each value has its own instance) but not its
    // output: `div` depends on the axis through it, with identical inputs, config and seed at
    // both points, so the second instance finds the first one's result in the cache.
    let p = plan(
        dir.path(),
        r#"
format = 1
name = "shared"

[sweep]
note = { values = ["a", "b"], bind = ["src.config.note"] }

[stages.src]
kind = "fixture.source"

[stages.div]
kind = "fixture.divide"
inputs = { x = "src.metrics" }
config = { by = 2.0 }
"#,
    );
    let report = run(&p, &runs);
    assert_eq!(count(&report, "src", Outcome::Ran), 2);
    assert_eq!(count(&report, "div", Outcome::Ran), 1);
    assert_eq!(count(&report, "div", Outcome::Cached), 1);
    let a = report.stage("note=a/div").unwrap();
    let b = report.stage("note=b/div").unwrap();
    assert_eq!(a.key, b.key);
    assert!(runs.join("shared/note=b/div/metrics.json").is_file());
}

#[test]
fn names_on_the_command_line_select_every_instance_of_a_stage() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(dir.path(), &grid("1.0, 2.0"));
    run(&p, &runs);
    let force = ExecOptions { force: vec!["after".into()], ..ExecOptions::default() };
    let report = run_with(&p, &runs, &force).0.unwrap();
    assert_eq!(count(&report, "after", Outcome::Ran), 4);
    assert_eq!(report.count(Outcome::Ran), 4);
    let one = ExecOptions { to: vec!["seed=1,by=2.0/after".into()], ..ExecOptions::default() };
    let report = run_with(&p, &runs, &one).0.unwrap();
    let kept: Vec<&str> =
        report.stages.iter().filter(|s| s.outcome != Outcome::Excluded).map(|s| s.stage.as_str()).collect();
    assert_eq!(kept, ["seed=1/src", "seed=1,by=2.0/div", "seed=1,by=2.0/after"]);
}

#[test]
fn without_a_sweep_a_failure_still_stops_new_stages_unless_asked_to_keep_going() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
format = 1
name = "two"

[stages.bad]
kind = "fixture.fail"

[stages.good]
kind = "fixture.source"
"#;
    let p = plan(dir.path(), text);
    let err = run_with(&p, &dir.path().join("runs-a"), &ExecOptions::default()).0.unwrap_err();
    assert_eq!(err.report().unwrap().stage("good").unwrap().outcome, Outcome::NotRun);
    let keep = ExecOptions { keep_going: true, ..ExecOptions::default() };
    let err = run_with(&p, &dir.path().join("runs-b"), &keep).0.unwrap_err();
    assert_eq!(err.report().unwrap().stage("good").unwrap().outcome, Outcome::Ran);
}

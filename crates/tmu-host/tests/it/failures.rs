//! Stages that fail, panic, write the wrong artifact or are not ready; configs rejected by their
//! schema: each error names the stage, its kind and plugin, and finished stages are kept.

use crate::pipeline;

use pipeline::{outcomes, plan, ran, registry, run_with, stage_json, tmp_attempts};
use tmu_core::RenderStyle;
use tmu_host::{ExecOptions, Outcome, RunError};

fn with_stage(kind: &str) -> String {
    format!(
        r#"
format = 1
name = "broken"

[stages.src]
kind = "fixture.source"

[stages.bad]
kind = "{kind}"
inputs = {{ x = "src.metrics" }}

[stages.after]
kind = "fixture.add"
inputs = {{ x = "bad.metrics" }}
"#
    )
}

fn failed(result: Result<tmu_host::RunReport, RunError>) -> RunError {
    match result {
        Ok(r) => panic!("the run succeeded: {:?}", outcomes(&r)),
        Err(e) => e,
    }
}

#[test]
fn an_error_names_stage_kind_plugin_causes_and_help_and_finished_stages_stay() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(dir.path(), &with_stage("fixture.fail"));
    let err = failed(run_with(&p, &runs, &ExecOptions::default()).0);
    assert_eq!(
        err.to_string(),
        "stage `bad` (fixture.fail, plugin `fixture-stages`) failed: writing the answer: disk on fire"
    );
    let help = err.help().unwrap();
    assert!(help.starts_with("try another disk\n"), "{help}");
    assert!(help.contains("stages that finished were kept"), "{help}");
    let RunError::Failed { failures, report } = &err else { panic!("{err:?}") };
    assert_eq!(failures[0].plugin_file, registry().plugins()[0].path);
    assert_eq!(outcomes(report), [("src".into(), "ran"), ("bad".into(), "failed"), ("after".into(), "not run")]);

    // The failed stage's folder holds its log and a record of the error; no attempt is left.
    let rec = stage_json(&runs, "broken", "bad");
    assert_eq!(rec["status"], "failed");
    assert_eq!(rec["error"]["message"], "writing the answer");
    assert_eq!(rec["error"]["help"], "try another disk");
    let log = std::fs::read_to_string(runs.join("broken/bad/stage.log")).unwrap();
    assert!(log.contains("ERROR failed: writing the answer: disk on fire"), "{log}");
    assert!(tmp_attempts(&runs).is_empty());

    // The finished stage is kept: the next run takes it from the cache.
    let err = failed(run_with(&p, &runs, &ExecOptions::default()).0);
    assert_eq!(err.report().unwrap().stage("src").unwrap().outcome, Outcome::Cached);
}

#[test]
fn a_panic_is_reported_with_its_message_and_location() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let err = failed(run_with(&plan(dir.path(), &with_stage("fixture.panic")), &runs, &ExecOptions::default()).0);
    let text = err.to_string();
    assert!(
        text.starts_with("stage `bad` (fixture.panic) of plugin `fixture-stages` panicked: fixture exploded: at "),
        "{text}"
    );
    assert!(text.contains("stages/src/lib.rs:"), "{text}");
    assert!(err.help().unwrap().contains("this is a bug in the plugin"));
    assert_eq!(err.report().unwrap().stage("src").unwrap().outcome, Outcome::Ran);
}

#[test]
fn an_output_of_the_wrong_artifact_kind_fails_the_stage() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(
        dir.path(),
        r#"
format = 1
name = "wrong"

[stages.ok]
kind = "fixture.source"

[stages.wk]
kind = "fixture.wrong-kind"
"#,
    );
    let err = failed(run_with(&p, &runs, &ExecOptions::default()).0);
    let text = err.to_string();
    assert!(
        text.starts_with(
            "stage `wk` (fixture.wrong-kind) of plugin `fixture-stages` wrote its output `labels` as a `features` \
             artifact, its signature says `labels`: "
        ),
        "{text}"
    );
    assert!(err.to_string().ends_with("out/labels.safetensors"), "{err}");
    assert!(err.help().unwrap().contains("this is a bug in plugin `fixture-stages`"));
    assert_eq!(err.report().unwrap().stage("ok").unwrap().outcome, Outcome::Ran);
    // The bad output was never promoted into the cache.
    assert!(tmp_attempts(&runs).is_empty());
    let cached: Vec<_> = std::fs::read_dir(runs.join(".cache")).unwrap().collect();
    assert_eq!(cached.len(), 1, "only the good stage is cached");
}

/// Runs a pipeline whose source `data` (and the `extra` stages) are not ready; checks that
/// nothing ran and returns the error.
fn preflight_error(extra: &str) -> RunError {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let text = format!(
        r#"
format = 1
name = "unready"

[stages.first]
kind = "fixture.add"
inputs = {{ x = "data.metrics" }}

[stages.data]
kind = "fixture.source"
config = {{ note = "unready" }}
{extra}"#
    );
    let err = failed(run_with(&plan(dir.path(), &text), &runs, &ExecOptions::default()).0);
    assert!(!runs.join("unready").exists(), "nothing ran");
    err
}

#[test]
fn a_preflight_failure_stops_the_run_before_anything_runs() {
    let err = preflight_error("");
    assert_eq!(
        err.to_string(),
        "1 stage is not ready to run: stage `data` (fixture.source, plugin `fixture-stages`) failed: \
         the source data is not there"
    );
    assert_eq!(err.help().as_deref(), Some("put the data where the source expects it"));
}

#[test]
fn the_same_preflight_failure_of_several_stages_is_said_once() {
    let err = preflight_error(
        r#"
[stages.again]
kind = "fixture.source"
config = { note = "unready", scale = 2 }

[stages.more]
kind = "fixture.source"
config = { note = "unready", scale = 3 }
"#,
    );
    assert_eq!(
        err.to_string(),
        "3 stages are not ready to run: stages `data`, `again` and `more` (fixture.source, plugin \
         `fixture-stages`) failed: the source data is not there"
    );
    assert_eq!(err.help().as_deref(), Some("put the data where the source expects it"));
}

#[test]
fn a_config_rejected_by_its_schema_is_reported_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipeline.toml");
    let text = r#"format = 1
name = "bad-config"

[stages.src]
kind = "fixture.source"
config = { scale = 11, colour = "red" }

[stages.add]
kind = "fixture.add"
inputs = { x = "src.metrics" }
config = { add = "one" }
"#;
    let diagnostics = tmu_core::load(&path, text, registry()).unwrap_err();
    let rendered = diagnostics.render(RenderStyle::Plain);
    // Every problem at once, each with its place in the file.
    assert_eq!(diagnostics.len(), 3, "{rendered}");
    assert!(rendered.contains("pipeline.toml:6:20"), "{rendered}");
    assert!(rendered.contains("`config.scale` of `fixture.source`"), "{rendered}");
    assert!(rendered.contains("unknown field `colour` in the config of `fixture.source`"), "{rendered}");
    assert!(rendered.contains("pipeline.toml:6:24"), "{rendered}");
    assert!(rendered.contains("pipeline.toml:11:18"), "{rendered}");
    assert!(!dir.path().join("runs").exists());
}

#[test]
fn the_slice_options_select_stages_and_need_cached_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let runs = dir.path().join("runs");
    let p = plan(
        dir.path(),
        r#"
format = 1
name = "chain"

[stages.a]
kind = "fixture.source"

[stages.b]
kind = "fixture.add"
inputs = { x = "a.metrics" }

[stages.c]
kind = "fixture.add"
inputs = { x = "b.metrics" }

[stages.d]
kind = "fixture.source"
config = { values = [9.0] }
"#,
    );
    let opts = |f: &dyn Fn(&mut ExecOptions)| {
        let mut o = ExecOptions::default();
        f(&mut o);
        o
    };
    // --from on an empty cache: the stages it needs upstream are not there.
    let err = failed(run_with(&p, &runs, &opts(&|o| o.from = vec!["b".into()])).0);
    assert_eq!(err.to_string(), "stage `a` is outside the slice chosen by --from/--to and has no cached result");
    assert!(!runs.join("chain").exists());

    // --to: the stage and what it needs; the rest is left alone.
    let r = run_with(&p, &runs, &opts(&|o| o.to = vec!["b".into()])).0.unwrap();
    assert_eq!(
        outcomes(&r),
        [("a".into(), "ran"), ("b".into(), "ran"), ("c".into(), "excluded"), ("d".into(), "excluded")]
    );

    // --from with what it needs cached.
    let r = run_with(&p, &runs, &opts(&|o| o.from = vec!["c".into()])).0.unwrap();
    assert_eq!(
        outcomes(&r),
        [("a".into(), "cached"), ("b".into(), "cached"), ("c".into(), "ran"), ("d".into(), "excluded")]
    );

    // --force reruns a stage; its identical output leaves its consumer cached.
    let r = run_with(&p, &runs, &opts(&|o| o.force = vec!["b".into()])).0.unwrap();
    assert_eq!(ran(&r), ["b", "d"]);
    assert_eq!(r.stage("c").unwrap().outcome, Outcome::Cached);

    let err = failed(
        run_with(
            &p,
            &runs,
            &opts(&|o| {
                o.to = vec!["b".into()];
                o.force = vec!["d".into()];
            }),
        )
        .0,
    );
    assert_eq!(err.to_string(), "--force names stage `d`, which is outside the slice chosen by --from/--to");
    let err = failed(run_with(&p, &runs, &opts(&|o| o.from = vec!["cc".into()])).0);
    assert!(err.to_string().starts_with("pipeline `chain` has no stage `cc`"), "{err}");
}

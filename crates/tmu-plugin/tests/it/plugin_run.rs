//! Running stages in-process through `Plugin::run`: success, config errors, failures, panics.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::protocol::{ErrorKind, RunRequest};
use tmu_plugin::{ArtifactKind, Context, Inputs, NullHost, ResultExt, Signature, Stage};

#[derive(Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct Config {
    /// What to do: `ok`, `fail`, `panic`, `forget-output`, `unready`, `cancel-deep`, `advise`.
    #[serde(default = "ok")]
    mode: String,
    /// A number with a range.
    #[serde(default)]
    #[schemars(range(min = 1, max = 5))]
    level: u32,
}

fn ok() -> String {
    "ok".into()
}

struct Probe;

/// A library's typed error, converted with a plain `?`.
#[derive(Debug, thiserror::Error)]
enum Wrapper {
    #[error("cancelled")]
    Cancelled(#[source] tmu_plugin::Cancelled),
    #[error("training diverged")]
    Diverged(#[source] tmu_plugin::Advice),
}

impl Stage for Probe {
    const KIND: &'static str = "test.probe";
    type Config = Config;

    fn signature() -> Signature {
        Signature::new("writes a metrics file or misbehaves on request")
            .optional_input("data", ArtifactKind::Dataset, "ignored")
            .output("metrics", ArtifactKind::Metrics, "the seed")
    }

    fn preflight(config: &Config) -> anyhow::Result<()> {
        if config.mode == "unready" { Err(tmu_plugin::with_help("data not found", "put it there")) } else { Ok(()) }
    }

    fn run(ctx: &mut Context, _inputs: &Inputs, config: Config) -> anyhow::Result<()> {
        match config.mode.as_str() {
            "fail" => Err(std::io::Error::other("disk on fire")).help("try another disk"),
            "panic" => panic!("probe exploded"),
            "forget-output" => Ok(()),
            "unready" => panic!("run was called although preflight refused the config"),
            // A typed error that wraps the cancellation as its source, with context on top.
            "cancel-deep" => Err(anyhow::Error::new(Wrapper::Cancelled(tmu_plugin::Cancelled)).context("step 3")),
            "advise" => Err(Wrapper::Diverged(tmu_plugin::Advice::new("lower the learning rate")).into()),
            _ => {
                ctx.summary("seed", ctx.seed());
                let path = ctx.output_path("metrics");
                tmu_plugin::artifact::write_metrics(&path, &serde_json::json!({ "seed": ctx.seed() }))?;
                Ok(())
            }
        }
    }
}

tmu_plugin::export_plugin!(Probe);

fn request(dir: &std::path::Path, config: serde_json::Value) -> RunRequest {
    RunRequest {
        stage: "probe".into(),
        kind: "test.probe".into(),
        config,
        inputs: Inputs::default(),
        output_dir: dir.to_path_buf(),
        work_dir: dir.to_path_buf(),
        seed: 42,
        device: "cpu".into(),
        preflight: false,
    }
}

#[test]
fn success_fills_defaults_and_summary() {
    let dir = tempfile::tempdir().unwrap();
    let resp = tmu_plugin().run(&request(dir.path(), serde_json::Value::Null), &NullHost).unwrap();
    assert_eq!(resp.resolved_config, serde_json::json!({"mode": "ok", "level": 0}));
    assert_eq!(resp.summary, serde_json::json!({"seed": 42}));
    assert!(dir.path().join("metrics.json").is_file());
}

#[test]
fn errors_are_structured() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = tmu_plugin();

    let e = plugin.run(&request(dir.path(), serde_json::json!({"mode": "fail"})), &NullHost).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Failed);
    assert_eq!(e.message, "disk on fire");
    assert_eq!(e.help.as_deref(), Some("try another disk"));

    let e = plugin.run(&request(dir.path(), serde_json::json!({"mood": "x"})), &NullHost).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert_eq!(e.message, "invalid config for stage `probe` (test.probe)");
    assert!(e.causes[0].contains("unknown field `mood`"), "{:?}", e.causes);

    let e = plugin.run(&request(dir.path(), serde_json::json!({"mode": "panic"})), &NullHost).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Panic);
    assert_eq!(e.message, "stage `probe` (test.probe) of plugin `tmu-plugin` panicked");
    assert_eq!(e.causes[0], "probe exploded");
    assert!(e.causes[1].contains("plugin_run.rs"), "{:?}", e.causes);

    let e = plugin.run(&request(dir.path(), serde_json::json!({"mode": "forget-output"})), &NullHost).unwrap_err();
    assert!(e.message.contains("finished without writing its output `metrics`"), "{}", e.message);

    let mut r = request(dir.path(), serde_json::Value::Null);
    r.kind = "test.nope".into();
    let e = plugin.run(&r, &NullHost).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Request);
    assert!(e.message.contains("has no stage kind `test.nope` (it has: test.probe)"));
}

#[test]
fn description_carries_schema_with_docs_and_ranges() {
    let d = tmu_plugin().describe();
    assert_eq!(d.name, "tmu-plugin");
    assert_eq!(d.abi_version, tmu_plugin::abi::ABI_VERSION);
    let s = &d.stages[0];
    assert_eq!(s.kind, "test.probe");
    let props = &s.config_schema["properties"];
    assert!(props["mode"]["description"].as_str().unwrap().starts_with("What to do: `ok`, `fail`"));
    assert_eq!(props["level"]["maximum"], 5);
    assert_eq!(s.config_schema["additionalProperties"], false);
}

#[test]
fn preflight_checks_without_running() {
    let dir = tempfile::tempdir().unwrap();
    let mut r = request(dir.path(), serde_json::json!({"mode": "panic"}));
    r.preflight = true;
    let resp = tmu_plugin().run(&r, &NullHost).unwrap();
    assert_eq!(resp.resolved_config["mode"], "panic");
    assert!(!dir.path().join("metrics.json").exists());
    let mut r = request(dir.path(), serde_json::json!({"mode": "unready"}));
    r.preflight = true;
    let e = tmu_plugin().run(&r, &NullHost).unwrap_err();
    assert_eq!((e.message.as_str(), e.help.as_deref()), ("data not found", Some("put it there")));
}

#[test]
fn preflight_runs_before_every_run() {
    // Without the host's preflight pass, the SDK still refuses before `run` is called.
    let dir = tempfile::tempdir().unwrap();
    let e = tmu_plugin().run(&request(dir.path(), serde_json::json!({"mode": "unready"})), &NullHost).unwrap_err();
    assert_eq!(
        (e.kind, e.message.as_str(), e.help.as_deref()),
        (ErrorKind::Failed, "data not found", Some("put it there"))
    );
}

#[test]
fn cancellation_and_advice_are_found_anywhere_in_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let e = tmu_plugin().run(&request(dir.path(), serde_json::json!({"mode": "cancel-deep"})), &NullHost).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Cancelled, "{e:?}");
    assert_eq!((e.message.as_str(), e.causes.as_slice()), ("step 3", &["cancelled".to_string()][..]));
    let e = tmu_plugin().run(&request(dir.path(), serde_json::json!({"mode": "advise"})), &NullHost).unwrap_err();
    assert_eq!(e.kind, ErrorKind::Failed);
    assert_eq!((e.message.as_str(), e.help.as_deref()), ("training diverged", Some("lower the learning rate")));
    assert!(e.causes.is_empty(), "the advice is help, not a cause: {:?}", e.causes);
}

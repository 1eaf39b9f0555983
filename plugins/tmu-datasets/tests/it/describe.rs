//! Self-description: every stage's examples deserialize into its config, every config field is
//! documented and closed to unknown fields, and preflight reports missing data before any work.

use tmu_datasets::{Cifar10, Cifar100, Digits, ImageFolder, SplitForget, Synthetic, VggFace2};
use tmu_plugin::NullHost;
use tmu_plugin::protocol::RunRequest;
use tmu_test_support::{check_examples, check_stage_configs, config};

#[test]
fn every_example_deserializes() {
    check_examples::<Digits>();
    check_examples::<Synthetic>();
    check_examples::<Cifar10>();
    check_examples::<Cifar100>();
    check_examples::<VggFace2>();
    check_examples::<ImageFolder>();
    check_examples::<SplitForget>();
}

#[test]
fn every_field_is_documented_and_closed() {
    let d = check_stage_configs(
        tmu_datasets::tmu_plugin(),
        &[
            "dataset.digits",
            "dataset.synthetic",
            "dataset.cifar10",
            "dataset.cifar100",
            "dataset.vggface2",
            "dataset.image-folder",
            "split.forget",
            "split.shadow",
        ],
    );
    for s in &d.stages {
        assert!(!s.config_schema["properties"].as_object().unwrap().is_empty(), "{}", s.kind);
    }
    let vgg = d.stages.iter().find(|s| s.kind == "dataset.vggface2").unwrap();
    let identities = vgg.config_schema["$defs"]["Identities"].to_string();
    assert!(identities.contains("\"minimum\":1"), "{identities}");
    let forget = d.stages.iter().find(|s| s.kind == "split.forget").unwrap();
    assert_eq!(forget.config_schema["properties"]["holdout"]["maximum"], 0.9);
    let outputs: Vec<&str> = forget.outputs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(outputs, ["members", "retain", "forget", "twin_forget", "population"]);
}

fn preflight(kind: &str, toml: &str) -> Result<serde_json::Value, tmu_plugin::protocol::WireError> {
    let dir = tempfile::tempdir().unwrap();
    let request = RunRequest {
        stage: "data".into(),
        kind: kind.into(),
        config: config(toml),
        inputs: tmu_plugin::Inputs::default(),
        output_dir: dir.path().join("out"),
        work_dir: dir.path().join("work"),
        seed: 0,
        device: "cpu".into(),
        preflight: true,
    };
    tmu_datasets::tmu_plugin().run(&request, &NullHost).map(|r| r.resolved_config)
}

#[test]
fn preflight_finds_missing_data_and_bad_options() {
    let dir = tempfile::tempdir().unwrap();
    let root = format!("root = {:?}", dir.path().display().to_string());
    for kind in ["dataset.cifar10", "dataset.cifar100", "dataset.vggface2", "dataset.image-folder"] {
        let e = preflight(kind, &root).unwrap_err();
        assert!(e.help.is_some(), "{kind}: {}", e.message);
        assert!(e.message.contains(&dir.path().display().to_string()), "{kind}: {}", e.message);
    }
    let resolved = preflight("dataset.digits", "").unwrap();
    assert_eq!(resolved["test_fraction"], 0.25);
    assert!(preflight("dataset.synthetic", "").is_ok());
    assert!(preflight("split.forget", "class = 3").is_ok());
    let e = preflight("split.forget", "strategy = \"random\"\nclass = 3").unwrap_err();
    assert_eq!(e.message, "`class` is not used by strategy `random`");
    let e = preflight("split.forget", "strategy = \"class-count\"\nclass = 1").unwrap_err();
    assert_eq!(e.message, "strategy `class-count` needs `count` (at least 1)");
}

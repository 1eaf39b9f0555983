//! `features.margin` run in-process (through `Plugin::run`, as the host would, panics caught) on
//! a small seeded data set and a freshly initialised MLP: the column matches the margins computed
//! from the model's own predictions, and bad configs and inputs fail with messages that say why.

use tmu_example_margin::{Space, margin, tmu_plugin};
use tmu_nn::candle::Device;
use tmu_nn::{ArchName, ArchOptions, DeviceData, Network, NetworkSpec, predict};
use tmu_plugin::ArtifactKind;
use tmu_plugin::Inputs;
use tmu_plugin::artifact::{Dataset, Features};
use tmu_plugin::protocol::ErrorKind;
use tmu_test_support::{BlobsSpec, blobs, config, run_stage};

/// A data set, a model of it (seeded, untrained: some samples right, some wrong) and the folder
/// holding both files.
fn fixture() -> (tempfile::TempDir, Dataset, Network) {
    let dir = tempfile::tempdir().unwrap();
    let data = blobs(BlobsSpec { n: 30, classes: 3, ..Default::default() });
    let arch = ArchOptions::default().resolve(ArchName::Mlp).unwrap();
    let net = Network::new(NetworkSpec::for_dataset(arch, &data), &Device::Cpu, 7).unwrap();
    data.write(&dir.path().join("data.safetensors")).unwrap();
    net.save(&dir.path().join("model.safetensors")).unwrap();
    (dir, data, net)
}

fn inputs(dir: &std::path::Path) -> Inputs {
    Inputs::default().with("model", dir.join("model.safetensors"), ArtifactKind::Model).with(
        "data",
        dir.join("data.safetensors"),
        ArtifactKind::Dataset,
    )
}

#[test]
fn the_column_holds_each_samples_margin() {
    let (dir, data, net) = fixture();
    let p = predict(&net, &DeviceData::new(&data, &Device::Cpu).unwrap(), 7, false).unwrap();
    for (space, body) in [(Space::Logit, ""), (Space::Probability, "space = \"probability\"\nname = \"pm\"")] {
        // Batches of 7 do not divide 30: the last batch is short.
        let run =
            run_stage(tmu_plugin(), "features.margin", inputs(dir.path()), config(&format!("{body}\nbatch_size = 7")))
                .unwrap();
        let f = Features::read(&run.output("features")).unwrap();
        assert_eq!(f.names, [if space == Space::Logit { "margin" } else { "pm" }]);
        assert_eq!(f.ids, data.ids);
        for i in 0..data.len() {
            let expected = margin(p.logits_row(i), data.labels[i] as usize, space) as f32;
            assert!((f.values[i] - expected).abs() < 1e-5, "sample {i}: {} vs {expected}", f.values[i]);
        }
        let wrong = p.correct().iter().filter(|c| !**c).count();
        assert_eq!(run.response.summary["misclassified"], wrong);
        assert!(wrong > 0 && wrong < data.len(), "the untrained model should get some samples right and some wrong");
    }
}

#[test]
fn bad_configs_and_inputs_say_why() {
    let (dir, _, _) = fixture();
    // The schema refuses a misspelt key and an out-of-range value, in tests as in the host.
    let err = run_stage(tmu_plugin(), "features.margin", inputs(dir.path()), config("bacth_size = 8")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.causes[0].contains("'bacth_size' was unexpected"), "{err:?}");
    let err = run_stage(tmu_plugin(), "features.margin", inputs(dir.path()), config("batch_size = 0")).unwrap_err();
    assert!(err.causes[0].starts_with("/batch_size: 0 is less than the minimum of 1"), "{err:?}");
    // Preflight checks what the schema cannot say, before `run` is called.
    let err = run_stage(tmu_plugin(), "features.margin", inputs(dir.path()), config("name = \"a b\"")).unwrap_err();
    assert!(err.message.contains("is not a usable feature name"), "{err:?}");

    let other = blobs(BlobsSpec { n: 8, classes: 3, size: 4, ..Default::default() });
    other.write(&dir.path().join("data.safetensors")).unwrap();
    let err = run_stage(tmu_plugin(), "features.margin", inputs(dir.path()), config("")).unwrap_err();
    assert!(err.message.starts_with("input `data` (") && err.message.contains("does not fit the model"), "{err:?}");
    assert!(err.causes.iter().any(|c| c.contains("images are [1, 4, 4]")), "{err:?}");
}

#[test]
fn the_plugin_describes_its_stage_and_its_examples_parse() {
    let d = tmu_plugin().describe();
    assert_eq!(d.name, "tmu-example-margin");
    let s = &d.stages[0];
    assert_eq!(s.kind, "features.margin");
    assert_eq!(s.config_schema["properties"]["batch_size"]["maximum"], 65536);
    // The container-level `#[serde(default)]` puts `Default::default()`'s values in the schema.
    assert_eq!(s.config_schema["properties"]["batch_size"]["default"], 256);
    assert_eq!(s.config_schema["properties"]["space"]["default"], "logit");
    for e in &s.examples {
        let c: tmu_example_margin::MarginConfig = tmu_plugin::serde_json::from_value(config(&e.config_toml)).unwrap();
        assert!(<tmu_example_margin::MarginFeature as tmu_plugin::Stage>::preflight(&c).is_ok(), "{}", e.title);
    }
}

//! The plugin describes its three stages; every example config deserializes into its stage's
//! config, and an empty config gives the method's defaults.

use serde::de::DeserializeOwned;
use tmu_features::{AdversarialConfig, CurriculumConfig, DistanceConfig, Neighbours};
use tmu_plugin::Stage;
use tmu_test_support::config;

fn examples_parse<S: Stage>() -> usize {
    let configs = tmu_test_support::check_examples::<S>();
    for c in &configs {
        S::preflight(c).unwrap();
    }
    configs.len()
}

fn defaults<C: DeserializeOwned>() -> C {
    serde_json::from_value(config("")).unwrap()
}

#[test]
fn every_example_deserializes_and_passes_preflight() {
    assert!(examples_parse::<tmu_features::DistanceFeature>() >= 2);
    assert!(examples_parse::<tmu_features::AdversarialFeature>() >= 2);
    assert!(examples_parse::<tmu_features::CurriculumFeature>() >= 2);
}

#[test]
fn defaults_are_the_methods() {
    let d: DistanceConfig = defaults();
    assert_eq!((d.k, d.neighbours, d.normalise, d.name.as_str()), (5, Neighbours::SameClass, true, "df"));
    assert_eq!(d, DistanceConfig::default());
    let a: AdversarialConfig = defaults();
    assert_eq!(a, AdversarialConfig::default());
    let pgd = a.pgd();
    assert_eq!((pgd.epsilon, pgd.step, pgd.steps, a.random_start), (4.0 / 255.0, 4.0 / 255.0 / 3.0, 5, false));
    assert_eq!(a.name, "af");
    let c: CurriculumConfig = defaults();
    assert_eq!(c.name, "cf");
}

#[test]
fn the_plugin_lists_its_stages_with_schemas() {
    let d = tmu_features::tmu_plugin().describe();
    let kinds: Vec<&str> = d.stages.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(kinds, ["features.distance", "features.adversarial", "features.curriculum"]);
    let distance = &d.stages[0];
    let inputs: Vec<&str> = distance.inputs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(inputs, ["model", "data", "reference"]);
    let props = &distance.config_schema["properties"];
    assert_eq!(props["k"]["default"], 5);
    assert!(props["k"]["description"].as_str().unwrap().starts_with("Number of nearest reference samples"));
}

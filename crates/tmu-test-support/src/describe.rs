//! Checks of a plugin's self-description that every plugin wants: its examples are valid
//! configs and run, and its config schemas are closed, documented and defaulted.

use tmu_plugin::protocol::PluginDescription;
use tmu_plugin::{Inputs, Plugin, Stage};

use crate::{config, run_stage};

/// Asserts that stage `S` has at least one example and that every example's TOML deserializes
/// into `S::Config` (the examples are what `tmu describe` and docs/stages.md show users, so a
/// stale one misleads). Returns the parsed configs, in the examples' order.
pub fn check_examples<S: Stage>() -> Vec<S::Config> {
    let examples = S::examples();
    assert!(!examples.is_empty(), "{} has no examples", S::KIND);
    examples
        .iter()
        .map(|ex| {
            serde_json::from_value::<S::Config>(config(&ex.config_toml))
                .unwrap_or_else(|e| panic!("{}: example `{}` does not deserialize: {e}", S::KIND, ex.title))
        })
        .collect()
}

/// Runs every documented example of stage `kind` of `plugin` on `inputs` (small data the test
/// made) through the harness, as the host would, and panics naming the first example that fails:
/// an example a user copies must run, not only parse. Returns how many ran.
pub fn run_examples(plugin: &Plugin, kind: &str, inputs: &Inputs) -> usize {
    run_examples_except(plugin, kind, inputs, &[])
}

/// [`run_examples`] but for the examples titled in `too_costly` (hundreds of epochs of a large
/// network are not a unit test); each title must exist, so the list cannot go stale.
pub fn run_examples_except(plugin: &Plugin, kind: &str, inputs: &Inputs, too_costly: &[&str]) -> usize {
    let description = plugin.describe();
    let stage = description.stages.iter().find(|s| s.kind == kind).unwrap_or_else(|| panic!("no stage `{kind}`"));
    assert!(!stage.examples.is_empty(), "{kind} has no examples");
    for title in too_costly {
        assert!(stage.examples.iter().any(|e| e.title == *title), "{kind} has no example titled `{title}`");
    }
    let mut ran = 0;
    for ex in stage.examples.iter().filter(|e| !too_costly.contains(&e.title.as_str())) {
        ran += 1;
        if let Err(e) = run_stage(plugin, kind, inputs.clone(), config(&ex.config_toml)) {
            panic!("{kind}: example `{}` fails: {}", ex.title, e.chain_line());
        }
    }
    ran
}

/// Asserts that `plugin` describes exactly the stages `kinds`, in that order, and that every
/// stage's config schema is closed to unknown fields (`additionalProperties: false`, so a typo
/// is an error with its line and column) and gives every field a description and a default.
/// Returns the description for the caller's own checks.
pub fn check_stage_configs(plugin: &Plugin, kinds: &[&str]) -> PluginDescription {
    let d = plugin.describe();
    let described: Vec<&str> = d.stages.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(described, kinds, "the stages plugin `{}` describes", d.name);
    for s in &d.stages {
        let schema = &s.config_schema;
        assert_eq!(schema["additionalProperties"], false, "{}: the config accepts unknown fields", s.kind);
        let props = schema["properties"].as_object();
        for (name, p) in props.into_iter().flatten() {
            let doc = p["description"].as_str().unwrap_or_default();
            assert!(!doc.is_empty(), "{}: field `{name}` has no description", s.kind);
            assert!(p.get("default").is_some(), "{}: field `{name}` has no default", s.kind);
        }
    }
    d
}

//! The JSON Schema of the pipeline format: a snapshot for the test catalog, every valid test
//! pipeline satisfies it, and the mistakes a schema can see are caught by it.

use std::path::Path;

use expect_test::expect_file;
use tmu_core::{Catalog, pipeline_schema};

fn test_data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

fn schema() -> serde_json::Value {
    let json = std::fs::read_to_string(test_data("catalog.json")).expect("reading catalog.json");
    pipeline_schema(&Catalog::from_json(&json).expect("a valid catalog"))
}

fn validator() -> jsonschema::Validator {
    jsonschema::options().build(&schema()).expect("the pipeline schema compiles")
}

/// A pipeline file as the JSON an editor checks against the schema.
fn as_json(toml_text: &str) -> serde_json::Value {
    toml::from_str(toml_text).expect("valid toml")
}

#[test]
fn schema_snapshot() {
    let text = serde_json::to_string_pretty(&schema()).expect("serialisable") + "\n";
    expect_file![test_data("pipeline.schema.json")].assert_eq(&text);
}

#[test]
fn valid_pipelines_satisfy_the_schema() {
    let v = validator();
    for entry in std::fs::read_dir(test_data("valid")).expect("reading test_data/valid") {
        let path = entry.expect("an entry").path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let doc = as_json(&std::fs::read_to_string(&path).expect("reading a pipeline"));
        let errors: Vec<String> = v.iter_errors(&doc).map(|e| format!("{}: {e}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", path.display());
    }
}

#[test]
fn schema_catches_what_it_can() {
    let v = validator();
    let base = "format = 1\n[stages.data]\nkind = \"dataset.digits\"\n";
    let ok = |extra: &str| v.is_valid(&as_json(&format!("{base}{extra}")));
    assert!(ok(""));
    assert!(ok(
        "[stages.split]\nkind = \"split.forget\"\ninputs = { data = \"data.train\" }\nconfig = { strategy = \"random\" }\n"
    ));
    let rejected = [
        ("unknown top-level key", "sweep = 1\n"),
        ("unknown kind", "[stages.x]\nkind = \"split.forgot\"\n"),
        ("bad stage name", "[stages.Bad]\nkind = \"dataset.digits\"\n"),
        ("unknown stage key", "[stages.x]\nkind = \"dataset.digits\"\nknd = 1\n"),
        ("missing required input", "[stages.x]\nkind = \"split.forget\"\nconfig = { strategy = \"random\" }\n"),
        (
            "unknown input port",
            "[stages.x]\nkind = \"split.forget\"\ninputs = { data = \"data.train\", dat = \"data.test\" }\nconfig = { strategy = \"random\" }\n",
        ),
        (
            "list given to a one port",
            "[stages.x]\nkind = \"split.forget\"\ninputs = { data = [\"data.train\"] }\nconfig = { strategy = \"random\" }\n",
        ),
        (
            "malformed reference",
            "[stages.x]\nkind = \"split.forget\"\ninputs = { data = \"data\" }\nconfig = { strategy = \"random\" }\n",
        ),
        ("config: missing field", "[stages.x]\nkind = \"split.forget\"\ninputs = { data = \"data.train\" }\n"),
        ("config: unknown field", "[stages.x]\nkind = \"dataset.digits\"\nconfig = { limt = 3 }\n"),
        ("config: out of range", "[stages.x]\nkind = \"dataset.digits\"\nconfig = { limit = 0 }\n"),
        (
            "config: nested $ref",
            "[stages.x]\nkind = \"train.classifier\"\ninputs = { data = \"data.train\" }\nconfig = { arch = \"resnet18\", optimizer = { decay = 1 } }\n",
        ),
        ("invalid device", "device = \"gpu\"\n"),
    ];
    for (what, extra) in rejected {
        assert!(!ok(extra), "the schema accepted a pipeline with: {what}");
    }
    assert!(!v.is_valid(&as_json("[stages.data]\nkind = \"dataset.digits\"\n")), "missing format accepted");
}

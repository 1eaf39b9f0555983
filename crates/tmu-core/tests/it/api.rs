//! The API the host builds on: plugin paths before validation, plan fields and slicing,
//! diagnostic codes and positions, catalogs.

use std::path::{Path, PathBuf};

use tmu_core::{Catalog, Code, Plan, PortBinding, load, parse, validate};
use tmu_plugin::{ArtifactKind, DeviceSpec, derive_seed};

fn catalog() -> Catalog {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/catalog.json");
    Catalog::from_json(&std::fs::read_to_string(path).expect("reading catalog.json")).expect("a valid catalog")
}

fn quickstart() -> (String, Plan) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/valid/quickstart.toml");
    let text = std::fs::read_to_string(path).expect("reading quickstart.toml");
    let plan = load(Path::new("pipelines/quickstart.toml"), &text, &catalog()).expect("quickstart plans");
    (text, plan)
}

fn names(plan: &Plan, indices: &[usize]) -> Vec<String> {
    indices.iter().map(|&i| plan.stages[i].name.clone()).collect()
}

#[test]
fn plugin_paths_are_known_before_validation() {
    // Even with an unknown kind (its plugin is not loaded yet) the paths are there.
    let text =
        "format = 1\n[plugins]\npaths = [\"../target/release\", \"/abs/lib.so\"]\n[stages.x]\nkind = \"no.such\"\n";
    let raw = parse(Path::new("pipelines/p.toml"), text).expect("parses");
    assert_eq!(raw.plugin_paths(), vec![PathBuf::from("pipelines/../target/release"), PathBuf::from("/abs/lib.so")]);
    assert_eq!(raw.name(), "p");
    let err = validate(&raw, &catalog()).expect_err("unknown kind");
    assert_eq!(err.iter().map(|d| d.code).collect::<Vec<_>>(), vec![Code::UnknownKind]);
}

#[test]
fn plan_holds_resolved_stages() {
    let (_, plan) = quickstart();
    assert_eq!(plan.name, "quickstart");
    assert_eq!(plan.source, PathBuf::from("pipelines/quickstart.toml"));
    assert_eq!(plan.device, DeviceSpec::Auto);
    assert_eq!(plan.plugin_paths[0], PathBuf::from("pipelines/../target/release"));
    let eval = plan.stage("eval").expect("eval is planned");
    assert_eq!(eval.seed, derive_seed(0, "eval"));
    assert_eq!(eval.kind, "eval.unlearning");
    // Inputs follow the description's port order, not the file's.
    let ports: Vec<&str> = eval.inputs.iter().map(|i| i.port.as_str()).collect();
    assert_eq!(ports, ["models", "gold", "retain", "forget", "test", "extra"]);
    match &eval.inputs[0].binding {
        PortBinding::Map(m) => {
            assert_eq!(m.keys().collect::<Vec<_>>(), ["tmu", "original"]);
            assert_eq!(m["tmu"].to_string(), "unlearn.model");
        }
        other => panic!("models should be a map, got {other:?}"),
    }
    assert_eq!(eval.inputs[5].kind, ArtifactKind::Features);
    // Every dependency comes earlier in the plan.
    for (i, s) in plan.stages.iter().enumerate() {
        assert!(s.dependencies.iter().all(|&d| d < i), "{} depends on a later stage", s.name);
    }
    assert_eq!(names(&plan, &eval.dependencies), ["data", "split", "original", "gold", "df", "unlearn"]);
    assert_eq!(plan.stage("data").expect("data").config, serde_json::json!({}));
}

#[test]
fn slices_of_the_dag() {
    let (_, plan) = quickstart();
    let i = |n: &str| plan.index_of(n).expect("a stage");
    assert_eq!(names(&plan, &plan.dependants(i("original"))), ["df", "unlearn", "eval"]);
    assert_eq!(names(&plan, &plan.ancestors(i("df"))), ["data", "split", "original", "df"]);
    assert_eq!(names(&plan, &plan.descendants(i("gold"))), ["gold", "eval", "tables"]);
    assert_eq!(
        names(&plan, &plan.slice(&["original"], &[]).expect("known")),
        ["original", "df", "unlearn", "eval", "tables"]
    );
    assert_eq!(names(&plan, &plan.slice(&[], &["df"]).expect("known")), ["data", "split", "original", "df"]);
    assert_eq!(names(&plan, &plan.slice(&["original"], &["unlearn"]).expect("known")), ["original", "df", "unlearn"]);
    assert_eq!(plan.slice(&[], &[]).expect("all").len(), plan.stages.len());
    let err = plan.slice(&["orignal"], &[]).expect_err("unknown stage");
    assert_eq!(err.to_string(), "pipeline `quickstart` has no stage `orignal`: did you mean `original`?");
}

#[test]
fn diagnostics_carry_codes_and_positions() {
    let text = "format = 1\n[stages.a]\nkind = \"dataset.digits\"\n[stages.b]\nkind = \"split.forget\"\ninputs = { data = \"a.model\" }\nconfig = { strategy = \"random\" }\n";
    let err = load(Path::new("p.toml"), text, &catalog()).expect_err("a has no model output");
    let found: Vec<(Code, String)> =
        err.iter().map(|d| (d.code, err.line_col(d).expect("has a span").to_string())).collect();
    assert_eq!(found, vec![(Code::UnknownOutput, "6:19".to_string())]);
    assert!(err.to_string().starts_with("error: stage `a` (`dataset.digits`) has no output `model`"));
}

#[test]
fn syntax_errors_stop_at_parse() {
    let err = parse(Path::new("p.toml"), "format = 1\n[stages\n").expect_err("bad toml");
    assert!(err.iter().all(|d| d.code == Code::Syntax));
    assert_eq!(err.line_col(&err.items()[0]).map(|lc| lc.line), Some(2));
}

#[test]
fn catalogs_refuse_duplicate_kinds() {
    let mut stages: Vec<_> = catalog().iter().cloned().collect();
    stages.push(stages[0].clone());
    let err = Catalog::new(stages).expect_err("duplicate");
    assert_eq!(err.to_string(), "stage kind `dataset.digits` is described twice");
}

#[test]
fn colour_is_opt_in() {
    let err =
        load(Path::new("p.toml"), "format = 1\n[stages.a]\nkind = \"x.y\"\n", &catalog()).expect_err("unknown kind");
    assert!(!err.render(tmu_core::RenderStyle::Plain).contains('\x1b'));
    assert!(err.render(tmu_core::RenderStyle::Color).contains("\x1b["));
    assert_eq!(err.to_string(), err.render(tmu_core::RenderStyle::Plain).trim_end());
}

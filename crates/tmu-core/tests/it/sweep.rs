//! Sweep expansion through the public API: which stages are per point and which are shared,
//! instance names and configs, seeds derived from the base name, gathered maps, run order,
//! selection by name, and files without a sweep left exactly as they were.

use std::path::Path;

use serde_json::json;
use tmu_core::{Catalog, Plan, PortBinding, load};
use tmu_plugin::derive_seed;

fn catalog() -> Catalog {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/catalog.json");
    Catalog::from_json(&std::fs::read_to_string(path).expect("reading catalog.json")).expect("a valid catalog")
}

fn plan_of(file: &str) -> Plan {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data/valid").join(file);
    let text = std::fs::read_to_string(&path).expect("reading a test pipeline");
    load(&path, &text, &catalog()).unwrap_or_else(|d| panic!("{file} should plan:\n{d}"))
}

fn names(plan: &Plan, indices: &[usize]) -> Vec<String> {
    indices.iter().map(|&i| plan.stages[i].name.clone()).collect()
}

fn stage<'p>(plan: &'p Plan, name: &str) -> &'p tmu_core::PlannedStage {
    plan.stage(name).unwrap_or_else(|| panic!("no instance `{name}`"))
}

#[test]
fn stages_are_per_point_or_shared_by_the_axes_they_depend_on() {
    let plan = plan_of("sweep.toml");
    let sweep = plan.sweep.as_ref().expect("a sweep");
    let labels: Vec<&str> = sweep.points.iter().map(|p| p.label.as_str()).collect();
    assert_eq!(
        labels,
        ["seed=0,forget_class=3", "seed=0,forget_class=8", "seed=1,forget_class=3", "seed=1,forget_class=8"]
    );
    // A source depends on the seed only; what reads the split depends on both axes; the stage
    // that gathers depends on none.
    assert_eq!(names(&plan, &plan.instances_of("data")), ["seed=0/data", "seed=1/data"]);
    assert_eq!(plan.instances_of("split").len(), 4);
    assert_eq!(plan.instances_of("eval").len(), 4);
    assert_eq!(names(&plan, &plan.instances_of("report")), ["report"]);
    let report = stage(&plan, "report");
    assert_eq!(report.point, None);
    assert_eq!(report.base, "report");
    let data = stage(&plan, "seed=1/data");
    assert_eq!(data.point.as_ref().map(|p| p.values.clone()), Some(vec![("seed".to_string(), json!(1))]));
    // The axis value is in the config; the rest of the config is as written.
    let split = stage(&plan, "seed=1,forget_class=8/split");
    assert_eq!(split.config, json!({ "strategy": "class-fraction", "class": 8, "fraction": 0.1 }));
    // An instance reads its producers at its own point (restricted to their axes).
    let eval = stage(&plan, "seed=1,forget_class=8/eval");
    let refs: Vec<String> = eval.inputs.iter().flat_map(|i| i.binding.items()).map(|r| r.to_string()).collect();
    assert!(refs.contains(&"seed=1/data.test".to_string()), "{refs:?}");
    assert!(refs.contains(&"seed=1,forget_class=8/gold.model".to_string()), "{refs:?}");
}

#[test]
fn seeds_derive_from_the_point_seed_and_the_base_name() {
    let plan = plan_of("sweep.toml");
    for s in &plan.stages {
        let pipeline_seed = s.point.as_ref().and_then(|p| p.get("seed")).and_then(|v| v.as_u64()).unwrap_or(5);
        assert_eq!(s.seed, derive_seed(pipeline_seed, &s.base), "{}", s.name);
    }
    // Identical work at two points has identical seeds and configs, so identical cache keys
    // whenever its inputs agree: the original model of one seed for both forget classes.
    let a = stage(&plan, "seed=0,forget_class=3/original");
    let b = stage(&plan, "seed=0,forget_class=8/original");
    assert_eq!((a.seed, &a.config), (b.seed, &b.config));
    assert_ne!(a.seed, stage(&plan, "seed=1,forget_class=3/original").seed);
    // The shared stage takes the file's seed.
    assert_eq!(stage(&plan, "report").seed, derive_seed(5, "report"));

    // Without a seed axis every instance of a stage has the same seed.
    let nested = plan_of("sweep_nested.toml");
    let seeds: Vec<u64> = nested.instances_of("original").iter().map(|&i| nested.stages[i].seed).collect();
    assert_eq!(seeds, vec![derive_seed(0, "original"); 4]);
}

#[test]
fn a_single_reference_on_a_map_port_gathers_over_the_points() {
    let plan = plan_of("sweep.toml");
    let metrics = &stage(&plan, "report").inputs[0];
    assert!(metrics.gathered);
    let PortBinding::Map(m) = &metrics.binding else { panic!("a gathered input is a map: {:?}", metrics.binding) };
    let entries: Vec<(String, String)> = m.iter().map(|(k, r)| (k.clone(), r.to_string())).collect();
    assert_eq!(entries[0], ("seed=0,forget_class=3".to_string(), "seed=0,forget_class=3/eval.metrics".to_string()));
    assert_eq!(entries.len(), 4);
    // Ordinary inputs do not gather.
    assert!(stage(&plan, "seed=0,forget_class=3/eval").inputs.iter().all(|i| !i.gathered));

    // A gathering stage bound to an axis has one instance per value, each gathering over the
    // points of the other axes.
    let nested = plan_of("sweep_nested.toml");
    let reports = nested.instances_of("report");
    assert_eq!(names(&nested, &reports), ["reference=original/report", "reference=gold%20model/report"]);
    let PortBinding::Map(m) = &nested.stages[reports[1]].inputs[0].binding else { panic!("a map") };
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        ["limit=100,momentum=0.0", "limit=100,momentum=0.9", "limit=200,momentum=0.0", "limit=200,momentum=0.9"]
    );
    assert_eq!(nested.stages[reports[1]].config, json!({ "reference": "gold model" }));
    // A nested binding lands inside its table.
    let original = stage(&nested, "limit=200,momentum=0.9/original");
    assert_eq!(original.config["optimizer"], json!({ "weight_decay": 5e-4, "momentum": 0.9 }));
}

#[test]
fn instances_run_point_by_point_after_what_they_read() {
    let plan = plan_of("sweep.toml");
    let first: Vec<String> = plan.stages[..5].iter().map(|s| s.name.clone()).collect();
    assert_eq!(
        first,
        [
            "seed=0/data",
            "seed=0,forget_class=3/split",
            "seed=0,forget_class=3/original",
            "seed=0,forget_class=3/gold",
            "seed=0,forget_class=3/eval"
        ]
    );
    assert_eq!(plan.stages.last().map(|s| s.name.as_str()), Some("report"));
    for (i, s) in plan.stages.iter().enumerate() {
        assert!(s.dependencies.windows(2).all(|w| w[0] < w[1]), "{} dependencies unsorted", s.name);
        assert!(s.dependencies.iter().all(|&d| d < i), "{} depends on a later stage", s.name);
    }
    assert_eq!(stage(&plan, "report").dependencies.len(), 4);
}

#[test]
fn names_select_one_instance_or_all_of_a_stage() {
    let plan = plan_of("sweep.toml");
    assert_eq!(plan.select("split").expect("known").len(), 4);
    assert_eq!(
        names(&plan, &plan.select("seed=0,forget_class=8/split").expect("known")),
        ["seed=0,forget_class=8/split"]
    );
    let err = plan.select("splt").expect_err("unknown");
    assert_eq!(err.to_string(), "pipeline `sweep` has no stage `splt`: did you mean `split`?");
    // --from a stage takes every instance and what depends on them.
    let from = names(&plan, &plan.slice(&["gold"], &[]).expect("known"));
    assert_eq!(from.len(), 4 + 4 + 1, "{from:?}");
    // The points an instance belongs to.
    let data = plan.index_of("seed=1/data").expect("an instance");
    assert_eq!(plan.points_of(data), [2, 3]);
    assert!(plan.points_of(plan.index_of("report").expect("shared")).is_empty());
}

#[test]
fn a_file_without_a_sweep_has_one_instance_per_stage() {
    let plan = plan_of("quickstart.toml");
    assert_eq!(plan.sweep, None);
    for s in &plan.stages {
        assert_eq!(s.name, s.base);
        assert_eq!(s.point, None);
        assert!(s.inputs.iter().all(|i| !i.gathered));
        assert_eq!(s.seed, derive_seed(0, &s.name));
    }
}

#[test]
fn a_table_binding_sets_each_field_to_its_own_value_at_each_axis_value() {
    let plan = plan_of("sweep_settings.toml");
    let sweep = plan.sweep.as_ref().expect("a sweep");
    let setting = &sweep.axes[1];
    assert_eq!(setting.bind[0].values, Some(vec![json!(0.0), json!(0.9)]));
    assert_eq!(setting.bind[1].to_string(), "gold.config.epochs = [3, 30]");
    let original = stage(&plan, "seed=1,setting=b/original");
    assert_eq!(original.config["optimizer"], json!({ "weight_decay": 5e-4, "momentum": 0.9 }));
    assert_eq!(stage(&plan, "seed=1,setting=a/gold").config, json!({ "arch": "small-cnn", "epochs": 3 }));
    assert_eq!(stage(&plan, "seed=1,setting=b/gold").config, json!({ "arch": "small-cnn", "epochs": 30 }));
    // Both bound stages and what reads them repeat per setting; the data set does not.
    assert_eq!(plan.instances_of("eval").len(), 4);
    assert_eq!(plan.instances_of("data").len(), 2);
    let PortBinding::Map(m) = &stage(&plan, "report").inputs[0].binding else { panic!("a map") };
    assert_eq!(m.len(), 4);
}

//! `report.sweep` and `features.join` on small synthetic inputs: the long CSV, mean and std,
//! paired comparisons (their p-values and intervals are SciPy's and NumPy's, as stored in
//! tmu-stats' `tests/reference/cluster_reference.json`, cases `five_seeds_one_point` and
//! `three_seeds`), over seeds and over points, the plots written and not blank, and what happens
//! without optional inputs.

use std::path::{Path, PathBuf};

use serde_json::json;
use tmu_plugin::artifact::{Features, Labels, write_metrics};
use tmu_plugin::{ArtifactKind, ArtifactRef, Binding, Inputs};
use tmu_test_support::{config, run_stage};

/// A sweep's points with the Delta of `tmu` and `finetune` at each.
struct Table {
    labels: Vec<String>,
    tmu: Vec<f64>,
    finetune: Vec<f64>,
}

/// Five points: seeds 0..4, fraction 0.1 for even seeds and 0.3 for odd ones; the Deltas of the
/// reference's case `five_seeds_one_point`.
fn five_seeds() -> Table {
    Table {
        labels: (0..5).map(|s| format!("seed={s},fraction={}", if s % 2 == 0 { "0.1" } else { "0.3" })).collect(),
        tmu: vec![1.0, 2.5, 3.0, 4.0, 0.5],
        finetune: vec![2.0, 2.0, 4.5, 6.0, 1.0],
    }
}

/// Nine points: seeds 0..2 x fractions 0.1, 0.3, 0.5; the Deltas of the reference's case
/// `three_seeds` (seed-major).
fn three_seeds() -> Table {
    let labels =
        (0..3).flat_map(|s| ["0.1", "0.3", "0.5"].map(|f| format!("seed={s},fraction={f}"))).collect::<Vec<_>>();
    Table {
        labels,
        tmu: vec![3.45, 6.90, 0.0, 10.34, 3.45, 6.90, 3.45, 0.0, 13.79],
        finetune: vec![13.79, 6.90, 3.45, 13.79, 10.34, 3.45, 17.24, 6.90, 10.34],
    }
}

fn record(delta: f64, distance: f64) -> serde_json::Value {
    json!({
        "acc": { "retain": 0.99, "forget": 0.9, "test": 0.97, "forget_easy": 0.95, "forget_hard": null },
        "delta": delta,
        "activation_distance": distance,
        "mia": { "0.1": { "threshold": 0.01, "rate": 0.2, "gold_rate": 0.1, "gap": 0.1 } },
        "agreement": 0.9,
        "wall_seconds": 1.5,
        "cost_ratio": 0.5
    })
}

fn eval_metrics(t: &Table, p: usize) -> serde_json::Value {
    // Only TMU forgets with predicted labels: only its record has `predictor`.
    let mut tmu = record(t.tmu[p], 0.1 * p as f64);
    tmu["predictor"] = json!({ "hard_recall": 0.5, "auc": 0.9 });
    json!({
        "schema": "tmu.eval.unlearning/1",
        "forget": { "n": 10 + p, "classes": [3], "class_names": ["3"], "predicted_easy": 9, "predicted_hard": 1 },
        "gold": record(0.0, 0.0),
        "original": record(10.0, 0.5),
        "models": { "tmu": tmu, "finetune": record(t.finetune[p], 0.2) },
        "best": { "delta": ["tmu"], "activation_distance": ["tmu"] }
    })
}

fn predictor_metrics(p: usize) -> serde_json::Value {
    json!({
        "n": 10,
        "features": ["df", "af"],
        "predicted": { "easy": 9, "hard": 1, "hard_rate": 0.1 },
        "preprocessing": { "df": { "lo": 0.0, "hi": 1.0 } },
        "truth": { "auc": 0.8 + 0.02 * p as f64, "accuracy": 0.9, "hard_precision": null,
                   "confusion": { "tp": 1 }, "feature_auc": { "df": 0.7, "af": 0.6 } }
    })
}

fn one(path: PathBuf, kind: ArtifactKind, source: &str) -> ArtifactRef {
    ArtifactRef { path, kind, source: source.to_string() }
}

/// Writes every point's artifacts into `dir` and binds them; `full`: also the optional ports.
pub(crate) fn inputs(dir: &Path, full: bool) -> Inputs {
    inputs_of(dir, &five_seeds(), full)
}

/// The same for the points of `t`.
fn inputs_of(dir: &Path, t: &Table, full: bool) -> Inputs {
    let mut maps: Vec<(&str, ArtifactKind, indexmap::IndexMap<String, ArtifactRef>)> = vec![
        ("metrics", ArtifactKind::Metrics, Default::default()),
        ("predictor", ArtifactKind::Metrics, Default::default()),
        ("twin_features", ArtifactKind::Features, Default::default()),
        ("twin_labels", ArtifactKind::Labels, Default::default()),
        ("forget_features", ArtifactKind::Features, Default::default()),
        ("forget_labels", ArtifactKind::Labels, Default::default()),
    ];
    for (p, label) in t.labels.iter().enumerate() {
        let at = |name: &str| dir.join(format!("p{p}-{name}"));
        write_metrics(&at("eval.json"), &eval_metrics(t, p)).unwrap();
        write_metrics(&at("pred.json"), &predictor_metrics(p)).unwrap();
        // Six samples, two features; ids listed in a different order in the labels.
        let ids: Vec<u64> = (0..6).map(|i| 100 + i).collect();
        let values: Vec<f32> = (0..12).map(|i| (i * (p + 1)) as f32 * 0.1).collect();
        let features = Features::new(values, ids.clone(), vec!["df".into(), "af".into()]).unwrap();
        features.write(&at("twin.safetensors")).unwrap();
        features.write(&at("forget.safetensors")).unwrap();
        let easy = [true, false, true, true, false, true];
        let reversed: Vec<u64> = ids.iter().rev().copied().collect();
        let easy_rev: Vec<bool> = easy.iter().rev().copied().collect();
        Labels::easy_hard(&easy_rev, reversed).unwrap().write(&at("labels.safetensors")).unwrap();
        let files = [
            "eval.json",
            "pred.json",
            "twin.safetensors",
            "labels.safetensors",
            "forget.safetensors",
            "labels.safetensors",
        ];
        for ((_, kind, map), file) in maps.iter_mut().zip(files) {
            map.insert(label.clone(), one(at(file), *kind, &format!("{label}/x.y")));
        }
    }
    let mut inputs = Inputs::default();
    for (port, _, map) in maps {
        if full || port == "metrics" {
            inputs.insert(port, Binding::Map(map));
        }
    }
    inputs
}

#[test]
fn the_report_writes_long_rows_tables_paired_comparisons_and_plots() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_stage(tmu_report::tmu_plugin(), "report.sweep", inputs(dir.path(), true), config("")).unwrap();
    let table = run.output("table");

    // The long CSV: axes as columns, one row per point x method x metric.
    let csv = std::fs::read_to_string(table.join("sweep.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("point,seed,fraction,method,metric,value"));
    assert!(csv.contains("\"seed=1,fraction=0.3\",1,0.3,tmu,delta,2.5\n"), "{csv}");
    assert!(csv.contains("\"seed=4,fraction=0.1\",4,0.1,predictor,truth.feature_auc.af,0.6\n"), "{csv}");
    assert!(csv.contains("\"seed=0,fraction=0.1\",0,0.1,tmu,acc.forget_hard,\n"), "null is an empty value");
    assert!(csv.contains("\"seed=2,fraction=0.1\",2,0.1,point,forget.n,12\n"), "{csv}");
    assert!(!csv.contains("preprocessing") && !csv.contains("confusion"));
    assert!(csv.contains("\"seed=0,fraction=0.1\",0,0.1,tmu,predictor.hard_recall,0.5\n"), "{csv}");
    // Per record 14 numeric-or-null leaves (5 acc, delta, distance, 4 under mia.0.1, agreement,
    // wall, cost), and tmu's 2 under `predictor`; 4 records; 3 point facts; 9 predictor leaves
    // (n, 3 predicted, auc, accuracy, hard_precision, 2 feature AUCs).
    let per_point = 4 * 14 + 2 + 3 + 9;
    assert_eq!(csv.lines().count(), 1 + 5 * per_point);

    // Mean ± std per method (tmu's Delta: mean 2.2, sample std sqrt(8.3 / 4) = 1.4405).
    let md = std::fs::read_to_string(run.output("report")).unwrap();
    assert!(md.contains("| `tmu` | 5 | 2.20 ± 1.44 |"), "{md}");
    assert!(md.contains("| `gold` | 5 | 0.00 ± 0.00 |"), "{md}");
    // Delta by fraction: tmu at 0.1 is seeds 0, 2, 4 -> 1.0, 3.0, 0.5.
    assert!(md.contains("### Δ (pp) by `fraction`"), "{md}");
    assert!(md.contains("| `tmu` | 1.50 ± 1.32 | 3.25 ± 1.06 |"), "{md}");

    // Paired: tmu against finetune on Delta; five seeds of one point each, so the seed unit is the
    // point: p-values as SciPy 1.17.1 computed them for these values (binomtest(4, 5), ttest_rel
    // and wilcoxon, normal approximation: |differences| tie), the interval as NumPy enumerated
    // the 3125 ordered draws of 5 seeds.
    let (sign_p, t_p, wilcoxon_p) = (0.375, 0.10453999977837544, 0.10405923452892792);
    let row = format!(
        "| `finetune` | 5 seeds | 4 / 0 / 1 | -0.90 [-1.60, -0.10] | {sign_p:.4} | {t_p:.4} | {wilcoxon_p:.4} |"
    );
    assert!(md.contains(&row), "{row}\n{md}");
    assert!(md.contains("| `original` | 5 seeds | 5 / 0 / 0 |"), "{md}");
    assert!(
        md.contains("**The unit of the tests is the `seed`**") && md.contains("5 independent units (5 points)"),
        "{md}"
    );
    assert!(!md.contains("With only"), "five seeds need no warning about the interval: {md}");
    let paired = std::fs::read_to_string(table.join("paired.csv")).unwrap();
    assert_eq!(paired.lines().count(), 1 + 2 * 2, "{paired}");
    assert!(
        paired.starts_with(
            "metric,reference,method,unit,units,points,clusters,wins,ties,losses,mean_diff,ci_level,ci_low,ci_high,\
             unit_mean_diff,unit_std_diff,sign_p,t,t_p,wilcoxon_w,wilcoxon_p\n\
             delta,tmu,finetune,seed,5,5,5,4,0,1,-0.9,0.95,-1.6,-0.1,-0.9,"
        ),
        "{paired}"
    );
    // The predictor section: AUC 0.8 .. 0.88, mean 0.84.
    assert!(md.contains("| `truth.auc` | 5 | 0.8400 ± 0.0316 |"), "{md}");

    // Every plot in both formats, not blank.
    for stem in ["methods", "alignment_vs_size", "predictor_auc", "features_scatter"] {
        let png = table.join(format!("{stem}.png"));
        let img = image::open(&png).unwrap_or_else(|e| panic!("{}: {e}", png.display())).to_rgb8();
        let dark = img.pixels().filter(|p| p.0.iter().all(|&c| c < 100)).count();
        assert!(dark > 500, "{stem}.png has {dark} dark pixels: no text or axes?");
        let coloured = img.pixels().filter(|p| p.0[0].abs_diff(p.0[2]) > 60).count();
        assert!(coloured > 50, "{stem}.png has no coloured marks");
        let svg = std::fs::read_to_string(table.join(format!("{stem}.svg"))).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<text") && svg.len() > 2000, "{stem}.svg");
        assert!(md.contains(&format!("- `{stem}.png`")), "{md}");
    }
    let methods_svg = std::fs::read_to_string(table.join("methods.svg")).unwrap();
    let label = |m: &str| methods_svg.contains(&format!(">\n{m}\n</text>"));
    assert!(label("tmu") && label("finetune") && label("original") && !label("gold"), "{methods_svg}");
    assert_eq!(run.response.summary["points"], 5);
}

#[test]
fn points_that_share_a_seed_are_one_unit_unless_asked_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let table = three_seeds();
    let run = |config_text: &str| {
        let run = run_stage(
            tmu_report::tmu_plugin(),
            "report.sweep",
            inputs_of(dir.path(), &table, false),
            config(config_text),
        )
        .unwrap();
        std::fs::read_to_string(run.output("report")).unwrap()
    };
    // The seed unit (the default): three pairs of seed means. SciPy on the seed means:
    // binomtest(3, 3) = 0.25, ttest_rel p = 0.05334843227508914, exact Wilcoxon 0.25; the interval
    // from NumPy's enumeration of the 27 draws of 3 seeds: [-5.4975, -2.795].
    let md = run("");
    let row = "| `finetune` | 3 seeds | 3 / 0 / 0 | -4.21 [-5.50, -2.80] | 0.2500 | 0.0533 | 0.2500 |";
    assert!(md.contains(row), "{row}\n{md}");
    assert!(md.contains("3 independent units (9 points)"), "{md}");
    assert!(md.contains("enumerated exactly over all 27 ordered draws of 3 seeds"), "{md}");
    assert!(md.contains("smallest two-sided p a sign or Wilcoxon test can give is 0.2500"), "{md}");
    assert!(md.contains("With only 3 `seed` values the bootstrap interval spans about the range"), "{md}");
    // The point unit: nine pairs (one tie), SciPy's point tests; the same interval, which
    // resamples seeds whatever the unit; the report says these p-values are too small.
    let md = run("unit = \"point\"");
    let row = "| `finetune` | 9 points | 6 / 1 / 2 | -4.21 [-5.50, -2.80] | 0.2891 | 0.0651 | 0.0680 |";
    assert!(md.contains(row), "{row}\n{md}");
    assert!(md.contains("only 3 independent units and these p-values are too small"), "{md}");
}

#[test]
fn without_optional_inputs_or_the_reference_the_report_says_less() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_stage(
        tmu_report::tmu_plugin(),
        "report.sweep",
        inputs(dir.path(), false),
        config("reference = \"nosuch\"\npanel_width = 300\nheight = 240"),
    )
    .unwrap();
    let md = std::fs::read_to_string(run.output("report")).unwrap();
    assert!(md.contains("No method `nosuch`: no paired comparisons."), "{md}");
    assert!(!md.contains("generalization-label predictor"), "{md}");
    let table = run.output("table");
    assert!(table.join("methods.png").is_file());
    assert_eq!(image::image_dimensions(table.join("methods.png")).unwrap(), (600, 240));
    assert!(!table.join("predictor_auc.png").exists());
    assert!(!table.join("features_scatter.png").exists());
}

#[test]
fn a_metric_only_some_methods_measured_is_compared_among_those() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = "compare = [\"delta\", \"predictor.auc\"]\ntable = [\"delta\", \"predictor.auc\"]";
    let run =
        run_stage(tmu_report::tmu_plugin(), "report.sweep", inputs_of(dir.path(), &three_seeds(), false), config(cfg))
            .unwrap();
    let csv = std::fs::read_to_string(run.output("table").join("paired.csv")).unwrap();
    assert!(csv.contains("delta") && !csv.contains("predictor.auc"), "{csv}");
}

#[test]
fn features_join_puts_columns_side_by_side_by_sample_id() {
    let dir = tempfile::tempdir().unwrap();
    let a = Features::new(vec![1.0, 2.0, 3.0], vec![7, 8, 9], vec!["df".into()]).unwrap();
    let b = Features::new(vec![30.0, 10.0, 20.0], vec![9, 7, 8], vec!["af".into()]).unwrap();
    a.write(&dir.path().join("a.safetensors")).unwrap();
    b.write(&dir.path().join("b.safetensors")).unwrap();
    let mut inputs = Inputs::default();
    inputs.insert(
        "features",
        Binding::List(vec![
            one(dir.path().join("a.safetensors"), ArtifactKind::Features, "a.features"),
            one(dir.path().join("b.safetensors"), ArtifactKind::Features, "b.features"),
        ]),
    );
    let run = run_stage(tmu_report::tmu_plugin(), "features.join", inputs, config("")).unwrap();
    let joined = Features::read(&run.output("features")).unwrap();
    assert_eq!(joined.names, ["df", "af"]);
    assert_eq!(joined.ids, [7, 8, 9]);
    assert_eq!(joined.values, [1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);

    // Different samples: an error that says which id is missing.
    let c = Features::new(vec![1.0, 2.0, 3.0], vec![7, 8, 10], vec!["cf".into()]).unwrap();
    c.write(&dir.path().join("c.safetensors")).unwrap();
    let mut inputs = Inputs::default();
    inputs.insert(
        "features",
        Binding::List(vec![
            one(dir.path().join("a.safetensors"), ArtifactKind::Features, "a.features"),
            one(dir.path().join("c.safetensors"), ArtifactKind::Features, "c.features"),
        ]),
    );
    let err = run_stage(tmu_report::tmu_plugin(), "features.join", inputs, config("")).unwrap_err();
    assert!(err.chain_line().contains("sample id 9 missing"), "{}", err.chain_line());
}

/// A sweep over seeds 7 (tuning) and 0, 1 (reported), forget classes 1 and 2, and two settings:
/// `tmu` is best at setting `lo` on the tuning seed, `finetune` at `hi`; their Delta on reported
/// points encodes (seed, class, setting), so the report shows which point each row came from.
fn selection_inputs(dir: &Path) -> Inputs {
    let mut map = indexmap::IndexMap::new();
    for seed in [7u32, 0, 1] {
        for class in [1u32, 2] {
            for setting in ["lo", "hi"] {
                let label = format!("seed={seed},forget_class={class},setting={setting}");
                let at = if seed == 7 {
                    let (tmu, finetune) = if setting == "lo" { (1.0, 9.0) } else { (5.0, 2.0) };
                    (tmu, finetune)
                } else {
                    let code = f64::from(seed * 10 + class) + if setting == "lo" { 0.0 } else { 0.5 };
                    (code, 100.0 + code)
                };
                let mut m = eval_metrics(&three_seeds(), 0);
                m["models"]["tmu"] = record(at.0, 0.1);
                m["models"]["tmu"]["config"] = json!({ "lr": if setting == "lo" { 0.01 } else { 0.05 }, "epochs": 10 });
                m["models"]["finetune"] = record(at.1, 0.2);
                let path = dir.join(format!("{label}.json"));
                write_metrics(&path, &m).unwrap();
                map.insert(label, one(path, ArtifactKind::Metrics, "eval.metrics"));
            }
        }
    }
    let mut inputs = Inputs::default();
    inputs.insert("metrics", Binding::Map(map));
    inputs
}

#[test]
fn select_reports_each_method_at_the_setting_chosen_on_the_tuning_points() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = "select = { tune_values = [7] }";
    let run = run_stage(tmu_report::tmu_plugin(), "report.sweep", selection_inputs(dir.path()), config(cfg)).unwrap();
    let report = std::fs::read_to_string(run.output("report")).unwrap();
    assert!(report.starts_with("# Sweep report\n\n4 points."), "{report}");
    assert!(report.contains("## Settings, selected against gold on tuning points"), "{report}");
    assert!(report.contains("chosen on the 4 tuning points (`seed` = 7)"), "{report}");
    assert!(report.contains("| `tmu` | `lo` | lr = 0.01 |"), "{report}");
    assert!(report.contains("| `finetune` | `hi` | - |"), "{report}");
    // The long CSV holds the reported points only, each method at its setting: tmu's Delta is
    // 10 x seed + class, finetune's 100.5 + that.
    let csv = std::fs::read_to_string(run.output("table").join("sweep.csv")).unwrap();
    let mut deltas: Vec<(String, String, String)> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(String::from).collect::<Vec<_>>())
        .filter(|c| c[c.len() - 2] == "delta" && (c[c.len() - 3] == "tmu" || c[c.len() - 3] == "finetune"))
        .map(|c| (c[0..2].join(",").trim_matches('"').to_string(), c[c.len() - 3].clone(), c[c.len() - 1].clone()))
        .collect();
    deltas.sort();
    assert_eq!(deltas.len(), 8, "{csv}");
    assert!(deltas.contains(&("seed=0,forget_class=1".into(), "tmu".into(), "1".into())), "{deltas:?}");
    assert!(deltas.contains(&("seed=1,forget_class=2".into(), "finetune".into(), "112.5".into())), "{deltas:?}");
    assert!(!csv.contains("seed=7") && !csv.contains("setting="), "{csv}");
}

#[test]
fn a_predictor_gathered_without_the_setting_axis_still_reaches_each_point() {
    // The predictor does not depend on the `setting` axis, so its outputs are gathered under
    // labels without it; every evaluated point must still find its own.
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = selection_inputs(dir.path());
    let mut map = indexmap::IndexMap::new();
    for (p, seed) in [7u32, 0, 1].into_iter().enumerate() {
        for class in [1u32, 2] {
            let label = format!("seed={seed},forget_class={class}");
            let path = dir.path().join(format!("{label}.predictor.json"));
            write_metrics(&path, &predictor_metrics(p)).unwrap();
            map.insert(label, one(path, ArtifactKind::Metrics, "predict.metrics"));
        }
    }
    inputs.insert("predictor", Binding::Map(map));
    let run =
        run_stage(tmu_report::tmu_plugin(), "report.sweep", inputs, config("select = { tune_values = [7] }")).unwrap();
    let report = std::fs::read_to_string(run.output("report")).unwrap();
    // The 4 reported points (seeds 0 and 1): AUC 0.82 for seed 0, 0.84 for seed 1.
    assert!(report.contains("| `truth.auc` | 4 | 0.8300 ± 0.0115 |"), "{report}");
}

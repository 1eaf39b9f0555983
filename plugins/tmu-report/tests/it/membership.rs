//! report.membership on synthetic shadow signals: a model whose confidence betrays membership is
//! found by U-LiRA and RMIA, gold's (no trace of membership) stays near chance, the report labels a
//! reduced ensemble, the ROC files are written, and mismatched shadows are refused.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde_json::json;
use tmu_plugin::artifact::{read_metrics, write_metrics};
use tmu_plugin::{ArtifactKind, ArtifactRef, Binding, Inputs};
use tmu_report::tmu_plugin;
use tmu_test_support::{config, run_stage};

/// A deterministic value in [-1, 1) from three integers (no generator state to share).
fn noise(a: usize, b: usize, c: usize) -> f64 {
    let mut x =
        (a as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (b as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F) ^ c as u64;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x % 2_000_001) as f64 / 1_000_000.0 - 1.0
}

/// Shadow `s` of `n`: candidate `c` is a member when `(s + c) % 2 == 0`; `leaky` keeps a trace
/// (+3 on the log-odds), gold none.
fn signals(s: usize, candidates: &[u64]) -> serde_json::Value {
    let member: Vec<bool> = (0..candidates.len()).map(|c| (s + c).is_multiple_of(2)).collect();
    let model = |trace: f64, salt: usize| {
        let conf: Vec<f64> =
            member.iter().enumerate().map(|(c, &m)| noise(s, c, salt) + if m { trace } else { 0.0 }).collect();
        let prob: Vec<f64> = conf.iter().map(|v| 1.0 / (1.0 + (-v).exp())).collect();
        let pop: Vec<f64> = (0..20).map(|z| 1.0 / (1.0 + (-noise(s, 100 + z, salt)).exp())).collect();
        json!({ "scaled_confidence": conf, "true_prob": prob, "population_true_prob": pop,
                "acc": { "forget": 0.5, "retain": 0.9, "test": 0.8 }, "js_divergence": 0.1 * trace,
                "activation_distance": 0.2 * trace, "mia_rate": 0.1 + 0.05 * trace })
    };
    json!({ "schema": "tmu.membership.signals/1",
            "candidates": { "ids": candidates, "labels": vec![8; candidates.len()], "member": member },
            "sets": { "candidates": candidates.len(), "forget": 3, "retain": 50, "test": 40, "population": 20 },
            "mia_alpha": 0.1,
            "models": { "gold": model(0.0, 1), "leaky": model(3.0, 2) } })
}

fn inputs(dir: &Path, files: &[serde_json::Value]) -> Inputs {
    inputs_in_order(dir, files, &(0..files.len()).collect::<Vec<_>>())
}

/// The map with its entries inserted in `order` (shadow `s` keeps its label `shadow=s`).
fn inputs_in_order(dir: &Path, files: &[serde_json::Value], order: &[usize]) -> Inputs {
    let mut map = IndexMap::new();
    for &s in order {
        let v = &files[s];
        let path: PathBuf = dir.join(format!("s{s}.json"));
        write_metrics(&path, v).unwrap();
        let source = format!("shadow={s}/signals.metrics");
        map.insert(format!("shadow={s}"), ArtifactRef { path, kind: ArtifactKind::Metrics, source });
    }
    let mut inputs = Inputs::default();
    inputs.insert("signals", Binding::Map(map));
    inputs
}

#[test]
fn a_leaky_model_is_found_and_gold_stays_near_chance() {
    let dir = tempfile::tempdir().unwrap();
    let ids: Vec<u64> = (0..6).collect();
    let files: Vec<_> = (0..12).map(|s| signals(s, &ids)).collect();
    let run = run_stage(tmu_plugin(), "report.membership", inputs(dir.path(), &files), config("")).unwrap();
    let m = read_metrics(&run.output("metrics")).unwrap();
    assert_eq!((m["shadows"].as_u64(), m["reduced_n"].as_bool()), (Some(12), Some(true)));
    let auc = |model: &str, attack: &str| m["models"][model][attack]["auc"].as_f64().unwrap();
    assert!(auc("leaky", "ulira") > 0.95, "{}", auc("leaky", "ulira"));
    assert!(auc("leaky", "rmia") > 0.8, "{}", auc("leaky", "rmia"));
    assert!((auc("gold", "ulira") - 0.5).abs() < 0.25, "{}", auc("gold", "ulira"));
    // 12 targets x 6 candidates, every candidate with 5 other models on each side.
    assert_eq!(m["models"]["leaky"]["ulira"]["pairs"], 72);
    assert_eq!(m["models"]["leaky"]["ulira"]["positives"], 36);
    assert_eq!(m["models"]["leaky"]["tow"]["mean"], 1.0);
    let report = std::fs::read_to_string(run.output("report")).unwrap();
    assert!(report.contains("N = 12 shadow models — **reduced-N**"), "{report}");
    assert!(report.contains("gold (retrained: chance reference)"), "{report}");
    assert!(report.contains("**population attack**"), "{report}");
    let table = run.output("table");
    for f in [
        "membership.csv",
        "roc_ulira.png",
        "roc_ulira.svg",
        "roc_rmia.png",
        "roc_rmia.svg",
        "roc_leaky.png",
        "roc_leaky.svg",
    ] {
        assert!(table.join(f).is_file(), "{f} missing");
    }
    // The page: the markdown's tables and every ROC curve inline.
    let html = std::fs::read_to_string(run.output("html").join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3, "roc_ulira, roc_rmia, roc_leaky");
    assert!(html.contains("<h2>U-LiRA (per-example likelihood ratio)</h2>"), "{html}");
    assert!(html.matches("<table>").count() >= 5, "U-LiRA, RMIA, agreement, the run, the inputs");
    assert!(!html.contains("<script") && !html.contains("<img"));
}

#[test]
fn the_result_does_not_depend_on_the_order_of_the_map() {
    let ids: Vec<u64> = (0..6).collect();
    let files: Vec<_> = (0..12).map(|s| signals(s, &ids)).collect();
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let forward = run_stage(tmu_plugin(), "report.membership", inputs(a.path(), &files), config("")).unwrap();
    let shuffled: Vec<usize> = vec![7, 2, 11, 0, 5, 9, 1, 10, 3, 8, 4, 6];
    let other =
        run_stage(tmu_plugin(), "report.membership", inputs_in_order(b.path(), &files, &shuffled), config("")).unwrap();
    let read = |r: &tmu_test_support::StageRun| read_metrics(&r.output("metrics")).unwrap();
    assert_eq!(read(&forward), read(&other));
}

#[test]
fn shadows_must_attack_the_same_candidates() {
    let dir = tempfile::tempdir().unwrap();
    let files = vec![signals(0, &[0, 1, 2]), signals(1, &[0, 1, 3])];
    let e = run_stage(tmu_plugin(), "report.membership", inputs(dir.path(), &files), config("")).unwrap_err();
    assert!(e.to_string().contains("its candidates differ from shadow `shadow=0`'s"), "{e}");
}

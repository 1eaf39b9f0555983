//! Every feature against PyTorch: DF, AF (with the adversarial pixels) and CF of two tiny
//! networks with fixed weights, on the files and values written by
//! `tests/reference/features_reference.py` (see its docstring for how each value is computed).

use crate::common;

use common::{column, expected, features, inputs, max_abs_error, max_rel_error, numbers, reference_file, run};
use tmu_features::pgd::{Pgd, pgd_attack};
use tmu_nn::candle::Device;
use tmu_nn::{DeviceData, Network};
use tmu_plugin::artifact::Dataset;

const MODELS: [&str; 2] = ["small_cnn", "mlp"];
const QUERY_IDS: [u64; 8] = [100, 101, 102, 103, 104, 105, 106, 107];

/// Runs every case of `prefix` for both models; returns the largest relative error seen.
fn check_cases(prefix: &str, kind: &str, column_name: &str, tolerance: f64) -> f64 {
    let expected = expected();
    let mut worst = 0.0f64;
    for model in MODELS {
        let cases = expected[model].as_object().unwrap();
        for (case, body) in cases.iter().filter(|(c, _)| c.starts_with(prefix)) {
            let reference = (prefix == "df").then(|| reference_file("reference.dataset.safetensors"));
            let i = inputs(
                &reference_file(&format!("{model}.model.safetensors")),
                &reference_file("query.dataset.safetensors"),
                reference.as_deref(),
            );
            let r = run(kind, i, body["config"].as_str().unwrap()).unwrap();
            let f = features(&r);
            assert_eq!(f.ids, QUERY_IDS);
            assert_eq!(f.names, [column_name]);
            let want = numbers(&body["values"]);
            let err = max_rel_error(&column(&f), &want, 1e-12);
            println!(
                "{model} {case}: max relative error {err:.2e}, max abs error {:.2e}",
                max_abs_error(&column(&f), &want)
            );
            assert!(
                err <= tolerance,
                "{model} {case}: relative error {err:e} > {tolerance:e}\n{:?}\n{want:?}",
                column(&f)
            );
            let mean = want.iter().sum::<f64>() / want.len() as f64;
            let summary = &r.response.summary;
            assert!((summary["mean"].as_f64().unwrap() - mean).abs() <= tolerance * mean.abs() + 1e-7);
            assert_eq!(summary["samples"], 8);
            if prefix == "af" {
                let (clean, adv) = (&summary["clean_accuracy"], &summary["adversarial_accuracy"]);
                assert!(adv.as_f64().unwrap() <= clean.as_f64().unwrap(), "{model} {case}: {clean} then {adv}");
            }
            worst = worst.max(err);
        }
    }
    worst
}

#[test]
fn distance_feature_matches_pytorch() {
    // f32 features, f64 distances on both sides: agreement to f32 precision of the features.
    check_cases("df", "features.distance", "df", 1e-5);
}

#[test]
fn curriculum_feature_matches_pytorch() {
    check_cases("cf", "features.curriculum", "cf", 1e-5);
}

#[test]
fn adversarial_feature_matches_pytorch() {
    // The attacked images agree (tested below); KL is a difference of nearby log-probabilities,
    // so f32 logit rounding weighs more on small values.
    check_cases("af", "features.adversarial", "af", 1e-4);
}

#[test]
fn adversarial_pixels_match_pytorch() {
    let expected = expected();
    let data = Dataset::read(&reference_file("query.dataset.safetensors")).unwrap();
    let d = DeviceData::new(&data, &Device::Cpu).unwrap();
    for model in MODELS {
        let net = Network::load(&reference_file(&format!("{model}.model.safetensors")), &Device::Cpu).unwrap();
        for (case, pgd) in [
            ("af_default", Pgd { epsilon: 4.0 / 255.0, step: 4.0 / 255.0 / 3.0, steps: 5 }),
            ("af_strong", Pgd { epsilon: 0.1, step: 0.03, steps: 7 }),
        ] {
            let body = &expected[model][case];
            // The reference checked that no gradient component was near 0 (a sign could flip).
            assert!(numbers(&body["min_rel_grad"]).iter().all(|&m| m > 5e-5));
            let (_, labels) = d.range(0, 8).unwrap();
            let x = pgd_attack(&net, &d.pixels(0, 8).unwrap(), &labels, &pgd, None).unwrap();
            let got: Vec<f64> =
                x.flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().map(|&v| f64::from(v)).collect();
            let want: Vec<f64> = body["x_adv"].as_array().unwrap().iter().flat_map(numbers).collect();
            let err = max_abs_error(&got, &want);
            println!("{model} {case}: x_adv max abs error {err:.2e}");
            assert!(err <= 1e-6, "{model} {case}: x_adv differs by {err:e}");
            // Every pixel stays in the epsilon-ball and in [0, 1].
            let clean = d.pixels(0, 8).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
            for (a, c) in got.iter().zip(&clean) {
                assert!((0.0..=1.0).contains(a) && (a - f64::from(*c)).abs() <= pgd.epsilon + 1e-6);
            }
        }
    }
}

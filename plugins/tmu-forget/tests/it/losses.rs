//! The unlearning losses (values and gradients with respect to the logits) against PyTorch.
//!
//! Reference: `tests/reference/losses_reference.py` (PyTorch, float64, run by hand) wrote
//! `tests/reference/losses.json`; see the script for the formula behind every case. The Rust side
//! runs the same functions the stages call, in f32; the largest deviation seen (loss or gradient entry) was
//! 1.5e-7, the bound asserted is 1e-6.

use serde_json::Value;
use tmu_forget::losses::{AscentBound, HardTreatment, KlReduction, bad_teacher_loss, neggrad_loss, tmu_loss};
use tmu_nn::candle::{Device, Result, Tensor, Var};

const TOLERANCE: f64 = 1e-6;

fn reference() -> Value {
    let text = include_str!("../reference/losses.json");
    serde_json::from_str(text).expect("losses.json is valid JSON")
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn matrix(v: &Value, r: &Value) -> Tensor {
    let shape: Vec<usize> = r["shape"].as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect();
    Tensor::from_vec(floats(v), (shape[0], shape[1]), &Device::Cpu).unwrap()
}

fn vector_f32(v: &Value) -> Tensor {
    let x = floats(v);
    let n = x.len();
    Tensor::from_vec(x, n, &Device::Cpu).unwrap()
}

fn vector_u32(v: &Value) -> Tensor {
    let x: Vec<u32> = v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect();
    let n = x.len();
    Tensor::from_vec(x, n, &Device::Cpu).unwrap()
}

/// Runs `loss` on the reference logits and returns the max abs error of the loss and of its
/// gradient against `case`.
fn check(name: &str, loss: impl Fn(&Tensor) -> Result<Tensor>) -> f64 {
    let r = reference();
    let case = &r["cases"][name];
    assert!(case.is_object(), "no reference case `{name}`");
    let logits = Var::from_tensor(&matrix(&r["logits"], &r)).unwrap();
    let value = loss(logits.as_tensor()).unwrap();
    let grads = value.backward().unwrap();
    let grad = grads.get(logits.as_tensor()).expect("the loss depends on the logits");
    let got = f64::from(value.to_scalar::<f32>().unwrap());
    let mut err = (got - case["loss"].as_f64().unwrap()).abs();
    let g: Vec<f32> = grad.flatten_all().unwrap().to_vec1().unwrap();
    for (a, b) in g.iter().zip(floats(&case["grad"])) {
        err = err.max(f64::from(a - b).abs());
    }
    println!("{name}: max abs error {err:.2e}");
    assert!(err < TOLERANCE, "{name}: max abs error {err:e} (loss {got}, expected {})", case["loss"]);
    err
}

#[test]
fn tmu_random_label_is_cross_entropy_against_the_targets() {
    let r = reference();
    let (wrong, hard) = (vector_u32(&r["wrong"]), vector_f32(&r["hard"]));
    check("tmu_random_label", |x| tmu_loss(x, &wrong, &hard, HardTreatment::RandomLabel, 1.0));
}

#[test]
fn tmu_bounded_ascent_matches_and_stops_past_ln_k() {
    let r = reference();
    let (labels, hard) = (vector_u32(&r["labels"]), vector_f32(&r["hard"]));
    for (name, lambda) in [("tmu_ascent_1", 1.0), ("tmu_ascent_0.5", 0.5)] {
        check(name, |x| tmu_loss(x, &labels, &hard, HardTreatment::Ascent, lambda));
    }
    // Row 4 is hard with CE > ln 4: its gradient is exactly zero (the bound holds).
    let grad = &reference()["cases"]["tmu_ascent_1"]["grad"];
    assert!(floats(grad)[16..20].iter().all(|g| *g == 0.0));
}

#[test]
fn neggrad_matches_with_and_without_forget_rows() {
    let r = reference();
    let (labels, forget) = (vector_u32(&r["labels"]), vector_f32(&r["forget"]));
    for (name, alpha) in [("neggrad_1", 1.0), ("neggrad_0.7", 0.7)] {
        check(name, |x| neggrad_loss(x, &labels, &forget, alpha, AscentBound::None));
    }
    check("neggrad_bounded_1", |x| neggrad_loss(x, &labels, &forget, 1.0, AscentBound::LnC));
    // Row 4 is a forget row with CE > ln 4: under the bound its gradient is exactly zero.
    assert!(floats(&reference()["cases"]["neggrad_bounded_1"]["grad"])[16..20].iter().all(|g| *g == 0.0));
    let none = Tensor::zeros(6, tmu_nn::candle::DType::F32, &Device::Cpu).unwrap();
    check("neggrad_no_forget", |x| neggrad_loss(x, &labels, &none, 1.0, AscentBound::None));
}

#[test]
fn bad_teacher_kl_matches_the_authors_loss() {
    let r = reference();
    let forget = vector_f32(&r["forget"]);
    let (good, bad) = (matrix(&r["competent"], &r), matrix(&r["incompetent"], &r));
    for (name, t, reduction) in [
        ("bad_teacher_t1_mean", 1.0, KlReduction::Mean),
        ("bad_teacher_t2_mean", 2.0, KlReduction::Mean),
        ("bad_teacher_t1_batchmean", 1.0, KlReduction::BatchMean),
    ] {
        check(name, |x| bad_teacher_loss(x, &good, &bad, &forget, t, reduction));
    }
}

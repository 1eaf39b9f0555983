//! The predictor's numerics against tests/reference/predictor_reference.json, computed by
//! tests/reference/predictor_reference.py with NumPy (winsorising with `np.quantile`, linear
//! interpolation) and PyTorch (`binary_cross_entropy_with_logits`, `torch.optim.Adam` on an
//! `nn.Sequential` of Linear/ReLU) from fixed inputs and weights. (Quantiles and the AUC are
//! checked against NumPy and scikit-learn in tmu-stats.)

use serde_json::Value;
use tmu_nn::candle::{Device, Tensor, Var};
use tmu_predictor::fit::{adam, bce_with_logits, class_weights, train_step};
use tmu_predictor::mlp::{LayerWeights, PredictorMlp};
use tmu_predictor::preprocess::preprocess;

fn reference() -> Value {
    serde_json::from_str(include_str!("../reference/predictor_reference.json")).unwrap()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn f32s(v: &Value) -> Vec<f32> {
    f64s(v).into_iter().map(|x| x as f32).collect()
}

fn max_abs(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn winsorising_and_min_max_match_numpy() {
    let r = reference();
    let pre = &r["preprocess"];
    let (rows, cols) = (pre["rows"].as_u64().unwrap() as usize, pre["cols"].as_u64().unwrap() as usize);
    let values = f32s(&pre["values"]);
    let names: Vec<String> = (0..cols).map(|j| format!("c{j}")).collect();
    for case in pre["cases"].as_array().unwrap() {
        let k = case["k"].as_f64().unwrap();
        let (scaled, stats) = preprocess(&values, &names, k);
        assert_eq!(scaled.len(), rows * cols);
        // The computation is f64 like NumPy's; only the final cast to f32 differs (max abs
        // error seen: 2.8e-8).
        let expected = f64s(&case["scaled"]);
        let got: Vec<f64> = scaled.iter().map(|&v| f64::from(v)).collect();
        assert!(max_abs(&got, &expected) < 1e-7, "k = {k}: max abs error {}", max_abs(&got, &expected));
        for (s, e) in stats.iter().zip(case["stats"].as_array().unwrap()) {
            for (field, v) in
                [("q1", s.q1), ("q3", s.q3), ("lower", s.lower), ("upper", s.upper), ("min", s.min), ("max", s.max)]
            {
                assert_eq!(v, e[field].as_f64().unwrap(), "{} {field} (k = {k})", s.name);
            }
        }
        // Column 2 is constant: it scales to 0.
        assert!((0..rows).all(|i| scaled[i * cols + 2] == 0.0));
    }
}

#[test]
fn bce_with_logits_matches_pytorch_with_and_without_balance() {
    let r = reference();
    let b = &r["bce"];
    let z = f32s(&b["z"]);
    let y = f32s(&b["y"]);
    let easy: Vec<bool> = y.iter().map(|&v| v == 1.0).collect();
    for case in b["cases"].as_array().unwrap() {
        let balance = case["balance"].as_bool().unwrap();
        let [w_hard, w_easy] = class_weights(&easy, balance);
        let w: Vec<f32> = easy.iter().map(|&e| if e { w_easy } else { w_hard } as f32).collect();
        assert!(max_abs(&w.iter().map(|&v| f64::from(v)).collect::<Vec<_>>(), &f64s(&case["weights"])) < 1e-7);
        let zv = Var::from_tensor(&Tensor::new(z.as_slice(), &Device::Cpu).unwrap()).unwrap();
        let yt = Tensor::new(y.as_slice(), &Device::Cpu).unwrap();
        let wt = Tensor::new(w.as_slice(), &Device::Cpu).unwrap();
        let loss = bce_with_logits(zv.as_tensor(), &yt, &wt).unwrap();
        let grad = loss.backward().unwrap().get(zv.as_tensor()).unwrap().to_vec1::<f32>().unwrap();
        let loss = f64::from(loss.to_scalar::<f32>().unwrap());
        // Max abs errors seen: loss 9e-8, gradient 1.5e-8 (f32 arithmetic on both sides; the
        // logit 0.0, at the kinks of |z| and relu, gets PyTorch's derivative too).
        assert!((loss - case["loss"].as_f64().unwrap()).abs() < 1e-6, "balance {balance}: loss {loss}");
        let grad: Vec<f64> = grad.iter().map(|&g| f64::from(g)).collect();
        let expected = f64s(&case["grad"]);
        assert!(max_abs(&grad, &expected) < 1e-6, "balance {balance}: {grad:?} vs {expected:?}");
    }
}

fn mlp_from(r: &Value) -> (Vec<usize>, Vec<LayerWeights>) {
    let sizes: Vec<usize> = r["sizes"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let weights = r["init"].as_array().unwrap().iter().map(|l| (f32s(&l[0]), f32s(&l[1]))).collect();
    (sizes, weights)
}

#[test]
fn two_adam_steps_match_pytorch() {
    let r = reference();
    let m = &r["mlp"];
    let (sizes, init) = mlp_from(m);
    let x = f32s(&m["x"]);
    let y = f32s(&m["y"]);
    let easy: Vec<bool> = y.iter().map(|&v| v == 1.0).collect();
    let lr = m["lr"].as_f64().unwrap();
    let mut worst_weight = 0.0f64;
    for case in m["cases"].as_array().unwrap() {
        let balance = case["balance"].as_bool().unwrap();
        let mlp = PredictorMlp::from_weights(&sizes, init.clone()).unwrap();
        let logits: Vec<f64> = mlp.logits_of(&x).unwrap().iter().map(|&v| f64::from(v)).collect();
        // Max abs errors seen: logits 1.5e-8, losses 6e-8.
        assert!(max_abs(&logits, &f64s(&case["logits_before"])) < 1e-6);
        let [w_hard, w_easy] = class_weights(&easy, balance);
        let w: Vec<f32> = easy.iter().map(|&e| if e { w_easy } else { w_hard } as f32).collect();
        let mut opt = adam(&mlp, lr).unwrap();
        let mut losses = Vec::new();
        for rows in [0..5, 5..10] {
            let xb = Tensor::from_slice(&x[rows.start * 3..rows.end * 3], (rows.len(), 3), &Device::Cpu).unwrap();
            let yb = Tensor::from_slice(&y[rows.clone()], rows.len(), &Device::Cpu).unwrap();
            let wb = Tensor::from_slice(&w[rows.clone()], rows.len(), &Device::Cpu).unwrap();
            losses.push(f64::from(train_step(&mlp, &mut opt, &xb, &yb, &wb, lr).unwrap()));
        }
        assert!(max_abs(&losses, &f64s(&case["losses"])) < 1e-6, "balance {balance}: {losses:?}");
        for (got, expected) in mlp.weights().unwrap().iter().zip(case["weights_after"].as_array().unwrap()) {
            for (g, e) in [(&got.0, &expected[0]), (&got.1, &expected[1])] {
                let g: Vec<f64> = g.iter().map(|&v| f64::from(v)).collect();
                worst_weight = worst_weight.max(max_abs(&g, &f64s(e)));
            }
        }
    }
    // Max abs error of the weights after two steps, over both cases: observed 7.5e-8.
    assert!(worst_weight < 1e-6, "weights differ from PyTorch by up to {worst_weight}");
}

//! `tmu_nn::ops` against PyTorch: reference values in `tests/reference/ops.json`, written by
//! `tests/reference/ops_reference.py` (PyTorch in float64 on stored float32 inputs; see there).
//! Gradients are those of `sum(out * r)`. Every check prints its max abs error (`--nocapture`).

use std::path::Path;

use candle_core::{DType, Device, Tensor, Var};
use serde_json::Value;
use tmu_nn::ops::{self, Conv2dCfg, SgdCfg};

/// Absolute tolerance, scaled by the largest reference magnitude when that exceeds 1.
const TOL: f32 = 1e-4;

fn cases() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference/ops.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let all: Value = serde_json::from_str(&text).expect("ops.json parses");
    all["cases"].clone()
}

/// The stored tensor `v` (`{shape, data}`) as f32 on the CPU.
fn tensor(v: &Value) -> Tensor {
    let shape: Vec<usize> = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let data: Vec<f32> = v["data"].as_array().unwrap().iter().map(|d| d.as_f64().unwrap() as f32).collect();
    Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
}

fn var(v: &Value) -> Var {
    Var::from_tensor(&tensor(v)).unwrap()
}

/// Asserts `got` matches the reference `want` within TOL (relative above magnitude 1).
fn check(case: &str, what: &str, got: &Tensor, want: &Value) {
    let want = tensor(want);
    assert_eq!(got.dims(), want.dims(), "{case}.{what}: shape");
    let got: Vec<f32> = got.to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1().unwrap();
    let want: Vec<f32> = want.flatten_all().unwrap().to_vec1().unwrap();
    let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
    let err = got.iter().zip(&want).fold(0f32, |m, (g, w)| m.max((g - w).abs()));
    println!("{case}.{what}: max abs error {err:.2e} (reference magnitude {scale:.2})");
    assert!(err <= TOL * scale, "{case}.{what}: max abs error {err:e} > {:e}", TOL * scale);
}

fn loss(y: &Tensor, r: &Value) -> Tensor {
    (y * tensor(r)).unwrap().sum_all().unwrap()
}

#[test]
fn conv2d_matches_pytorch() {
    let cases = cases();
    for name in ["conv_s1_p1_bias", "conv_s2_p1", "conv_1x1_s2", "conv_s1_p0", "conv_k5_s3_p2"] {
        let c = &cases[name];
        let (x, w) = (var(&c["x"]), var(&c["w"]));
        let b = c.get("b").map(var);
        let cfg = Conv2dCfg {
            stride: c["stride"].as_u64().unwrap() as usize,
            padding: c["padding"].as_u64().unwrap() as usize,
        };
        let y = ops::conv2d(&x, &w, b.as_ref().map(|b| b.as_tensor()), cfg).unwrap();
        check(name, "y", &y, &c["y"]);
        let grads = loss(&y, &c["r"]).backward().unwrap();
        check(name, "dx", grads.get(&x).unwrap(), &c["dx"]);
        check(name, "dw", grads.get(&w).unwrap(), &c["dw"]);
        if let Some(b) = &b {
            check(name, "db", grads.get(b).unwrap(), &c["db"]);
        }
    }
}

#[test]
fn batch_norm_train_matches_pytorch() {
    let cases = cases();
    for (name, relu) in [("bn", false), ("bn_relu", true)] {
        let c = &cases[name];
        let (x, gamma, beta) = (var(&c["x"]), var(&c["gamma"]), var(&c["beta"]));
        let f = if relu { ops::batch_norm_relu_train } else { ops::batch_norm_train };
        let (y, mean, var_unbiased) = f(&x, &gamma, &beta, 1e-5).unwrap();
        check(name, "y", &y, &c["y"]);
        check(name, "mean", &mean, &c["mean"]);
        check(name, "var_unbiased", &var_unbiased, &c["var_unbiased"]);
        let (rm, rv) = (var(&c["running_mean0"]), var(&c["running_var0"]));
        ops::update_running_stats(&rm, &rv, &mean, &var_unbiased, 0.1).unwrap();
        check(name, "running_mean", rm.as_tensor(), &c["running_mean"]);
        check(name, "running_var", rv.as_tensor(), &c["running_var"]);
        let grads = loss(&y, &c["r"]).backward().unwrap();
        check(name, "dx", grads.get(&x).unwrap(), &c["dx"]);
        check(name, "dgamma", grads.get(&gamma).unwrap(), &c["dgamma"]);
        check(name, "dbeta", grads.get(&beta).unwrap(), &c["dbeta"]);
    }
}

#[test]
fn batch_norm_eval_matches_pytorch() {
    let c = &cases()["bn_eval"];
    let y = ops::batch_norm_eval(
        &tensor(&c["x"]),
        &tensor(&c["gamma"]),
        &tensor(&c["beta"]),
        &tensor(&c["running_mean"]),
        &tensor(&c["running_var"]),
        1e-5,
    )
    .unwrap();
    check("bn_eval", "y", &y, &c["y"]);
}

#[test]
fn relu_and_add_relu_match_pytorch() {
    let cases = cases();
    let c = &cases["relu"];
    let x = var(&c["x"]);
    let y = ops::relu(&x).unwrap();
    check("relu", "y", &y, &c["y"]);
    check("relu", "dx", loss(&y, &c["r"]).backward().unwrap().get(&x).unwrap(), &c["dx"]);

    let c = &cases["add_relu"];
    let (a, b) = (var(&c["a"]), var(&c["b"]));
    let y = ops::add_relu(&a, &b).unwrap();
    check("add_relu", "y", &y, &c["y"]);
    let grads = loss(&y, &c["r"]).backward().unwrap();
    check("add_relu", "da", grads.get(&a).unwrap(), &c["da"]);
    check("add_relu", "db", grads.get(&b).unwrap(), &c["db"]);
}

#[test]
fn sgd_matches_pytorch() {
    let cases = cases();
    for name in ["sgd_momentum_wd", "sgd_nesterov", "sgd_dampening", "sgd_plain_wd"] {
        let c = &cases[name];
        let cfg = SgdCfg {
            lr: c["lr"].as_f64().unwrap(),
            momentum: c["momentum"].as_f64().unwrap(),
            weight_decay: c["weight_decay"].as_f64().unwrap(),
            dampening: c["dampening"].as_f64().unwrap(),
            nesterov: c["nesterov"].as_bool().unwrap(),
        };
        let p = var(&c["p0"]);
        let mut buf = None;
        for (step, (g, after)) in c["grads"].as_array().unwrap().iter().zip(c["after"].as_array().unwrap()).enumerate()
        {
            ops::sgd_momentum_update(&p, &tensor(g), &mut buf, &cfg).unwrap();
            check(name, &format!("p after step {}", step + 1), p.as_tensor(), after);
        }
        assert_eq!(buf.is_some(), cfg.momentum != 0.0, "{name}: momentum buffer");
    }
}

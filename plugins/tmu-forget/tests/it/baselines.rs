//! The numerics of the baselines NegGrad+, SCRUB, SalUn, l1-sparse, SSD, MSG and CT against
//! PyTorch, on a tiny MLP with fixed weights: one or two update steps, the masks, the Fisher
//! information, the dampened weights and the per-epoch learning rates.
//!
//! Reference: `tests/reference/baselines_reference.py` (PyTorch, float64, run by hand) wrote
//! `tests/reference/baselines.json`; the script names, for every method, the repository and file
//! its computation follows. The Rust side runs the functions the stages call (losses, masks,
//! importances, schedules) with tmu-nn's optimizers, in f32; the largest deviation seen was
//! 2.4e-7 (weights after two Adam steps), the bound asserted is 1e-5.

use std::collections::HashMap;

use serde_json::Value;
use tmu_forget::ct::{cosine_factor, transpose_conv_kernels};
use tmu_forget::gradients::summed_gradients;
use tmu_forget::losses::{l1_norm, l1_weight, neggrad_plus_loss, scrub_max_loss, scrub_min_loss};
use tmu_forget::msg::{MaskedLayers, kaiming_fan_out_std, msg_lr_factor, reinitialise, smallest_gradients};
use tmu_forget::salun::{restore_outside, saliency_mask};
use tmu_forget::scrub::scrub_lr;
use tmu_forget::ssd::{dampen, importance};
use tmu_nn::candle::{Device, Tensor, Var};
use tmu_nn::loss::cross_entropy;
use tmu_nn::models::MlpConfig;
use tmu_nn::optim::{AdamConfig, SgdConfig};
use tmu_nn::{ArchConfig, DeviceData, Network, NetworkSpec, Optimizer, OptimizerConfig};
use tmu_plugin::artifact::{Dataset, DatasetMeta};

const TOLERANCE: f64 = 1e-5;
const NAMES: [&str; 4] = ["hidden.0.weight", "hidden.0.bias", "head.weight", "head.bias"];

fn reference() -> Value {
    serde_json::from_str(include_str!("../reference/baselines.json")).expect("baselines.json is valid JSON")
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect()
}

fn usizes(v: &Value) -> Vec<usize> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as usize).collect()
}

/// The reference MLP (1x2x2 input normalised with mean 0.5, std 0.25; hidden 3; 3 classes).
fn mlp(r: &Value) -> Network {
    let spec = NetworkSpec {
        arch: ArchConfig::Mlp(MlpConfig { hidden: vec![3], dropout: 0.0 }),
        classes: vec!["a".into(), "b".into(), "c".into()],
        input_shape: [1, 2, 2],
        mean: vec![0.5],
        std: vec![0.25],
    };
    let tensors: HashMap<String, Tensor> = NAMES
        .iter()
        .map(|n| {
            let shape = usizes(&r["shapes"][n]);
            (n.to_string(), Tensor::from_vec(floats(&r["weights"][n]), shape.as_slice(), &Device::Cpu).unwrap())
        })
        .collect();
    Network::from_tensors(spec, tensors, &Device::Cpu).unwrap()
}

fn data(r: &Value, images: &str, labels: &str) -> DeviceData {
    let rows: Vec<Vec<u8>> = r[images]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row.as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u8).collect())
        .collect();
    let n = rows.len();
    let labels: Vec<u32> = r[labels].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as u32).collect();
    let meta = DatasetMeta {
        classes: vec!["a".into(), "b".into(), "c".into()],
        mean: vec![0.5],
        std: vec![0.25],
        source: "baselines reference".into(),
        ..DatasetMeta::default()
    };
    let first_id = if images == "retain_u8" { 0 } else { 100 };
    let d = Dataset::new(rows.concat(), [n, 1, 2, 2], labels, (first_id..first_id + n as u64).collect(), meta).unwrap();
    DeviceData::new(&d, &Device::Cpu).unwrap()
}

/// Normalised inputs and labels of `positions` of `d`.
fn batch(net: &Network, d: &DeviceData, positions: &[usize]) -> (Tensor, Tensor) {
    let p: Vec<u32> = positions.iter().map(|&i| i as u32).collect();
    let (images, labels) = d.gather(&d.index_tensor(&p).unwrap()).unwrap();
    (net.normalise_u8(&images).unwrap(), labels)
}

fn vars(net: &Network) -> Vec<Var> {
    net.trainable_vars().into_iter().map(|(_, v)| v).collect()
}

fn max_err(got: &[f32], want: &[f32]) -> f64 {
    assert_eq!(got.len(), want.len());
    got.iter().zip(want).map(|(a, b)| f64::from(a - b).abs()).fold(0.0, f64::max)
}

/// The largest deviation of `net`'s weights from `want` (by name).
fn weights_err(net: &Network, want: &Value) -> f64 {
    net.trainable_vars()
        .iter()
        .map(|(n, v)| max_err(&v.as_tensor().flatten_all().unwrap().to_vec1().unwrap(), &floats(&want[n])))
        .fold(0.0, f64::max)
}

fn check(name: &str, err: f64) {
    println!("{name}: max abs error {err:.2e}");
    assert!(err < TOLERANCE, "{name}: max abs error {err:e}");
}

fn sgd(net: &Network, lr: f64, momentum: f64, weight_decay: f64) -> Optimizer {
    let c = OptimizerConfig::Sgd(SgdConfig { lr, momentum, weight_decay, ..SgdConfig::default() });
    Optimizer::new(c, net.trainable_vars()).unwrap()
}

fn scalar(t: &Tensor) -> f64 {
    f64::from(t.to_scalar::<f32>().unwrap())
}

#[test]
fn neggrad_plus_two_steps_match() {
    let r = reference();
    let c = &r["neggrad_plus"];
    let net = mlp(&r);
    let (retain, forget) = (data(&r, "retain_u8", "retain_y"), data(&r, "forget_u8", "forget_y"));
    let mut opt = sgd(&net, 0.1, 0.9, 5e-4);
    let mut err = 0f64;
    for (k, (rb, fb)) in usizes_pairs(&c["retain"], &c["forget"]).into_iter().enumerate() {
        let (xr, yr) = batch(&net, &retain, &rb);
        let (xf, yf) = batch(&net, &forget, &fb);
        let (lr_, lf) = (net.forward_t(&xr, true).unwrap(), net.forward_t(&xf, true).unwrap());
        let loss = neggrad_plus_loss(&lr_, &yr, &lf, &yf, c["alpha"].as_f64().unwrap()).unwrap();
        err = err.max((scalar(&loss) - c["losses"][k].as_f64().unwrap()).abs());
        opt.step(&loss.backward().unwrap(), 0.1).unwrap();
    }
    check("neggrad+", err.max(weights_err(&net, &c["weights"])));
}

fn usizes_pairs(a: &Value, b: &Value) -> Vec<(Vec<usize>, Vec<usize>)> {
    a.as_array().unwrap().iter().zip(b.as_array().unwrap()).map(|(x, y)| (usizes(x), usizes(y))).collect()
}

#[test]
fn scrub_max_then_min_step_matches() {
    let r = reference();
    let c = &r["scrub"];
    let (student, teacher) = (mlp(&r), mlp(&r));
    let (retain, forget) = (data(&r, "retain_u8", "retain_y"), data(&r, "forget_u8", "forget_y"));
    let adam = OptimizerConfig::Adam(AdamConfig { lr: 0.01, weight_decay: 0.1, ..AdamConfig::default() });
    let mut opt = Optimizer::new(adam, student.trainable_vars()).unwrap();
    let t = c["temperature"].as_f64().unwrap();
    let (xf, _) = batch(&student, &forget, &usizes(&c["forget"]));
    let loss =
        scrub_max_loss(&student.forward_t(&xf, true).unwrap(), &teacher.forward_t(&xf, false).unwrap(), t).unwrap();
    let mut err = (scalar(&loss) - c["max_loss"].as_f64().unwrap()).abs();
    opt.step(&loss.backward().unwrap(), 0.01).unwrap();
    let (xr, yr) = batch(&student, &retain, &usizes(&c["retain"]));
    let (s, tr) = (student.forward_t(&xr, true).unwrap(), teacher.forward_t(&xr, false).unwrap());
    let loss = scrub_min_loss(&s, &tr, &yr, 1.0, 0.5, t).unwrap();
    err = err.max((scalar(&loss) - c["min_loss"].as_f64().unwrap()).abs());
    opt.step(&loss.backward().unwrap(), 0.01).unwrap();
    check("scrub", err.max(weights_err(&student, &c["weights"])));
    let lrs: Vec<f32> = (0..10).map(|e| scrub_lr(5e-4, &[5, 8, 9], 0.1, e) as f32).collect();
    check("scrub lr schedule", max_err(&lrs, &floats(&c["lr_schedule"])));
}

#[test]
fn salun_mask_and_masked_step_match() {
    let r = reference();
    let c = &r["salun"];
    let net = mlp(&r);
    let forget = data(&r, "forget_u8", "forget_y");
    let (masks, samples) = saliency_mask(&net, &forget, 2, 0.5).unwrap();
    assert_eq!(samples, 3);
    for (n, m) in NAMES.iter().zip(&masks) {
        let got: Vec<f32> = m.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(got, floats(&c["mask"][n]), "mask of {n}");
    }
    // One step as the stage's hooks take it: masked gradient, SGD, non-salient weights restored.
    let vs = vars(&net);
    let original: Vec<Tensor> = vs.iter().map(|v| v.as_tensor().copy().unwrap()).collect();
    let mut opt = sgd(&net, 0.1, 0.9, 5e-4);
    let (x, _) = batch(&net, &forget, &usizes(&c["step_forget"]));
    let y = Tensor::from_vec(vec![2u32, 1], 2, &Device::Cpu).unwrap();
    let mut grads = cross_entropy(&net.forward_t(&x, true).unwrap(), &y, 0.0).unwrap().backward().unwrap();
    for (v, m) in vs.iter().zip(&masks) {
        let g = grads.get(v.as_tensor()).unwrap().mul(m).unwrap();
        grads.insert(v.as_tensor(), g);
    }
    opt.step(&grads, 0.1).unwrap();
    restore_outside(&vs, &masks, &original).unwrap();
    check("salun", weights_err(&net, &c["weights"]));
}

#[test]
fn l1_sparse_step_matches() {
    let r = reference();
    let c = &r["l1_sparse"];
    let net = mlp(&r);
    let retain = data(&r, "retain_u8", "retain_y");
    let weight = l1_weight(0.01, 1, 3);
    let mut err = (weight - c["l1_weight"].as_f64().unwrap()).abs();
    let params: Vec<Tensor> = vars(&net).iter().map(|v| v.as_tensor().clone()).collect();
    let (x, y) = batch(&net, &retain, &usizes(&c["retain"]));
    let ce = cross_entropy(&net.forward_t(&x, true).unwrap(), &y, 0.0).unwrap();
    let loss = (ce + l1_norm(&params).unwrap().affine(weight, 0.0).unwrap()).unwrap();
    err = err.max((scalar(&loss) - c["loss"].as_f64().unwrap()).abs());
    let mut opt = sgd(&net, 0.1, 0.9, 5e-4);
    opt.step(&loss.backward().unwrap(), 0.1).unwrap();
    check("l1-sparse", err.max(weights_err(&net, &c["weights"])));
}

#[test]
fn ssd_importances_and_dampening_match() {
    let r = reference();
    let c = &r["ssd"];
    let net = mlp(&r);
    let forget = data(&r, "forget_u8", "forget_y");
    let full = concat_data(&r);
    let (imp_d, n_d) = importance(&net, &full, 4).unwrap();
    let (imp_f, n_f) = importance(&net, &forget, 4).unwrap();
    assert_eq!((n_d, n_f), (9, 3));
    let mut err = 0f64;
    for (k, n) in NAMES.iter().enumerate() {
        err = err.max(max_err(&imp_d[k].flatten_all().unwrap().to_vec1().unwrap(), &floats(&c["importance_full"][n])));
        err =
            err.max(max_err(&imp_f[k].flatten_all().unwrap().to_vec1().unwrap(), &floats(&c["importance_forget"][n])));
    }
    let chosen = dampen(&vars(&net), &imp_d, &imp_f, 1.0, 1.5).unwrap();
    assert_eq!(chosen, c["dampened"].as_u64().unwrap());
    check("ssd", err.max(weights_err(&net, &c["weights"])));
}

/// D = D_r followed by D_f, as the stage joins them.
fn concat_data(r: &Value) -> DeviceData {
    let mut all = r.clone();
    let mut rows = r["retain_u8"].as_array().unwrap().clone();
    rows.extend(r["forget_u8"].as_array().unwrap().iter().cloned());
    let mut labels = r["retain_y"].as_array().unwrap().clone();
    labels.extend(r["forget_y"].as_array().unwrap().iter().cloned());
    all["retain_u8"] = Value::Array(rows);
    all["retain_y"] = Value::Array(labels);
    data(&all, "retain_u8", "retain_y")
}

#[test]
fn msg_gradient_mask_scaled_step_and_schedule_match() {
    let r = reference();
    let c = &r["msg"];
    let net = mlp(&r);
    let (retain, forget) = (data(&r, "retain_u8", "retain_y"), data(&r, "forget_u8", "forget_y"));
    let ce = |l: &Tensor, y: &Tensor| cross_entropy(l, y, 0.0);
    let subset: Vec<u32> = usizes(&c["retain"]).into_iter().map(|i| i as u32).collect();
    let (plus, _) = summed_gradients(&net, &retain, &subset, 2, &ce).unwrap();
    let (minus, _) = summed_gradients(&net, &forget, &[0, 1, 2], 2, &ce).unwrap();
    let g: Vec<Tensor> = plus.iter().zip(&minus).map(|(p, m)| (p - m).unwrap()).collect();
    let mut err = 0f64;
    for (k, n) in NAMES.iter().enumerate() {
        err = err.max(max_err(&g[k].flatten_all().unwrap().to_vec1().unwrap(), &floats(&c["G"][n])));
    }
    let picked = smallest_gradients(&net, &g, MaskedLayers::ConvAndLinear, 0.3).unwrap();
    assert_eq!(picked[0], Some(usizes(&c["picked"]["hidden.0.weight"])));
    assert_eq!(picked[1], None, "biases are not masked");
    assert_eq!(picked[2], Some(usizes(&c["picked"]["head.weight"])));
    assert!(smallest_gradients(&net, &g, MaskedLayers::Conv, 0.3).unwrap().iter().all(Option::is_none));

    // The scaled step, from weights that are not re-initialised (the re-initialisation draws
    // from tmu's own generator): factors 1 at the picked entries, 0.1 elsewhere.
    let vs = vars(&net);
    let before: Vec<Vec<f32>> = vs.iter().map(|v| v.as_tensor().flatten_all().unwrap().to_vec1().unwrap()).collect();
    let scales = reinitialise(&vs, &picked, 0.1, 7).unwrap();
    for (v, b) in vs.iter().zip(&before) {
        v.set(&Tensor::from_vec(b.clone(), v.dims(), &Device::Cpu).unwrap()).unwrap();
    }
    let mut opt = sgd(&net, 0.1, 0.9, 5e-4);
    let (x, y) = batch(&net, &retain, &usizes(&c["step_retain"]));
    let mut grads = cross_entropy(&net.forward_t(&x, true).unwrap(), &y, 0.0).unwrap().backward().unwrap();
    for (v, s) in &scales {
        let scaled = grads.get(v.as_tensor()).unwrap().mul(s).unwrap();
        grads.insert(v.as_tensor(), scaled);
    }
    opt.step(&grads, 0.1).unwrap();
    check("msg", err.max(weights_err(&net, &c["weights"])));

    for (epochs, want) in c["lr_factors"].as_object().unwrap() {
        let e: usize = epochs.parse().unwrap();
        let got: Vec<f32> = (0..e).map(|k| msg_lr_factor(k, e) as f32).collect();
        check(&format!("msg lr factors over {e} epochs"), max_err(&got, &floats(want)));
    }
}

#[test]
fn msg_reinitialises_only_the_picked_weights_with_kaiming_fan_out_spread() {
    // A 64 x 400 weight matrix, every entry picked but the first 100: the picked entries are
    // redrawn with sd sqrt(2 / 64); the others keep their value.
    let v = Var::from_tensor(&Tensor::ones((64, 400), tmu_nn::candle::DType::F32, &Device::Cpu).unwrap()).unwrap();
    let picked: Vec<usize> = (100..64 * 400).collect();
    let scales = reinitialise(std::slice::from_ref(&v), &[Some(picked.clone())], 0.1, 3).unwrap();
    let w: Vec<f32> = v.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
    assert!(w[..100].iter().all(|x| *x == 1.0));
    let drawn: Vec<f64> = w[100..].iter().map(|&x| f64::from(x)).collect();
    let n = drawn.len() as f64;
    let mean = drawn.iter().sum::<f64>() / n;
    let sd = (drawn.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
    let want = kaiming_fan_out_std(&[64, 400]);
    assert!((want - (2.0f64 / 64.0).sqrt()).abs() < 1e-12);
    // 25,500 draws: the sample sd's own sd is about want / sqrt(2 n) = 0.0008.
    assert!(mean.abs() < 0.01 && (sd - want).abs() < 0.005, "mean {mean}, sd {sd}, want {want}");
    let f: Vec<f32> = scales[0].1.flatten_all().unwrap().to_vec1().unwrap();
    assert!(f[..100].iter().all(|x| (*x - 0.1).abs() < 1e-7) && f[100..].iter().all(|x| *x == 1.0));
    // A conv kernel's fan-out counts its spatial size.
    assert!((kaiming_fan_out_std(&[16, 3, 3, 3]) - (2.0f64 / 144.0).sqrt()).abs() < 1e-12);
}

#[test]
fn ct_transposes_every_conv_kernel_and_anneals_per_epoch() {
    let r = reference();
    for (epochs, want) in r["ct"]["lr_factors"].as_object().unwrap() {
        let e: usize = epochs.parse().unwrap();
        let got: Vec<f32> = (0..e).map(|k| cosine_factor(k, e) as f32).collect();
        check(&format!("ct lr factors over {e} epochs"), max_err(&got, &floats(want)));
    }
    let arch = tmu_nn::ArchOptions::default().resolve(tmu_nn::ArchName::SmallCnn).unwrap();
    let spec = NetworkSpec {
        arch,
        classes: vec!["a".into(), "b".into()],
        input_shape: [1, 8, 8],
        mean: vec![0.5],
        std: vec![0.25],
    };
    let net = Network::new(spec, &Device::Cpu, 4).unwrap();
    let before: Vec<(String, Vec<usize>, Vec<f32>)> = net
        .trainable_vars()
        .into_iter()
        .map(|(n, v)| (n, v.dims().to_vec(), v.as_tensor().flatten_all().unwrap().to_vec1().unwrap()))
        .collect();
    let done = transpose_conv_kernels(&net).unwrap();
    assert_eq!(done, before.iter().filter(|(_, d, _)| d.len() == 4).count());
    assert!(done > 0);
    for ((name, dims, old), (_, v)) in before.iter().zip(net.trainable_vars()) {
        let new: Vec<f32> = v.as_tensor().flatten_all().unwrap().to_vec1().unwrap();
        if dims.len() != 4 {
            assert_eq!(&new, old, "{name} is not a conv kernel");
            continue;
        }
        let (k, s) = (dims[2], dims[2] * dims[3]);
        for (plane, (n_plane, o_plane)) in new.chunks(s).zip(old.chunks(s)).enumerate() {
            for y in 0..k {
                for x in 0..k {
                    assert_eq!(n_plane[y * k + x], o_plane[x * k + y], "{name} plane {plane} at ({y}, {x})");
                }
            }
        }
    }
}

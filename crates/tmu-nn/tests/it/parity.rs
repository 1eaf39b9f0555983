//! Numerical parity with PyTorch on tiny inputs: forward (train and eval mode), gradients of
//! every parameter and of the input, batch-norm statistics and one SGD step of every
//! architecture; optimizer steps; losses; schedules.
//!
//! Reference values: `tests/reference/make_reference.py` (PyTorch, run by hand) wrote them
//! next to it, weights included: both sides compute on identical parameters. Run with
//! `--nocapture` to see the max abs error of every comparison.

use std::collections::HashMap;
use std::path::PathBuf;

use candle_core::{DType, Device, Tensor, Var};
use tmu_nn::loss::{cross_entropy, cross_entropy_f64, kl_to_teacher, per_sample_cross_entropy};
use tmu_nn::optim::{Optimizer, OptimizerConfig, Schedule, SgdConfig};
use tmu_nn::{ArchConfig, Network, NetworkSpec};

/// Max abs error allowed, relative to max(1, max |reference|): f32 sums of a thousand terms
/// of size 10 (the 7x7 stem's weight gradient) differ by ~1e-5 in summation order alone.
const TOL: f32 = 1e-4;

fn reference(name: &str) -> (HashMap<String, Tensor>, HashMap<String, String>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference").join(name);
    let tensors = candle_core::safetensors::load(&path, &Device::Cpu).expect("reference file");
    let (_, meta) = tmu_plugin::artifact::read_header(&path).expect("reference header");
    (tensors, meta)
}

fn max_abs(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims(), "shapes differ");
    let a = a.to_dtype(DType::F64).unwrap();
    let b = b.to_dtype(DType::F64).unwrap();
    (a - b).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap().to_scalar::<f64>().unwrap() as f32
}

/// Records comparisons and fails at the end naming every one above the tolerance.
#[derive(Default)]
struct Check {
    /// (what, max abs error, max |reference|)
    rows: Vec<(String, f32, f32)>,
}

impl Check {
    fn cmp(&mut self, what: impl Into<String>, got: &Tensor, want: &Tensor) {
        let scale = max_abs(want, &want.zeros_like().unwrap());
        self.rows.push((what.into(), max_abs(got, want), scale));
    }

    fn finish(self, case: &str) {
        let worst = self.rows.iter().max_by(|a, b| a.1.total_cmp(&b.1)).expect("some comparisons");
        println!(
            "{case}: {} comparisons, max abs error {:.2e} ({}, max |reference| {:.2e})",
            self.rows.len(),
            worst.1,
            worst.0,
            worst.2
        );
        let bad: Vec<String> = self
            .rows
            .iter()
            .filter(|r| r.1.is_nan() || r.1 > TOL * r.2.max(1.0))
            .map(|(n, e, s)| format!("{n}: {e:.3e} (max |reference| {s:.2e})"))
            .collect();
        assert!(bad.is_empty(), "{case}: above {TOL}: {}", bad.join(", "));
    }
}

fn check_model(case: &str) {
    let (t, meta) = reference(&format!("{case}.safetensors"));
    let arch: ArchConfig = serde_json::from_str(&meta["arch_config"]).unwrap();
    let input_shape: [usize; 3] = serde_json::from_str(&meta["input_shape"]).unwrap();
    let classes: usize = meta["classes"].parse().unwrap();
    let spec = NetworkSpec {
        arch,
        classes: (0..classes).map(|k| format!("c{k}")).collect(),
        input_shape,
        mean: vec![0.0; input_shape[0]],
        std: vec![1.0; input_shape[0]],
    };
    let weights: HashMap<String, Tensor> =
        t.iter().filter_map(|(k, v)| k.strip_prefix("w.").map(|n| (n.to_string(), v.clone()))).collect();
    // Strict: every PyTorch state_dict entry is a weight of ours and vice versa.
    let net = Network::from_tensors(spec, weights, &Device::Cpu).unwrap();
    let (x, y) = (&t["x"], &t["y"]);
    let mut check = Check::default();

    let (f, logits) = net.forward_with_features(x, false).unwrap();
    check.cmp("eval logits", &logits, &t["eval.logits"]);
    check.cmp("eval features", &f, &t["eval.features"]);

    let xv = Var::from_tensor(x).unwrap();
    let (f, logits) = net.forward_with_features(xv.as_tensor(), true).unwrap();
    let loss = cross_entropy(&logits, y, 0.0).unwrap();
    check.cmp("train logits", &logits, &t["train.logits"]);
    check.cmp("train features", &f, &t["train.features"]);
    check.cmp("train loss", &loss.reshape(1).unwrap(), &t["train.loss"]);
    let grads = loss.backward().unwrap();
    check.cmp("input gradient", grads.get(xv.as_tensor()).unwrap(), &t["grad_input"]);
    for (name, var) in net.trainable_vars() {
        let g = grads.get(var.as_tensor()).unwrap_or_else(|| panic!("no gradient for {name}"));
        check.cmp(format!("grad {name}"), g, &t[&format!("grad.{name}")]);
    }

    let sgd =
        OptimizerConfig::Sgd(SgdConfig { lr: 0.1, momentum: 0.9, dampening: 0.0, nesterov: true, weight_decay: 5e-4 });
    let mut opt = Optimizer::new(sgd, net.trainable_vars()).unwrap();
    opt.step(&grads, 0.1).unwrap();
    for (name, var) in net.named_vars() {
        let want = &t[&format!("after.{name}")];
        if name.ends_with("num_batches_tracked") {
            assert_eq!(var.as_tensor().to_scalar::<i64>().unwrap(), want.to_scalar::<i64>().unwrap(), "{name}");
        } else {
            check.cmp(format!("after step {name}"), var.as_tensor(), want);
        }
    }
    check.finish(case);
}

#[test]
fn resnet18_cifar_matches_pytorch() {
    check_model("resnet18_cifar");
}

#[test]
fn resnet18_imagenet_stem_matches_pytorch() {
    check_model("resnet18_imagenet");
}

#[test]
fn allcnn_matches_pytorch() {
    check_model("allcnn");
}

#[test]
fn vit_matches_pytorch() {
    check_model("vit");
}

#[test]
fn small_cnn_matches_pytorch() {
    check_model("small_cnn");
}

#[test]
fn mlp_matches_pytorch() {
    check_model("mlp");
}

#[test]
fn optimizers_match_pytorch() {
    let (t, meta) = reference("optim.safetensors");
    for name in ["sgd", "sgd_momentum", "sgd_nesterov", "adam", "adamw"] {
        let cfg: OptimizerConfig = serde_json::from_str(&meta[name]).unwrap();
        let lr = cfg.lr();
        let p = Var::from_tensor(&t["p0"]).unwrap();
        let mut opt = Optimizer::new(cfg, vec![("p".into(), p.clone())]).unwrap();
        let mut check = Check::default();
        for step in 0..3 {
            // d/dp sum(p * g) = g: feeds the stored gradient through candle's autograd.
            let g = t["grads"].get(step).unwrap();
            let grads = (p.as_tensor() * &g).unwrap().sum_all().unwrap().backward().unwrap();
            opt.step(&grads, lr).unwrap();
            check.cmp(format!("step {}", step + 1), p.as_tensor(), &t[&format!("{name}.p{}", step + 1)]);
        }
        check.finish(name);
    }
}

#[test]
fn losses_match_pytorch() {
    let (t, _) = reference("loss.safetensors");
    let mut check = Check::default();
    for (name, eps) in [("ce", 0.0), ("ce_smooth", 0.1)] {
        let lv = Var::from_tensor(&t["logits"]).unwrap();
        let loss = cross_entropy(lv.as_tensor(), &t["y"], eps).unwrap();
        check.cmp(format!("{name} value"), &loss.reshape(1).unwrap(), &t[&format!("{name}.value")]);
        let grads = loss.backward().unwrap();
        check.cmp(format!("{name} gradient"), grads.get(lv.as_tensor()).unwrap(), &t[&format!("{name}.grad")]);
    }
    check.cmp("per-sample", &per_sample_cross_entropy(&t["logits"], &t["y"]).unwrap(), &t["per_sample"]);
    check.cmp("kl t=2", &kl_to_teacher(&t["logits"], &t["teacher"], 2.0).unwrap(), &t["kl_t2"]);
    check.finish("losses");

    // f64 cross-entropy of confident logits, relative error (the values are ~1e-5).
    let logits = t["confident.logits"].to_vec2::<f32>().unwrap();
    let labels = t["confident.y"].to_vec1::<u32>().unwrap();
    let want = t["confident.ce_f64"].to_vec1::<f64>().unwrap();
    for ((row, &y), &w) in logits.iter().zip(&labels).zip(&want) {
        let got = cross_entropy_f64(row, y as usize);
        let rel = (got - w).abs() / w;
        println!("f64 cross-entropy {w:.6e}: relative error {rel:.1e}");
        assert!(rel < 1e-12, "cross-entropy {got} vs {w}");
    }
}

#[test]
fn schedules_match_pytorch() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/reference/schedule.json");
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let total = v["total_steps"].as_u64().unwrap();
    let per_epoch = v["steps_per_epoch"].as_u64().unwrap();
    let lr = v["lr"].as_f64().unwrap();
    for name in ["step", "cosine", "one-cycle"] {
        let schedule: Schedule = serde_json::from_value(v[name]["schedule"].clone()).unwrap();
        let want: Vec<f64> = serde_json::from_value(v[name]["lrs"].clone()).unwrap();
        let worst =
            (0..total).map(|s| (schedule.lr(lr, s, per_epoch, total) - want[s as usize]).abs()).fold(0.0f64, f64::max);
        println!("schedule {name}: max abs error {worst:.2e}");
        assert!(worst < 1e-9, "schedule {name}: max abs error {worst}");
    }
}

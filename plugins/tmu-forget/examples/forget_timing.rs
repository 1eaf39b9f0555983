//! Times every unlearning stage on digits-sized data and prints the accuracies it reaches:
//! `cargo run --release -p tmu-forget --example forget_timing`.
//!
//! The embedded 8x8 digits (1,797 images) split 3:1 by position; the forget set is 10% of
//! class 3's training samples; original and gold are small CNNs (SGD 0.05, cosine, 8 epochs,
//! batch 64); forget.tmu gets the exact generalization labels (the gold model's correctness on
//! the forget set), so its numbers are the method's ceiling, not a prediction's.

use std::path::Path;
use std::time::Instant;

use tmu_nn::candle::Device;
use tmu_nn::models::SmallCnnConfig;
use tmu_nn::optim::{Schedule, SgdConfig};
use tmu_nn::{
    ArchConfig, DeviceData, Network, NetworkSpec, NoObserver, OptimizerConfig, TrainConfig, TrainOptions, fit, predict,
};
use tmu_plugin::artifact::{Dataset, DatasetMeta, Labels};
use tmu_plugin::{ArtifactKind, Inputs};
use tmu_test_support::{RecordingHost, RunOptions, config, run_stage_with};

/// `datasets/digits/digits.bin` (65-byte records: label, 64 pixels 0..16), every 4th sample a
/// test sample.
fn digits() -> (Dataset, Dataset) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/digits/digits.bin");
    let bytes = std::fs::read(path).expect("the embedded digits");
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    for r in bytes.chunks_exact(65) {
        labels.push(u32::from(r[0]));
        images.extend(r[1..].iter().map(|&v| ((u32::from(v) * 255 + 8) / 16) as u8));
    }
    let n = labels.len();
    let meta = DatasetMeta {
        classes: (0..10).map(|d| d.to_string()).collect(),
        mean: vec![0.3],
        std: vec![0.37],
        source: "digits".into(),
        ..DatasetMeta::default()
    };
    let all = Dataset::new(images, [n, 1, 8, 8], labels, (0..n as u64).collect(), meta).unwrap();
    let (test, train): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 4 == 0);
    (all.subset(&train), all.subset(&test))
}

fn train_small_cnn(data: &Dataset, path: &Path) -> f64 {
    let net =
        Network::new(NetworkSpec::for_dataset(ArchConfig::SmallCnn(SmallCnnConfig::default()), data), &Device::Cpu, 0)
            .unwrap();
    let cfg = TrainConfig {
        epochs: 8,
        batch_size: 64,
        optimizer: OptimizerConfig::Sgd(SgdConfig { lr: 0.05, ..SgdConfig::default() }),
        schedule: Schedule::Cosine { min_lr: 0.0 },
        ..TrainConfig::default()
    };
    let started = Instant::now();
    let d = DeviceData::new(data, &Device::Cpu).unwrap();
    fit(&net, &d, &cfg, &TrainOptions { seed: 1, ..Default::default() }, &mut NoObserver).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    net.save(path).unwrap();
    seconds
}

fn correct(model: &Path, data: &Dataset) -> Vec<bool> {
    let net = Network::load(model, &Device::Cpu).unwrap();
    predict(&net, &DeviceData::new(data, &Device::Cpu).unwrap(), 512, false).unwrap().correct()
}

fn acc(model: &Path, data: &Dataset) -> f64 {
    let c = correct(model, data);
    100.0 * c.iter().filter(|x| **x).count() as f64 / c.len() as f64
}

fn main() {
    let (train, test) = digits();
    let class3: Vec<usize> = (0..train.len()).filter(|&i| train.labels[i] == 3).collect();
    let n_forget = (class3.len() as f64 * 0.1).round() as usize;
    let forget_pos: Vec<usize> = class3.iter().step_by(class3.len() / n_forget).take(n_forget).copied().collect();
    let retain_pos: Vec<usize> = (0..train.len()).filter(|i| !forget_pos.contains(i)).collect();
    let (retain, forget) = (train.subset(&retain_pos), train.subset(&forget_pos));
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(format!("{name}.safetensors"));
    retain.write(&p("retain")).unwrap();
    forget.write(&p("forget")).unwrap();
    let original_s = train_small_cnn(&train, &p("original"));
    let gold_s = train_small_cnn(&retain, &p("gold"));
    let gold_easy = correct(&p("gold"), &forget);
    Labels::easy_hard(&gold_easy, forget.ids.clone()).unwrap().write(&p("labels")).unwrap();
    let gold_forget = acc(&p("gold"), &forget);
    println!(
        "digits: retain {}, forget {} (class 3), test {}; gold calls {} forget samples hard",
        retain.len(),
        forget.len(),
        test.len(),
        gold_easy.iter().filter(|e| !**e).count()
    );
    println!("| model | stage s | compute s | retain % | forget % | test % | delta |");
    println!("|---|---|---|---|---|---|---|");
    for (name, model, s) in [("original", p("original"), original_s), ("gold (retrain)", p("gold"), gold_s)] {
        let f = acc(&model, &forget);
        println!(
            "| {name} | {s:.2} | {s:.2} | {:.1} | {f:.1} | {:.1} | {:.1} |",
            acc(&model, &retain),
            acc(&model, &test),
            (f - gold_forget).abs()
        );
    }
    let base = Inputs::default().with("model", p("original"), ArtifactKind::Model).with(
        "retain",
        p("retain"),
        ArtifactKind::Dataset,
    );
    let with_forget = base.clone().with("forget", p("forget"), ArtifactKind::Dataset);
    let with_labels = with_forget.clone().with("labels", p("labels"), ArtifactKind::Labels);
    for (kind, inputs, cfg) in [
        ("forget.tmu", &with_labels, ""),
        ("forget.tmu", &with_labels, "epochs = 20"),
        ("forget.finetune", &base, ""),
        ("forget.neggrad", &with_forget, ""),
        ("forget.random-label", &with_forget, ""),
        ("forget.bad-teacher", &with_forget, ""),
    ] {
        let started = Instant::now();
        let run = run_stage_with(
            tmu_forget::tmu_plugin(),
            kind,
            inputs.clone(),
            config(cfg),
            &RunOptions::default(),
            &RecordingHost::default(),
        );
        let stage_s = started.elapsed().as_secs_f64();
        let run = match run {
            Ok(r) => r,
            Err(e) => {
                println!("| {kind} {cfg} | failed: {} |", e.message);
                continue;
            }
        };
        let model = run.output("model");
        let (_, meta) = tmu_plugin::artifact::read_header(&model).unwrap();
        let compute: f64 = meta[tmu_nn::META_WALL_SECONDS].parse().unwrap();
        let f = acc(&model, &forget);
        println!(
            "| {kind} {cfg} | {stage_s:.2} | {compute:.2} | {:.1} | {f:.1} | {:.1} | {:.1} |",
            acc(&model, &retain),
            acc(&model, &test),
            (f - gold_forget).abs()
        );
    }
}

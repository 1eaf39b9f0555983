//! Times each feature stage on the embedded digits (1,797 8x8 images) with a seeded, untrained
//! small-cnn and mlp (the cost does not depend on the weights): DF of every sample against all
//! of them (each its own query and, excluded, reference), AF and CF of every sample.
//! Run: `cargo run --release -p tmu-features --example features_timing [-- --profile]`.

use std::time::Instant;

use tmu_nn::candle::Device;
use tmu_nn::models::{MlpConfig, SmallCnnConfig};
use tmu_nn::{ArchConfig, Network, NetworkSpec};
use tmu_plugin::artifact::{Dataset, DatasetMeta};
use tmu_plugin::{ArtifactKind, Inputs};
use tmu_test_support::{config, run_stage};

/// `datasets/digits/digits.bin` (1,797 records: the label, then 64 pixels 0-16), pixels scaled
/// to 0-255 as `dataset.digits` does (that plugin cannot be linked here: two plugin rlibs export
/// the same C symbols).
fn load_digits() -> anyhow::Result<Dataset> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../datasets/digits/digits.bin");
    let bytes = std::fs::read(&path)?;
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    for record in bytes.chunks_exact(65) {
        labels.push(u32::from(record[0]));
        images.extend(record[1..].iter().map(|&v| ((u32::from(v) * 255 + 8) / 16) as u8));
    }
    let n = labels.len();
    let mean = images.iter().map(|&v| f64::from(v) / 255.0).sum::<f64>() / images.len() as f64;
    let var = images.iter().map(|&v| (f64::from(v) / 255.0 - mean).powi(2)).sum::<f64>() / images.len() as f64;
    let meta = DatasetMeta {
        classes: (0..10).map(|d: u32| d.to_string()).collect(),
        mean: vec![mean as f32],
        std: vec![var.sqrt() as f32],
        source: "digits".into(),
        ..DatasetMeta::default()
    };
    Ok(Dataset::new(images, [n, 1, 8, 8], labels, (0..n as u64).collect(), meta)?)
}

/// User + system CPU seconds of this process so far (Linux `/proc/self/stat`, 100 ticks a
/// second; NaN elsewhere): on a shared machine, CPU time says more than wall time.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return f64::NAN };
    let fields: Vec<&str> = stat.rsplit(')').next().unwrap_or("").split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    // After the command name: state is field 0, utime field 11, stime field 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> anyhow::Result<()> {
    // `--profile`: also print where the time goes in tmu-nn's CPU kernels.
    let profile = std::env::args().any(|a| a == "--profile");
    let dir = tempfile::tempdir()?;
    let digits = load_digits()?;
    let data = dir.path().join("digits.safetensors");
    digits.write(&data)?;
    for arch in [ArchConfig::SmallCnn(SmallCnnConfig::default()), ArchConfig::Mlp(MlpConfig::default())] {
        let name = arch.name();
        let net = Network::new(NetworkSpec::for_dataset(arch, &digits), &Device::Cpu, 0)?;
        let model = dir.path().join(format!("{name}.safetensors"));
        net.save(&model)?;
        let base =
            Inputs::default().with("model", &model, ArtifactKind::Model).with("data", &data, ArtifactKind::Dataset);
        for (kind, inputs) in [
            ("features.distance", base.clone().with("reference", &data, ArtifactKind::Dataset)),
            ("features.adversarial", base.clone()),
            ("features.curriculum", base.clone()),
        ] {
            tmu_nn::ops::reset_profile();
            tmu_nn::ops::set_profiling(profile);
            let (start, cpu_start) = (Instant::now(), cpu_seconds());
            let run = run_stage(tmu_features::tmu_plugin(), kind, inputs, config(""))
                .map_err(|e| anyhow::anyhow!("{kind}: {}: {:?}", e.message, e.causes))?;
            let total = start.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - cpu_start;
            let s = &run.response.summary;
            println!(
                "{name:9} {kind:21} {total:6.3} s in all, {:6.3} s computing, {cpu:6.2} s of CPU (mean {:.4})",
                s["seconds"].as_f64().unwrap_or(f64::NAN),
                s["mean"].as_f64().unwrap_or(f64::NAN)
            );
            for k in tmu_nn::ops::profile_report() {
                println!("    {:24} {:6} calls {:7.3} s", k.name, k.calls, k.seconds);
            }
        }
    }
    Ok(())
}

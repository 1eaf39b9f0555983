//! The training engine: bit-identical reruns on CPU, resuming from a checkpoint, the NaN
//! guard, stop rules, and the caller-supplied loss.

use candle_core::{Device, Tensor};
use tmu_nn::models::{MlpConfig, SmallCnnConfig};
use tmu_nn::optim::{AdamConfig, OptimizerConfig, Schedule};
use tmu_nn::train::StopReason;
use tmu_nn::{
    ArchConfig, Augment, DeviceData, Network, NetworkSpec, NnError, NoObserver, StepOutput, StopRules, TrainConfig,
    TrainObserver, TrainOptions, fit, train_loop,
};
use tmu_test_support::{BlobsSpec, blobs};

fn data() -> tmu_plugin::artifact::Dataset {
    blobs(BlobsSpec { n: 96, classes: 3, channels: 1, size: 8, noise: 70, seed: 5, first_id: 0 })
}

fn small_cnn(seed: u64) -> Network {
    let arch = ArchConfig::SmallCnn(SmallCnnConfig { width: 4, dropout: 0.3 });
    Network::new(NetworkSpec::for_dataset(arch, &data()), &Device::Cpu, seed).unwrap()
}

/// Exercises every source of randomness and every piece of optimizer state.
fn config(epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size: 16,
        optimizer: OptimizerConfig::AdamW(AdamConfig { lr: 0.01, weight_decay: 0.01, ..AdamConfig::default() }),
        schedule: Schedule::OneCycle { pct_start: 0.3, div_factor: 25.0, final_div_factor: 1e4 },
        augment: Augment { crop_padding: 1, flip: true },
        label_smoothing: 0.1,
        ..TrainConfig::default()
    }
}

fn weights(net: &Network) -> Vec<(String, Vec<f32>)> {
    net.named_vars()
        .into_iter()
        .map(|(n, v)| {
            (n, v.as_tensor().flatten_all().unwrap().to_dtype(candle_core::DType::F32).unwrap().to_vec1().unwrap())
        })
        .collect()
}

#[test]
fn same_seed_gives_bit_identical_weights() {
    let d = DeviceData::new(&data(), &Device::Cpu).unwrap();
    let run = |init: u64, seed: u64| {
        let net = small_cnn(init);
        fit(&net, &d, &config(2), &TrainOptions { seed, ..Default::default() }, &mut NoObserver).unwrap();
        weights(&net)
    };
    let a = run(1, 2);
    assert_eq!(a, run(1, 2), "two runs with the same seeds differ");
    assert_ne!(a, run(1, 3), "the training seed has no effect");
    assert_ne!(a, run(4, 2), "the init seed has no effect");
}

/// Fails at the first step of epoch `at` (0-based), after the previous epoch's checkpoint.
struct CrashAt(usize);

impl TrainObserver for CrashAt {
    fn on_step(&mut self, p: &tmu_nn::train::StepProgress) -> tmu_nn::Result<()> {
        if p.epoch == self.0 { Err(NnError::Config("simulated crash".into())) } else { Ok(()) }
    }
}

#[test]
fn resuming_from_a_checkpoint_matches_a_straight_run() {
    let d = DeviceData::new(&data(), &Device::Cpu).unwrap();
    let straight = small_cnn(1);
    let report = fit(&straight, &d, &config(3), &TrainOptions { seed: 9, ..Default::default() }, &mut NoObserver);
    assert_eq!(report.unwrap().history.len(), 3);

    let dir = tempfile::tempdir().unwrap();
    let opts = TrainOptions { seed: 9, checkpoint_dir: Some(dir.path()), ..Default::default() };
    let first = small_cnn(1);
    let err = fit(&first, &d, &config(3), &opts, &mut CrashAt(2)).unwrap_err();
    assert!(err.to_string().contains("simulated crash"), "{err}");
    assert!(dir.path().join(tmu_nn::train::CHECKPOINT_FILE).is_file());

    // A fresh process: different initial weights, everything restored from the checkpoint.
    let resumed = small_cnn(77);
    let report = fit(&resumed, &d, &config(3), &opts, &mut NoObserver).unwrap();
    assert_eq!(report.resumed_epochs, 2);
    assert_eq!(report.history.len(), 3);
    assert_eq!(weights(&resumed), weights(&straight), "2 epochs + resume + 1 epoch differ from 3 epochs");
}

#[test]
fn checkpoints_wait_for_their_interval() {
    // At most one checkpoint a day: a crash in the third epoch leaves none, and the rerun
    // starts from scratch (and still ends where a straight run does).
    let d = DeviceData::new(&data(), &Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = TrainOptions {
        seed: 9,
        checkpoint_dir: Some(dir.path()),
        checkpoint_interval: std::time::Duration::from_secs(86_400),
        ..Default::default()
    };
    fit(&small_cnn(1), &d, &config(3), &opts, &mut CrashAt(2)).unwrap_err();
    assert!(!dir.path().join(tmu_nn::train::CHECKPOINT_FILE).exists());
    let net = small_cnn(1);
    assert_eq!(fit(&net, &d, &config(3), &opts, &mut NoObserver).unwrap().resumed_epochs, 0);
    let straight = small_cnn(1);
    fit(&straight, &d, &config(3), &TrainOptions { seed: 9, ..Default::default() }, &mut NoObserver).unwrap();
    assert_eq!(weights(&net), weights(&straight));
}

#[test]
fn a_checkpoint_of_another_run_is_ignored() {
    let d = DeviceData::new(&data(), &Device::Cpu).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let opts = TrainOptions { seed: 9, checkpoint_dir: Some(dir.path()), ..Default::default() };
    fit(&small_cnn(1), &d, &config(1), &opts, &mut NoObserver).unwrap();
    let other = TrainOptions { seed: 10, ..opts.clone() };
    let report = fit(&small_cnn(1), &d, &config(1), &other, &mut NoObserver).unwrap();
    assert_eq!(report.resumed_epochs, 0);
}

#[test]
fn a_non_finite_loss_stops_training_naming_epoch_and_step() {
    let d = DeviceData::new(&data(), &Device::Cpu).unwrap();
    let net = small_cnn(1);
    // 96 samples / 16 = 6 steps per epoch; the 9th step overall is epoch 2, step 3.
    let err = train_loop(&net, &d, &config(3), &TrainOptions::default(), &mut NoObserver, |net, b| {
        let logits = net.forward_t(b.x, true)?;
        let mut loss = tmu_nn::loss::cross_entropy(&logits, b.y, 0.0)?;
        if b.global_step == 8 {
            loss = (loss * f64::NAN)?;
        }
        Ok(StepOutput::new(loss))
    })
    .unwrap_err();
    match &err {
        NnError::NonFinite { epoch: 2, step: 3, global_step: 9, loss, .. } => assert!(loss.is_nan()),
        other => panic!("unexpected error: {other}"),
    }
    assert_eq!(err.to_string(), "training diverged: the loss is NaN at epoch 2, step 3 of the epoch (global step 9)");
}

#[test]
fn stop_rules_end_training_early() {
    let d = DeviceData::new(&data(), &Device::Cpu).unwrap();
    let base = TrainConfig { epochs: 20, batch_size: 16, sync_every: 2, ..TrainConfig::default() };

    let cfg = TrainConfig { stop: StopRules { max_steps: Some(7), ..StopRules::default() }, ..base.clone() };
    let report = fit(&small_cnn(1), &d, &cfg, &TrainOptions::default(), &mut NoObserver).unwrap();
    assert_eq!((report.steps, report.stopped_by), (7, StopReason::MaxSteps));

    let cfg = TrainConfig { stop: StopRules { train_accuracy: Some(0.6), ..StopRules::default() }, ..base };
    let net = small_cnn(1);
    let report = fit(&net, &d, &cfg, &TrainOptions::default(), &mut NoObserver).unwrap();
    assert_eq!(report.stopped_by, StopReason::TrainAccuracy);
    assert!(report.steps < 120, "took all {} steps", report.steps);
    // Judged on the whole training set in eval mode: what the stopped model scores there.
    let (acc, samples) = report.stop_accuracy.expect("the rule measured");
    assert_eq!(samples, 96);
    assert!(acc >= 0.6, "{acc}");
    assert_eq!(acc, tmu_nn::evaluate(&net, &d, 64).unwrap());
}

#[test]
fn the_accuracy_rule_measures_a_fixed_sample_in_eval_mode_with_any_loss() {
    // A loss that returns no logits: the rule measures accuracy itself, so it still works.
    let ds = blobs(BlobsSpec { n: 300, classes: 3, channels: 1, size: 8, noise: 70, seed: 6, first_id: 0 });
    let d = DeviceData::new(&ds, &Device::Cpu).unwrap();
    let stop = StopRules { train_accuracy: Some(0.7), accuracy_samples: Some(120), ..StopRules::default() };
    let cfg = TrainConfig { epochs: 20, batch_size: 16, sync_every: 1, stop, ..TrainConfig::default() };
    let arch = ArchConfig::Mlp(MlpConfig { hidden: vec![16], dropout: 0.5 });
    let run = || {
        let net = Network::new(NetworkSpec::for_dataset(arch.clone(), &ds), &Device::Cpu, 3).unwrap();
        let report =
            train_loop(&net, &d, &cfg, &TrainOptions { seed: 4, ..Default::default() }, &mut NoObserver, |net, b| {
                Ok(StepOutput::new(tmu_nn::loss::cross_entropy(&net.forward_t(b.x, true)?, b.y, 0.0)?))
            })
            .unwrap();
        (report, net)
    };
    let (report, net) = run();
    assert_eq!(report.stopped_by, StopReason::TrainAccuracy);
    let (acc, samples) = report.stop_accuracy.expect("the rule measured");
    assert_eq!(samples, 120);
    assert!(acc >= 0.7, "{acc}");
    // The sample is 120 of the 300 samples, the same in every run.
    assert_eq!(run().0.steps, report.steps);
    let full = tmu_nn::evaluate(&net, &d, 64).unwrap();
    assert!((full - acc).abs() < 0.15, "sample {acc} vs all {full}");
    // Too small a sample is refused.
    let bad = TrainConfig { stop: StopRules { accuracy_samples: Some(10), ..cfg.stop.clone() }, ..cfg.clone() };
    assert!(bad.validate().unwrap_err().to_string().contains("stop.accuracy_samples = 10"));
}

#[test]
fn a_custom_loss_sees_positions_and_can_use_per_sample_targets() {
    // Every sample gets a fixed wrong label (y + 1) mod C, looked up by position on the device.
    let ds = data();
    let d = DeviceData::new(&ds, &Device::Cpu).unwrap();
    let wrong: Vec<u32> = ds.labels.iter().map(|l| (l + 1) % 3).collect();
    let wrong = Tensor::new(wrong.as_slice(), &Device::Cpu).unwrap();
    let arch = ArchConfig::Mlp(MlpConfig { hidden: vec![32], dropout: 0.0 });
    let net = Network::new(NetworkSpec::for_dataset(arch, &ds), &Device::Cpu, 0).unwrap();
    let mut seen = vec![0usize; ds.len()];
    let cfg = TrainConfig { epochs: 30, batch_size: 32, ..TrainConfig::default() };
    train_loop(&net, &d, &cfg, &TrainOptions::default(), &mut NoObserver, |net, b| {
        for &i in b.indices {
            seen[i as usize] += 1;
        }
        let target = wrong.index_select(b.index, 0)?;
        Ok(StepOutput::new(tmu_nn::loss::cross_entropy(&net.forward_t(b.x, true)?, &target, 0.0)?))
    })
    .unwrap();
    assert!(seen.iter().all(|&s| s == 30), "every sample once per epoch");
    let p = tmu_nn::predict(&net, &d, 64, false).unwrap();
    let fooled = p.predicted().iter().zip(&ds.labels).filter(|(p, l)| **p == (*l + 1) % 3).count();
    assert!(fooled as f64 > 0.9 * ds.len() as f64, "{fooled} of {} learned the wrong labels", ds.len());
}

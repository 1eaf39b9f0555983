//! The training machinery every unlearning stage shares: the optimizer settings as a
//! `TrainConfig`, `tmu_nn::train_loop` with the stage's context as observer and checkpoints in
//! its work folder, and the training summary written to metrics.

use anyhow::Result;
use serde_json::json;
use tmu_nn::optim::{AdamConfig, SgdConfig};
use tmu_nn::{
    Batch, DeviceData, Network, OptimizerConfig, StepOutput, StopReason, TrainConfig, TrainOptions, TrainReport,
    train_loop,
};
use tmu_plugin::Context;

/// SGD with momentum and L2 weight decay, constant learning rate, no augmentation.
pub fn sgd_config(lr: f64, momentum: f64, weight_decay: f64, batch_size: usize, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size,
        optimizer: OptimizerConfig::Sgd(SgdConfig { lr, momentum, weight_decay, ..SgdConfig::default() }),
        ..TrainConfig::default()
    }
}

/// SGD with momentum and L2 weight decay (PyTorch's `torch.optim.SGD`).
pub fn sgd_optimizer(lr: f64, momentum: f64, weight_decay: f64) -> OptimizerConfig {
    OptimizerConfig::Sgd(SgdConfig { lr, momentum, weight_decay, ..SgdConfig::default() })
}

/// Adam with L2 weight decay added to the gradient (PyTorch's `torch.optim.Adam`).
pub fn adam_optimizer(lr: f64, weight_decay: f64) -> OptimizerConfig {
    OptimizerConfig::Adam(AdamConfig { lr, weight_decay, ..AdamConfig::default() })
}

/// Adam (PyTorch defaults besides the learning rate), constant learning rate, no augmentation.
pub fn adam_config(lr: f64, batch_size: usize, epochs: usize) -> TrainConfig {
    TrainConfig {
        epochs,
        batch_size,
        optimizer: OptimizerConfig::Adam(AdamConfig { lr, ..AdamConfig::default() }),
        ..TrainConfig::default()
    }
}

/// Trains `net` on `data` with `loss_fn`: seeded from the stage's `train` stream, progress and
/// cancellation through `ctx`, checkpoints in the work folder (see [`train_options`]). `fingerprint` names
/// whatever else makes two runs differ (the stage's config).
pub fn train<F>(
    ctx: &mut Context,
    net: &Network,
    data: &DeviceData,
    cfg: &TrainConfig,
    fingerprint: String,
    loss_fn: F,
) -> Result<TrainReport>
where
    F: FnMut(&Network, Batch<'_>) -> tmu_nn::Result<StepOutput>,
{
    let work_dir = ctx.work_dir().to_path_buf();
    let opts = train_options(ctx, &work_dir, &fingerprint);
    Ok(train_loop(net, data, cfg, &opts, ctx, loss_fn)?)
}

/// The stage's training options: seeded from its `train` stream, checkpoints in `work_dir` (at
/// most one per `STAGE_CHECKPOINT_INTERVAL`), the stage kind and `fingerprint` in the checkpoint
/// fingerprint.
pub fn train_options<'a>(ctx: &Context, work_dir: &'a std::path::Path, fingerprint: &str) -> TrainOptions<'a> {
    TrainOptions {
        seed: ctx.seed_for("train"),
        checkpoint_dir: Some(work_dir),
        checkpoint_interval: tmu_nn::train::STAGE_CHECKPOINT_INTERVAL,
        fingerprint_extra: format!("{}|{fingerprint}", ctx.kind()),
    }
}

/// The training run as metrics: steps, why it stopped, and every epoch's statistics.
pub fn training_json(report: &TrainReport) -> serde_json::Value {
    let stopped_by = match report.stopped_by {
        StopReason::Epochs => "epochs",
        StopReason::TrainAccuracy => "train-accuracy",
        StopReason::MaxSteps => "max-steps",
        StopReason::Observer => "observer",
    };
    json!({
        "steps": report.steps,
        "epochs": report.history.len(),
        "stopped_by": stopped_by,
        "resumed_epochs": report.resumed_epochs,
        "final_loss": report.last().map(|e| e.loss),
        "final_train_accuracy": report.last().and_then(|e| e.accuracy),
        "history": report.history,
    })
}

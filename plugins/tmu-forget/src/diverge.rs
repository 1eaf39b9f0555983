//! Training that may diverge on purpose (unbounded gradient ascent): keep the weights of the
//! last finite epoch instead of failing the stage, and say where it diverged.

use anyhow::Result;
use serde::{Deserialize, Serialize};
use tmu_nn::train::StepProgress;
use tmu_nn::{
    Batch, Control, DeviceData, EpochStats, Network, NnError, StepOutput, TrainConfig, TrainObserver, TrainOptions,
    TrainReport, train_loop,
};
use tmu_plugin::Context;

/// What a stage does when its loss becomes NaN or infinite.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnDivergence {
    /// Keep the weights of the last epoch whose loss stayed finite (the original model if the
    /// first epoch diverged), warn, and record where it diverged.
    #[default]
    KeepLastEpoch,
    /// Stop the stage with an error.
    Fail,
}

/// Where training diverged.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Divergence {
    pub epoch: usize,
    pub step: usize,
    pub global_step: u64,
    /// Epochs whose weights were kept.
    pub kept_epochs: usize,
}

/// Forwards to the stage context and keeps a copy of the weights after every finite epoch.
struct Snapshots<'c, 'h> {
    ctx: &'c mut Context<'h>,
    last: Network,
    kept_epochs: usize,
}

impl TrainObserver for Snapshots<'_, '_> {
    fn on_step(&mut self, p: &StepProgress) -> tmu_nn::Result<()> {
        self.ctx.on_step(p)
    }

    fn on_epoch(&mut self, net: &Network, stats: &EpochStats) -> tmu_nn::Result<Control> {
        let control = self.ctx.on_epoch(net, stats)?;
        self.last.copy_weights_from(net)?;
        self.kept_epochs += 1;
        Ok(control)
    }

    fn log(&mut self, message: &str) {
        TrainObserver::log(self.ctx, message);
    }
}

/// `train_loop` with the stage as observer; on divergence and [`OnDivergence::KeepLastEpoch`],
/// `net` is reset to the last finite epoch and the divergence is returned next to no report.
pub fn train_allowing_divergence<F>(
    ctx: &mut Context,
    net: &Network,
    data: &DeviceData,
    cfg: &TrainConfig,
    opts: &TrainOptions,
    on_divergence: OnDivergence,
    loss_fn: F,
) -> Result<(Option<TrainReport>, Option<Divergence>)>
where
    F: FnMut(&Network, Batch<'_>) -> tmu_nn::Result<StepOutput>,
{
    let last = net.clone_to(net.device())?;
    let mut observer = Snapshots { ctx, last, kept_epochs: 0 };
    match train_loop(net, data, cfg, opts, &mut observer, loss_fn) {
        Ok(report) => Ok((Some(report), None)),
        Err(NnError::NonFinite { epoch, step, global_step, .. }) if on_divergence == OnDivergence::KeepLastEpoch => {
            net.copy_weights_from(&observer.last)?;
            let kept_epochs = observer.kept_epochs;
            observer.ctx.warn(format!(
                "training diverged at epoch {epoch}, step {step}; kept the weights after {kept_epochs} finite epoch(s)"
            ));
            Ok((None, Some(Divergence { epoch, step, global_step, kept_epochs })))
        }
        Err(e) => Err(e.into()),
    }
}

//! The training loop of the baselines whose epochs run several passes with one optimizer
//! (SCRUB: a pass over D_f, then one over D_r; SalUn: random labels on D_f, then D_r), a
//! learning rate set per epoch, gradients scaled per weight, or a hook after every step: epochs
//! of phases, each phase a seeded shuffle of its own data set in its own batch size.
//!
//! `tmu_nn::train_loop` takes one data set and one schedule; these methods need more, and they
//! are short, so this loop keeps no checkpoints (a killed stage starts again). Like
//! `forget.neggrad`, a loss that becomes NaN or infinite keeps the weights of the last finite
//! epoch and reports where it diverged instead of failing the stage.

use std::time::Instant;

use anyhow::Result;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use tmu_nn::candle::{Tensor, Var};
use tmu_nn::train::StepProgress;
use tmu_nn::{DeviceData, EpochStats, Network, Optimizer, OptimizerConfig, StepOutput, TrainObserver};
use tmu_plugin::{Context, derive_seed};

/// One pass per epoch over `data` in batches of `batch_size`.
pub struct Phase<'d> {
    pub name: &'static str,
    pub data: &'d DeviceData,
    pub batch_size: usize,
    /// The phase runs in the first `epochs` epochs only (`None`: in every epoch).
    pub epochs: Option<usize>,
}

impl Phase<'_> {
    fn runs_in(&self, epoch: usize) -> bool {
        self.epochs.is_none_or(|n| epoch < n)
    }
}

/// One batch as the loss function sees it.
pub struct PhaseBatch<'a> {
    /// Index of the phase in the list given to [`train_phases`].
    pub phase: usize,
    /// 0-based epoch.
    pub epoch: usize,
    /// 0-based step within the phase's pass.
    pub step: usize,
    /// Positions of the samples in the phase's data set.
    pub index: &'a Tensor,
    /// Normalised inputs `[B, C, H, W]` and labels u32 `[B]`.
    pub x: &'a Tensor,
    pub y: &'a Tensor,
    /// Seeded per phase and epoch, for the loss's own randomness (random labels).
    pub rng: &'a mut ChaCha8Rng,
}

/// What happens around each optimizer step besides the loss.
#[derive(Default)]
pub struct StepHooks<'h> {
    /// Each listed parameter's gradient is multiplied element-wise by its tensor before the
    /// optimizer step (a 0/1 mask, or per-weight learning-rate factors).
    pub grad_scale: Vec<(Var, Tensor)>,
    /// Runs after every optimizer step (e.g. puts frozen weights back).
    pub after_step: Option<Box<dyn FnMut() -> tmu_nn::Result<()> + 'h>>,
}

/// The mean loss and the size of one phase's pass in one epoch.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseEpoch {
    pub epoch: usize,
    pub phase: &'static str,
    pub steps: usize,
    pub samples: usize,
    pub loss: f64,
    pub lr: f64,
}

/// Where training diverged: the epoch (1-based) whose loss was not finite, and how many epochs'
/// weights were kept.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhasedDivergence {
    pub epoch: usize,
    pub phase: &'static str,
    pub kept_epochs: usize,
}

/// The outcome of [`train_phases`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhasedReport {
    pub history: Vec<PhaseEpoch>,
    pub steps: u64,
    /// Samples through forward and backward over every phase (the loss function's extra passes
    /// are the caller's to count).
    pub train_samples: u64,
    pub diverged: Option<PhasedDivergence>,
}

/// A permutation of `0..n` (Fisher-Yates).
fn shuffled(n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    order
}

/// Batches of `batch_size` in `order`; a last batch of one sample is dropped (batch norm cannot
/// normalise it), as `tmu_nn::train_loop` does.
fn batches(order: &[u32], batch_size: usize) -> Vec<&[u32]> {
    order.chunks(batch_size.max(1)).filter(|c| c.len() > 1 || order.len() == 1).collect()
}

/// Trains `net` for `epochs` epochs; in each, the phases that run in it, in order. Every batch
/// goes through `loss_fn` (the network is to be run in train mode), backward, the hooks' gradient
/// scales, one step of `optimizer` at `lr_at(epoch)` and the hooks' `after_step`. Shuffles and
/// batch generators derive from `seed`.
#[allow(clippy::too_many_arguments)]
pub fn train_phases<F>(
    ctx: &mut Context,
    net: &Network,
    phases: &[Phase],
    epochs: usize,
    optimizer: OptimizerConfig,
    lr_at: &dyn Fn(usize) -> f64,
    seed: u64,
    mut hooks: StepHooks,
    mut loss_fn: F,
) -> Result<PhasedReport>
where
    F: FnMut(&Network, PhaseBatch<'_>) -> tmu_nn::Result<StepOutput>,
{
    let mut opt = Optimizer::new(optimizer, net.trainable_vars())?;
    let count = |p: &Phase| batches(&(0..p.data.len() as u32).collect::<Vec<_>>(), p.batch_size).len() as u64;
    let total_steps: u64 = (0..epochs).map(|e| phases.iter().filter(|p| p.runs_in(e)).map(count).sum::<u64>()).sum();
    let last = net.clone_to(net.device())?;
    let mut report = PhasedReport { history: Vec::new(), steps: 0, train_samples: 0, diverged: None };
    'epochs: for epoch in 0..epochs {
        let started = Instant::now();
        let lr = lr_at(epoch);
        let mut epoch_losses = Vec::new();
        let mut epoch_samples = 0;
        for (k, phase) in phases.iter().enumerate().filter(|(_, p)| p.runs_in(epoch)) {
            let tag = format!("{}/{epoch}", phase.name);
            let order = shuffled(
                phase.data.len(),
                &mut ChaCha8Rng::seed_from_u64(derive_seed(seed, &format!("shuffle/{tag}"))),
            );
            let mut rng = ChaCha8Rng::seed_from_u64(derive_seed(seed, &format!("batch/{tag}")));
            let mut losses = Vec::new();
            let mut samples = 0;
            for (step, indices) in batches(&order, phase.batch_size).into_iter().enumerate() {
                ctx.on_step(&StepProgress { epoch, epochs, global_step: report.steps, total_steps })?;
                let index = phase.data.index_tensor(indices)?;
                let (images, y) = phase.data.gather(&index)?;
                let x = net.normalise_u8(&images)?;
                let batch = PhaseBatch { phase: k, epoch, step, index: &index, x: &x, y: &y, rng: &mut rng };
                let out = loss_fn(net, batch)?;
                let mut grads = out.loss.backward()?;
                for (var, scale) in &hooks.grad_scale {
                    if let Some(g) = grads.get(var.as_tensor()) {
                        let scaled = g.mul(scale)?;
                        grads.insert(var.as_tensor(), scaled);
                    }
                }
                opt.step(&grads, lr)?;
                if let Some(after) = hooks.after_step.as_mut() {
                    after()?;
                }
                losses.push(out.loss.detach());
                samples += indices.len();
                report.steps += 1;
            }
            report.train_samples += samples as u64;
            epoch_samples += samples;
            let values: Vec<f32> =
                if losses.is_empty() { Vec::new() } else { Tensor::stack(&losses, 0)?.to_vec1::<f32>()? };
            if values.iter().any(|l| !l.is_finite()) {
                net.copy_weights_from(&last)?;
                ctx.warn(format!(
                    "the loss became non-finite in epoch {} ({} pass); kept the weights after {epoch} finite epoch(s)",
                    epoch + 1,
                    phase.name
                ));
                report.diverged = Some(PhasedDivergence { epoch: epoch + 1, phase: phase.name, kept_epochs: epoch });
                break 'epochs;
            }
            let mean = values.iter().map(|&l| f64::from(l)).sum::<f64>() / values.len().max(1) as f64;
            epoch_losses.push(mean);
            report.history.push(PhaseEpoch {
                epoch: epoch + 1,
                phase: phase.name,
                steps: values.len(),
                samples,
                loss: mean,
                lr,
            });
        }
        last.copy_weights_from(net)?;
        let stats = EpochStats {
            epoch: epoch + 1,
            steps: report.history.iter().filter(|h| h.epoch == epoch + 1).map(|h| h.steps).sum(),
            samples: epoch_samples,
            loss: epoch_losses.last().copied().unwrap_or(f64::NAN),
            accuracy: None,
            lr,
            seconds: started.elapsed().as_secs_f64(),
        };
        ctx.on_epoch(net, &stats)?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_drop_only_a_last_single_sample() {
        let order: Vec<u32> = (0..10).collect();
        let b = batches(&order, 3);
        assert_eq!(b.iter().map(|c| c.len()).collect::<Vec<_>>(), [3, 3, 3]);
        assert_eq!(batches(&order, 4).iter().map(|c| c.len()).collect::<Vec<_>>(), [4, 4, 2]);
        assert_eq!(batches(&[7], 4).len(), 1, "a one-sample data set still makes a batch");
    }

    #[test]
    fn shuffles_are_permutations_and_seeded() {
        let a = shuffled(50, &mut ChaCha8Rng::seed_from_u64(1));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<u32>>());
        assert_eq!(a, shuffled(50, &mut ChaCha8Rng::seed_from_u64(1)));
        assert_ne!(a, shuffled(50, &mut ChaCha8Rng::seed_from_u64(2)));
    }
}

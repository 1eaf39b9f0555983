//! [`train_loop`]: epochs of shuffled (and augmented) batches (built on the device for cuda data,
//! see `feed`), a caller's loss, backward, an optimizer step with the scheduled learning rate;
//! losses read from the device only every `sync_every` steps; stop rules; a checkpoint after
//! every epoch and resumption from it.

use std::path::Path;
use std::time::{Duration, Instant};

use candle_core::Tensor;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tmu_plugin::derive_seed;

use super::checkpoint::{self, Checkpoint, Resume};
use super::config::TrainConfig;
use super::feed::{EpochFeed, FedBatch};
use super::observer::{Control, EpochStats, StepProgress, TrainObserver};
use super::stop::AccuracyCheck;
use crate::data::DeviceData;
use crate::error::{NnError, Result};
use crate::loss::correct_count;
use crate::network::Network;
use crate::optim::Optimizer;

/// One batch, as the loss function sees it.
pub struct Batch<'a> {
    /// 0-based epoch.
    pub epoch: usize,
    /// 0-based step within the epoch.
    pub step: usize,
    /// Steps taken before this one in the whole run.
    pub global_step: u64,
    /// Positions of the batch's samples in the [`DeviceData`].
    pub indices: &'a [u32],
    /// The same positions, u32 `[B]` on the device (to gather per-sample tensors).
    pub index: &'a Tensor,
    /// Normalised (and augmented) inputs, f32 `[B, C, H, W]`.
    pub x: &'a Tensor,
    /// True labels, u32 `[B]`.
    pub y: &'a Tensor,
    /// Learning rate of this step.
    pub lr: f64,
    /// A generator for the loss's own randomness (e.g. input noise), seeded per epoch.
    pub rng: &'a mut ChaCha8Rng,
}

/// What the loss function returns.
pub struct StepOutput {
    /// The scalar to minimise.
    pub loss: Tensor,
    /// Logits `[B, K]` to count the running training accuracy of each epoch against `Batch::y`
    /// (the `train_accuracy` stop rule measures its own, in eval mode).
    pub logits: Option<Tensor>,
}

impl StepOutput {
    pub fn new(loss: Tensor) -> Self {
        StepOutput { loss, logits: None }
    }

    pub fn with_logits(loss: Tensor, logits: Tensor) -> Self {
        StepOutput { loss, logits: Some(logits) }
    }
}

/// Where randomness comes from and where checkpoints go.
#[derive(Clone, Debug, Default)]
pub struct TrainOptions<'a> {
    /// Seed of shuffling, augmentation, dropout and `Batch::rng` (independent streams).
    pub seed: u64,
    /// Folder for the per-epoch checkpoint (a stage passes `ctx.work_dir()`); a checkpoint of
    /// the same run found there is resumed.
    pub checkpoint_dir: Option<&'a Path>,
    /// At most one checkpoint per this much time: an epoch ends with a checkpoint when at least
    /// this long has passed since the last one (or since training started). Zero, the default,
    /// checkpoints after every epoch. A crash loses at most this much training and one epoch;
    /// the results do not depend on it (a resumed run matches a straight one bit for bit). Each
    /// checkpoint is a file written and fsynced: a model that trains an epoch in 10 ms spent more
    /// time checkpointing than training.
    pub checkpoint_interval: Duration,
    /// Anything else that makes two runs different (e.g. the loss's settings); part of the
    /// checkpoint fingerprint with the config, network spec, data size and seed.
    pub fingerprint_extra: String,
}

/// The checkpoint interval the stages use ([`TrainOptions::checkpoint_interval`]): a crash of a
/// long training loses at most about this much of it, and a short one (the digits models train
/// an epoch in milliseconds) writes one checkpoint or none instead of one per epoch.
pub const STAGE_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(30);

/// Why training ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopReason {
    /// All epochs ran.
    Epochs,
    /// `stop.train_accuracy` was reached.
    TrainAccuracy,
    /// `stop.max_steps` was reached.
    MaxSteps,
    /// The observer asked to stop.
    Observer,
}

/// The outcome of a training run.
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// Every completed epoch (including those before a resume); a stop mid-epoch adds a
    /// partial last entry.
    pub history: Vec<EpochStats>,
    /// Optimizer steps taken in total.
    pub steps: u64,
    pub stopped_by: StopReason,
    /// Epochs restored from a checkpoint.
    pub resumed_epochs: usize,
    /// The last training accuracy the `train_accuracy` stop rule measured (eval mode), and on how
    /// many samples; `None` without that rule.
    pub stop_accuracy: Option<(f64, usize)>,
}

impl TrainReport {
    pub fn last(&self) -> Option<&EpochStats> {
        self.history.last()
    }
}

/// Losses and correct counts waiting on the device.
#[derive(Default)]
struct Pending {
    losses: Vec<Tensor>,
    correct: Vec<Tensor>,
    counted: usize,
}

/// Sums since the start of the epoch.
#[derive(Default)]
struct EpochSums {
    loss: f64,
    steps: usize,
    samples: usize,
    correct: f64,
    counted: usize,
}

fn fingerprint(net: &Network, data: &DeviceData, cfg: &TrainConfig, opts: &TrainOptions) -> String {
    let text = format!(
        "{}|{}|{:?}|{}|{}",
        serde_json::to_string(cfg).unwrap_or_default(),
        serde_json::to_string(net.spec()).unwrap_or_default(),
        data.shape(),
        opts.seed,
        opts.fingerprint_extra
    );
    format!("{:016x}", derive_seed(0, &text))
}

/// A permutation of 0..n (Fisher-Yates).
pub(super) fn shuffled(n: usize, rng: &mut ChaCha8Rng) -> Vec<u32> {
    let mut order: Vec<u32> = (0..n as u32).collect();
    for i in (1..n).rev() {
        order.swap(i, rng.random_range(0..=i));
    }
    order
}

/// The batches of one epoch: `batch_size` chunks, the last one dropped when `drop_last` or
/// when it holds a single sample.
fn batches(order: &[u32], batch_size: usize, drop_last: bool) -> Vec<&[u32]> {
    order.chunks(batch_size).filter(|c| c.len() == batch_size || !(drop_last || c.len() == 1)).collect()
}

/// Trains `net` on `data`: for every batch, `loss_fn(net, batch)` (the network is to be run in
/// train mode) returns the loss; its gradient drives one optimizer step.
pub fn train_loop<F>(
    net: &Network,
    data: &DeviceData,
    cfg: &TrainConfig,
    opts: &TrainOptions,
    observer: &mut dyn TrainObserver,
    mut loss_fn: F,
) -> Result<TrainReport>
where
    F: FnMut(&Network, Batch<'_>) -> Result<StepOutput>,
{
    cfg.validate()?;
    if net.device().is_cpu() {
        // Every op allocates activation-sized buffers: reuse freed memory instead of mapping
        // fresh pages each step (process-wide, see `ops::keep_freed_memory`).
        crate::ops::keep_freed_memory();
    }
    let shape = data.shape();
    if shape[1..] != net.spec().input_shape {
        return Err(NnError::Data(format!(
            "images are {:?} (C, H, W) but the network takes {:?}",
            &shape[1..],
            net.spec().input_shape
        )));
    }
    if let Some(&l) = data.labels().iter().find(|&&l| l as usize >= net.num_classes()) {
        return Err(NnError::Data(format!("label {l} is out of range for a network of {} classes", net.num_classes())));
    }
    let batch_size = cfg.batch_size.min(data.len());
    let steps_per_epoch = batches(&(0..data.len() as u32).collect::<Vec<_>>(), batch_size, cfg.drop_last).len();
    if steps_per_epoch == 0 {
        return Err(NnError::Data(format!("{} samples make no batch of {batch_size}", data.len())));
    }
    let planned = (cfg.epochs * steps_per_epoch) as u64;
    let total_steps = cfg.stop.max_steps.map_or(planned, |m| m.min(planned));
    let base_lr = cfg.optimizer.lr();
    let mut optimizer = Optimizer::new(cfg.optimizer.clone(), net.trainable_vars())?;
    let fingerprint = fingerprint(net, data, cfg, opts);

    let mut history = Vec::new();
    let mut start_epoch = 0;
    let mut global_step = 0u64;
    if let Some(dir) = opts.checkpoint_dir {
        match checkpoint::load(dir, &fingerprint, net, &mut optimizer)? {
            Resume::Fresh => {}
            Resume::Foreign(note) => observer.log(&note),
            Resume::Resumed(record) => {
                observer.log(&format!("resuming after epoch {} of {}", record.epochs_done, cfg.epochs));
                start_epoch = record.epochs_done;
                global_step = record.global_step;
                history = record.history;
            }
        }
    }
    let resumed_epochs = start_epoch;
    let mut last_checkpoint = Instant::now();
    let mut stopped_by = StopReason::Epochs;
    let accuracy_check =
        cfg.stop.train_accuracy.map(|_| AccuracyCheck::new(data, cfg.stop.accuracy_samples, opts.seed));
    let mut stop_accuracy = None;

    'epochs: for epoch in start_epoch..cfg.epochs {
        let started = Instant::now();
        net.reseed_dropout(derive_seed(opts.seed, &format!("dropout/{epoch}")));
        let order =
            shuffled(data.len(), &mut ChaCha8Rng::seed_from_u64(derive_seed(opts.seed, &format!("shuffle/{epoch}"))));
        let aug_rng = ChaCha8Rng::seed_from_u64(derive_seed(opts.seed, &format!("augment/{epoch}")));
        let mut batch_rng = ChaCha8Rng::seed_from_u64(derive_seed(opts.seed, &format!("batch/{epoch}")));
        let epoch_batches = batches(&order, batch_size, cfg.drop_last);
        let mut feed = EpochFeed::new(data, &epoch_batches, &cfg.augment, aug_rng)?;
        let mut sums = EpochSums::default();
        let mut pending = Pending::default();
        let mut lr = base_lr;
        let mut stop_now = None;
        for (step, indices) in epoch_batches.iter().enumerate() {
            if global_step >= total_steps {
                stop_now = Some(StopReason::MaxSteps);
                break;
            }
            observer.on_step(&StepProgress { epoch, epochs: cfg.epochs, global_step, total_steps })?;
            let FedBatch { index, images: x_u8, labels: y } = feed.batch(step, indices)?;
            let x = net.normalise_u8(&x_u8)?;
            lr = cfg.schedule.lr(base_lr, global_step, steps_per_epoch as u64, total_steps);
            let batch =
                Batch { epoch, step, global_step, indices, index: &index, x: &x, y: &y, lr, rng: &mut batch_rng };
            let out = loss_fn(net, batch)?;
            let grads = out.loss.backward()?;
            optimizer.step(&grads, lr)?;
            drop(grads);
            global_step += 1;
            pending.losses.push(out.loss.detach());
            if let Some(logits) = &out.logits {
                pending.correct.push(correct_count(&logits.detach(), &y)?);
                pending.counted += indices.len();
            }
            sums.samples += indices.len();
            let last = step + 1 == epoch_batches.len() || global_step >= total_steps;
            if pending.losses.len() >= cfg.sync_every || last {
                read_out(&mut pending, &mut sums, epoch, step, global_step)?;
                if let (Some(target), Some(check)) = (cfg.stop.train_accuracy, &accuracy_check) {
                    let acc = check.accuracy(net, data)?;
                    stop_accuracy = Some((acc, check.len(data)));
                    if acc >= target {
                        observer.log(&format!(
                            "training accuracy {:.2}% (eval mode, {} samples) reached the target {:.2}% after \
                             {global_step} steps",
                            100.0 * acc,
                            check.len(data),
                            100.0 * target
                        ));
                        stop_now = Some(StopReason::TrainAccuracy);
                        break;
                    }
                }
                if global_step >= total_steps && total_steps < planned {
                    stop_now = Some(StopReason::MaxSteps);
                    break;
                }
            }
        }
        if sums.steps == 0 {
            if let Some(reason) = stop_now {
                stopped_by = reason;
            }
            break 'epochs;
        }
        let stats = EpochStats {
            epoch: epoch + 1,
            steps: sums.steps,
            samples: sums.samples,
            loss: sums.loss / sums.steps as f64,
            accuracy: (sums.counted > 0).then(|| sums.correct / sums.counted as f64),
            lr,
            seconds: started.elapsed().as_secs_f64(),
        };
        history.push(stats.clone());
        if let Some(reason) = stop_now {
            stopped_by = reason;
            break 'epochs;
        }
        if observer.on_epoch(net, &stats)? == Control::Stop {
            stopped_by = StopReason::Observer;
            break 'epochs;
        }
        if let Some(dir) = opts.checkpoint_dir
            && last_checkpoint.elapsed() >= opts.checkpoint_interval
        {
            last_checkpoint = Instant::now();
            let record = Checkpoint {
                fingerprint: fingerprint.clone(),
                epochs_done: epoch + 1,
                global_step,
                seed: opts.seed,
                history: history.clone(),
            };
            checkpoint::save(dir, &record, net, &optimizer)?;
        }
    }
    Ok(TrainReport { history, steps: global_step, stopped_by, resumed_epochs, stop_accuracy })
}

/// Reads the pending losses (one device sync), fails on a non-finite one, and adds them (and
/// the correct counts, if logits were given) to the epoch sums.
fn read_out(pending: &mut Pending, sums: &mut EpochSums, epoch: usize, step: usize, global_step: u64) -> Result<()> {
    let losses = Tensor::stack(&pending.losses, 0)?.to_vec1::<f32>()?;
    let first = step + 1 - losses.len();
    if let Some((i, &loss)) = losses.iter().enumerate().find(|(_, l)| !l.is_finite()) {
        let back = (losses.len() - i) as u64;
        return Err(NnError::NonFinite {
            epoch: epoch + 1,
            step: first + i + 1,
            global_step: global_step - back + 1,
            loss,
            advice: tmu_plugin::Advice::new(
                "lower the learning rate, add warm-up (schedule = { kind = \"one-cycle\" }) or check the input data",
            ),
        });
    }
    sums.loss += losses.iter().map(|&l| f64::from(l)).sum::<f64>();
    sums.steps += losses.len();
    if !pending.correct.is_empty() {
        sums.correct += f64::from(Tensor::stack(&pending.correct, 0)?.sum_all()?.to_scalar::<f32>()?);
        sums.counted += pending.counted;
    }
    *pending = Pending::default();
    Ok(())
}

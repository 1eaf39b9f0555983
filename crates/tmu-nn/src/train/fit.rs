//! [`fit`]: the standard classifier training, cross-entropy (with label smoothing) on the
//! network's train-mode logits.

use super::config::TrainConfig;
use super::engine::{StepOutput, TrainOptions, TrainReport, train_loop};
use super::observer::TrainObserver;
use crate::data::DeviceData;
use crate::error::Result;
use crate::loss::cross_entropy;
use crate::network::Network;

/// Trains `net` on `data` with cross-entropy; see [`train_loop`] for everything else.
pub fn fit(
    net: &Network,
    data: &DeviceData,
    cfg: &TrainConfig,
    opts: &TrainOptions,
    observer: &mut dyn TrainObserver,
) -> Result<TrainReport> {
    let smoothing = cfg.label_smoothing;
    train_loop(net, data, cfg, opts, observer, |net, batch| {
        let logits = net.forward_t(batch.x, true)?;
        let loss = cross_entropy(&logits, batch.y, smoothing)?;
        Ok(StepOutput::with_logits(loss, logits))
    })
}

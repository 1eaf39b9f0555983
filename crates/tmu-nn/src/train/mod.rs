//! The training engine: [`train_loop`] (a caller's per-batch loss) and [`fit`] (cross-entropy
//! classification) share the optimizer, schedule, shuffling, augmentation, stop rules, progress,
//! cancellation and per-epoch checkpoints.

mod checkpoint;
mod config;
mod engine;
mod feed;
mod fit;
mod observer;
mod stop;

pub use checkpoint::{CHECKPOINT_FILE, Checkpoint};
pub use config::{StopRules, TrainConfig};
pub use engine::{Batch, STAGE_CHECKPOINT_INTERVAL, StepOutput, StopReason, TrainOptions, TrainReport, train_loop};
pub use fit::fit;
pub use observer::{Control, EpochStats, NoObserver, StepProgress, TrainObserver};

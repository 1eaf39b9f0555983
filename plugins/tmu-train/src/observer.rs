//! The stage's view of training: progress and cancellation through the context, a log line
//! per epoch, and the accuracy on an optional evaluation set.

use tmu_nn::train::StepProgress;
use tmu_nn::{Control, DeviceData, EpochStats, Network, TrainObserver, evaluate};
use tmu_plugin::Context;

/// Reports to the host; evaluates on `eval` after every epoch when given.
pub(crate) struct StageObserver<'a, 'h> {
    pub ctx: &'a mut Context<'h>,
    pub eval: Option<&'a DeviceData>,
    pub eval_batch_size: usize,
    /// Accuracy on `eval` after the last epoch.
    pub eval_accuracy: Option<f64>,
}

impl TrainObserver for StageObserver<'_, '_> {
    fn on_step(&mut self, progress: &StepProgress) -> tmu_nn::Result<()> {
        self.ctx.on_step(progress)
    }

    fn on_epoch(&mut self, net: &Network, stats: &EpochStats) -> tmu_nn::Result<Control> {
        let mut line = stats.to_string();
        if let Some(eval) = self.eval {
            let acc = evaluate(net, eval, self.eval_batch_size)?;
            self.eval_accuracy = Some(acc);
            line.push_str(&format!(", eval accuracy {:.2}%", 100.0 * acc));
        }
        self.ctx.info(line);
        self.ctx.check_cancelled()?;
        Ok(Control::Continue)
    }

    fn log(&mut self, message: &str) {
        self.ctx.info(message);
    }
}

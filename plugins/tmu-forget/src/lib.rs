//! tmu-forget: the unlearning stages. `forget.tmu` is Twin Machine Unlearning's noise-perturbed
//! fine-tuning; the others are the baselines it is compared with: `forget.finetune`,
//! `forget.neggrad`, `forget.neggrad-plus`, `forget.random-label`, `forget.bad-teacher`,
//! `forget.scrub`, `forget.salun`, `forget.l1-sparse`, `forget.ssd`, `forget.msg` and
//! `forget.ct`, each with its authors' defaults.
//!
//! Every stage starts from the original model and writes the unlearned model with its cost
//! (`tmu.wall_seconds`, `tmu.train_samples`, `tmu.forward_samples`: see `tmu_nn::Cost`) and a
//! metrics file. The single-stream stages train with `tmu_nn::train_loop` (retain and forget
//! samples mixed, each treated by per-sample columns gathered on the device); the baselines that
//! alternate passes, set the learning rate per epoch or restrict updates to some weights use
//! [`phased::train_phases`]. The losses are pure functions in [`losses`]; each method's other
//! numerics (masks, Fisher information, schedules) are public functions of its module, which
//! `tests/it/baselines.rs` checks against PyTorch.

mod bad_teacher;
pub mod ct;
mod diverge;
mod evaluate;
mod finetune;
pub mod gradients;
mod io;
pub mod l1_sparse;
pub mod losses;
mod mixed;
pub mod msg;
mod neggrad;
pub mod neggrad_plus;
pub mod noise;
pub mod phased;
mod random_label;
pub mod relabel;
pub mod salun;
pub mod scrub;
pub mod ssd;
mod tmu;
mod train;

pub use bad_teacher::{BadTeacherConfig, ForgetBadTeacher};
pub use ct::{CtConfig, ForgetCt};
pub use finetune::{FinetuneConfig, ForgetFinetune};
pub use l1_sparse::{ForgetL1Sparse, L1SparseConfig};
pub use msg::{ForgetMsg, MsgConfig};
pub use neggrad::{ForgetNegGrad, NegGradConfig};
pub use neggrad_plus::{ForgetNegGradPlus, NegGradPlusConfig};
pub use random_label::{ForgetRandomLabel, RandomLabelConfig};
pub use salun::{ForgetSalun, SalunConfig};
pub use scrub::{ForgetScrub, ScrubConfig};
pub use ssd::{ForgetSsd, SsdConfig};
pub use tmu::{ForgetTmu, TmuConfig};

tmu_plugin::export_plugin!(
    ForgetTmu,
    ForgetFinetune,
    ForgetNegGrad,
    ForgetNegGradPlus,
    ForgetRandomLabel,
    ForgetBadTeacher,
    ForgetScrub,
    ForgetSalun,
    ForgetL1Sparse,
    ForgetSsd,
    ForgetMsg,
    ForgetCt
);

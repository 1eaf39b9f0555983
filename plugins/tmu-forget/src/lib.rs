//! tmu-forget: the unlearning stages. `forget.tmu` is Twin Machine Unlearning's noise-perturbed
//! fine-tuning; `forget.finetune`, `forget.neggrad`, `forget.random-label` and
//! `forget.bad-teacher` are the baselines it is compared with.
//!
//! Every stage starts from the original model, trains with `tmu_nn::train_loop` on one
//! shuffled batch stream (retain and forget samples mixed, each treated by per-sample columns
//! gathered on the device), and writes the unlearned model with its compute time
//! (`tmu.wall_seconds`) and a metrics file. The losses are pure functions in [`losses`].

mod bad_teacher;
mod defaults;
mod diverge;
mod evaluate;
mod finetune;
mod io;
pub mod losses;
mod mixed;
mod neggrad;
pub mod noise;
mod random_label;
pub mod relabel;
mod tmu;
mod train;

pub use bad_teacher::{BadTeacherConfig, ForgetBadTeacher};
pub use finetune::{FinetuneConfig, ForgetFinetune};
pub use neggrad::{ForgetNegGrad, NegGradConfig};
pub use random_label::{ForgetRandomLabel, RandomLabelConfig};
pub use tmu::{ForgetTmu, TmuConfig};

tmu_plugin::export_plugin!(ForgetTmu, ForgetFinetune, ForgetNegGrad, ForgetRandomLabel, ForgetBadTeacher);

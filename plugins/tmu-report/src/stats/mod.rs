//! Statistics for comparing methods over a sweep's points: summaries and paired tests.

mod paired;
mod special;
mod summary;

pub use paired::{Paired, compare, sign_test, wilcoxon};
pub use special::{ln_gamma, normal_two_sided, reg_inc_beta, reg_upper_gamma, t_two_sided};
pub use summary::{mean, std};

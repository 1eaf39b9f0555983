//! tmu-stats: the statistics tmu's plugins share (plugin crates cannot depend on each other).
//!
//! - quantiles bit for bit as NumPy's default linear interpolation ([`quantile()`],
//!   [`quantile_sorted`]);
//! - ROC AUC with ties as scikit-learn's `roc_auc_score` ([`auc()`]), the ROC curve as its
//!   `roc_curve` ([`roc_curve`]), the TPR at a fixed FPR (linear interpolation) and the best
//!   balanced accuracy ([`Roc`]);
//! - per-example membership inference over an ensemble of models, leave-one-model-out: U-LiRA
//!   ([`ulira`]) and the offline RMIA ([`rmia`]); ToW and ToW-MIA ([`tow`], [`tow_mia`]);
//! - the mean and the *sample* standard deviation, n - 1 in the denominator ([`mean`],
//!   [`sample_std`]);
//! - paired comparisons ([`compare`] into [`Paired`]) and their tests, as SciPy computes them:
//!   the sign test ([`sign_test`]), the paired t-test ([`paired_t_test`]) and the Wilcoxon
//!   signed-rank test ([`wilcoxon()`]), with the two-sided tails ([`t_two_sided`],
//!   [`normal_two_sided`]).
//!
//! p-values come from `statrs`' distributions (binomial, Student t, normal); nothing here
//! writes a special function by hand. Bootstrap draws come from ChaCha8 seeded by the caller
//! (or, for few clusters, are enumerated exactly). Where a statistic is undefined for the data
//! (the AUC of one class, the std of one value, a test of all-tied pairs) the answer is `None`;
//! inputs no statistic can use (NaN, mismatched lengths, an empty sample for a quantile) are a
//! [`StatsError`]. Checked against NumPy, scikit-learn and SciPy (`tests/reference/`).

mod auc;
mod cluster;
mod error;
mod membership;
mod paired;
mod quantile;
mod rank;
mod roc;
mod sign;
mod summary;
mod tails;
mod ttest;
mod wilcoxon;

pub use auc::auc;
pub use cluster::{
    ClusterBootstrap, ClusterCompare, ClusteredPaired, Interval, Resampling, Unit, cluster_bootstrap,
    cluster_bootstrap_with_draws, cluster_ids, cluster_means, compare_clustered,
};
pub use error::StatsError;
pub use membership::{RmiaSettings, Scored, normal_logpdf, rmia, tow, tow_mia, ulira};
pub use paired::{Paired, compare};
pub use quantile::{quantile, quantile_sorted};
pub use roc::{Roc, roc_curve};
pub use sign::sign_test;
pub use summary::{mean, sample_std};
pub use tails::{normal_two_sided, t_two_sided};
pub use ttest::paired_t_test;
pub use wilcoxon::{EXACT_MAX, wilcoxon};

/// A test's statistic and its two-sided p-value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestOutcome {
    pub statistic: f64,
    pub p: f64,
}

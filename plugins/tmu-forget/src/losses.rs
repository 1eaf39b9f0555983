//! The per-batch losses of the unlearning stages, as pure functions of tensors (logits, labels,
//! per-sample masks): the stages call exactly these, and `tests/it/losses.rs` checks them (values
//! and gradients) against PyTorch.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::candle::{DType, Result, Tensor};
use tmu_nn::loss::{kl_to_teacher, per_sample_cross_entropy};

/// How `forget.tmu` treats the forget samples predicted hard.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum HardTreatment {
    /// Cross-entropy against a uniformly random wrong label drawn once per sample:
    /// `CE(f(x), (y + U{1..C-1}) mod C)`.
    #[default]
    #[serde(rename = "random-label")]
    RandomLabel,
    /// Bounded gradient ascent `-λ·min(CE(f(x), y), ln C)`: stops pushing once p(y) < 1/C.
    #[serde(rename = "ascent")]
    Ascent,
}

/// The TMU loss of a mixed batch: the mean over the batch of per-sample terms, where `hard`
/// (f32 `[B]`, 1 = predicted hard) selects the treatment of each row:
/// - not hard (retain, predicted easy): `CE(logits_i, targets_i)`;
/// - hard, [`HardTreatment::RandomLabel`]: `CE(logits_i, targets_i)` (the caller put the wrong
///   label in `targets`);
/// - hard, [`HardTreatment::Ascent`]: `-ascent_weight · min(CE(logits_i, targets_i), ln K)`
///   (`targets` holds the true label).
///
/// The input noise of predicted-easy rows is applied to the inputs before the logits, not here.
pub fn tmu_loss(
    logits: &Tensor,
    targets: &Tensor,
    hard: &Tensor,
    treatment: HardTreatment,
    ascent_weight: f64,
) -> Result<Tensor> {
    let ce = per_sample_cross_entropy(logits, targets)?;
    match treatment {
        HardTreatment::RandomLabel => ce.mean_all(),
        HardTreatment::Ascent => {
            let ln_k = (logits.dim(1)? as f64).ln();
            let hard = hard.to_dtype(DType::F32)?;
            let soft = (1.0 - &hard)?;
            let ascent = ce.minimum(ln_k)?.affine(-ascent_weight, 0.0)?;
            ((ce * soft)? + (ascent * hard)?)?.mean_all()
        }
    }
}

/// Mean of `values` over the rows where `mask` (f32 `[B]`) is 1; 0 when no row is selected. Stays
/// on the device (no read-out).
fn masked_mean(values: &Tensor, mask: &Tensor) -> Result<Tensor> {
    let count = mask.sum_all()?.maximum(1.0)?;
    (values * mask)?.sum_all()?.div(&count)
}

/// How far `forget.neggrad` ascends the forget samples' loss.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AscentBound {
    /// Without bound: `−α · CE`, which grows without limit (the model collapses).
    #[default]
    #[serde(rename = "none")]
    None,
    /// The method spec's bounded ascent `−α · min(CE, ln C)`: no push once p(y) < 1/C.
    #[serde(rename = "ln-c")]
    LnC,
}

/// NegGrad with retain descent (the joint form): `mean_{retain rows} CE − α · mean_{forget rows} A`,
/// `forget` f32 `[B]` (1 = a forget sample), `A = CE` ([`AscentBound::None`]) or `min(CE, ln C)`
/// ([`AscentBound::LnC`]). A group absent from the batch contributes 0.
pub fn neggrad_loss(
    logits: &Tensor,
    labels: &Tensor,
    forget: &Tensor,
    alpha: f64,
    bound: AscentBound,
) -> Result<Tensor> {
    let ce = per_sample_cross_entropy(logits, labels)?;
    let forget = forget.to_dtype(DType::F32)?;
    let retain = (1.0 - &forget)?;
    let ascended = match bound {
        AscentBound::None => ce.clone(),
        AscentBound::LnC => ce.minimum((logits.dim(1)? as f64).ln())?,
    };
    masked_mean(&ce, &retain)? - masked_mean(&ascended, &forget)?.affine(alpha, 0.0)?
}

/// How the bad-teacher KL divergence is averaged.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum KlReduction {
    /// Sum over the batch and classes divided by B·K: PyTorch's `F.kl_div(..., reduction="mean")`,
    /// which the Bad-Teacher authors' code uses.
    #[default]
    #[serde(rename = "mean")]
    Mean,
    /// Sum divided by the batch size B (the mathematically proper mean KL per sample).
    #[serde(rename = "batchmean")]
    BatchMean,
}

/// The bad-teacher loss (Chundawat et al. 2023): for each row the teacher is the incompetent
/// one where `forget` (f32 `[B]`) is 1 and the competent one elsewhere; the loss is
/// `KL(p_teacher ‖ p_student)` at temperature `t` (softmax of logits / t), reduced by `reduction`.
pub fn bad_teacher_loss(
    student: &Tensor,
    competent: &Tensor,
    incompetent: &Tensor,
    forget: &Tensor,
    temperature: f64,
    reduction: KlReduction,
) -> Result<Tensor> {
    let (b, k) = student.dims2()?;
    let f = forget.to_dtype(DType::F32)?.reshape((b, 1))?;
    let teacher = (incompetent.detach().broadcast_mul(&f)? + competent.detach().broadcast_mul(&(1.0 - &f)?)?)?;
    let kl = kl_to_teacher(student, &teacher, temperature)?.sum_all()?;
    match reduction {
        KlReduction::Mean => kl.affine(1.0 / (b * k) as f64, 0.0),
        KlReduction::BatchMean => kl.affine(1.0 / b as f64, 0.0),
    }
}

/// NegGrad+ (Kurmanji et al. 2023): `alpha · CE(retain batch) − (1 − alpha) · CE(forget batch)`,
/// each cross-entropy the mean over its own batch.
pub fn neggrad_plus_loss(
    retain_logits: &Tensor,
    retain_labels: &Tensor,
    forget_logits: &Tensor,
    forget_labels: &Tensor,
    alpha: f64,
) -> Result<Tensor> {
    let r = per_sample_cross_entropy(retain_logits, retain_labels)?.mean_all()?;
    let f = per_sample_cross_entropy(forget_logits, forget_labels)?.mean_all()?;
    r.affine(alpha, 0.0)? - f.affine(1.0 - alpha, 0.0)?
}

/// The distillation term of SCRUB (Hinton's KD as the SCRUB code computes it):
/// `T² / B · Σ_i KL(softmax(teacher_i / T) ‖ softmax(student_i / T))`, the teacher detached.
pub fn distill_kl(student: &Tensor, teacher: &Tensor, t: f64) -> Result<Tensor> {
    let b = student.dim(0)?;
    kl_to_teacher(student, teacher, t)?.sum_all()?.affine(t * t / b as f64, 0.0)
}

/// SCRUB's min-step loss on a retain batch: `gamma · CE(student, labels) + beta ·
/// distill_kl(student, teacher)`.
pub fn scrub_min_loss(
    student: &Tensor,
    teacher: &Tensor,
    labels: &Tensor,
    gamma: f64,
    beta: f64,
    t: f64,
) -> Result<Tensor> {
    let ce = per_sample_cross_entropy(student, labels)?.mean_all()?;
    ce.affine(gamma, 0.0)? + distill_kl(student, teacher, t)?.affine(beta, 0.0)?
}

/// SCRUB's max-step loss on a forget batch: `−distill_kl(student, teacher)` (minimising it moves
/// the student away from the teacher).
pub fn scrub_max_loss(student: &Tensor, teacher: &Tensor, t: f64) -> Result<Tensor> {
    distill_kl(student, teacher, t)?.neg()
}

/// `Σ |w|` over every element of `weights`; its gradient is `sign(w)` with `sign(0) = 0`, as
/// PyTorch's `torch.linalg.norm(·, ord=1)` has it.
pub fn l1_norm(weights: &[Tensor]) -> Result<Tensor> {
    let mut total: Option<Tensor> = None;
    for w in weights {
        let term = (w * w.sign()?.detach())?.sum_all()?;
        total = Some(match total {
            Some(t) => (t + term)?,
            None => term,
        });
    }
    match total {
        Some(t) => Ok(t),
        None => tmu_nn::candle::bail!("the l1 norm of no weights"),
    }
}

/// ℓ1-sparse's weight at epoch `epoch` (0-based) of `epochs`: `alpha · (1 − epoch / epochs)`,
/// decaying linearly from `alpha` (the Unlearn-Sparse code, with no ℓ1-free final epochs).
pub fn l1_weight(alpha: f64, epoch: usize, epochs: usize) -> f64 {
    alpha * (1.0 - epoch as f64 / epochs.max(1) as f64)
}

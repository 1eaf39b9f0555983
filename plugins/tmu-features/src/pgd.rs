//! The untargeted L∞ PGD attack behind AF, in `[0, 1]` pixel space, and the KL divergence between
//! the clean and the attacked prediction.
//!
//! Each step: `x ← clip(x + step · sign(∇_x Σ_i CE(f(norm(x_i)), y_i)))`, where `clip` projects
//! onto the ε-ball around the clean image and onto `[0, 1]`; the network is in eval mode
//! (batch-norm running statistics, no dropout). Without a random start the attack begins at the
//! clean image; with one, at the clean image plus uniform noise in [-ε, ε] (clipped to `[0, 1]`)
//! drawn from a seeded host generator, so every device draws the same start.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use tmu_nn::candle::Tensor;
use tmu_nn::{Network, input_gradient};

/// The attack's budget.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pgd {
    /// L∞ radius in `[0, 1]` pixel units.
    pub epsilon: f64,
    /// Step size in `[0, 1]` pixel units.
    pub step: f64,
    pub steps: usize,
}

/// Adversarial pixels (f32 `[B, C, H, W]` in `[0, 1]`) for clean `pixels` and labels (u32 `[B]`).
/// `start` is the random-start generator, `None` for none.
pub fn pgd_attack(
    net: &Network,
    pixels: &Tensor,
    labels: &Tensor,
    pgd: &Pgd,
    start: Option<&mut ChaCha8Rng>,
) -> tmu_nn::Result<Tensor> {
    let pixels = pixels.detach();
    let lower = pixels.affine(1.0, -pgd.epsilon)?.clamp(0f32, 1f32)?;
    let upper = pixels.affine(1.0, pgd.epsilon)?.clamp(0f32, 1f32)?;
    let mut x = match start {
        None => pixels.clone(),
        Some(rng) => {
            let eps = pgd.epsilon as f32;
            let noise: Vec<f32> = (0..pixels.elem_count()).map(|_| rng.random_range(-eps..=eps)).collect();
            let noise = Tensor::from_vec(noise, pixels.shape(), pixels.device())?;
            (&pixels + noise)?.clamp(0f32, 1f32)?
        }
    };
    for _ in 0..pgd.steps {
        let (grad, _) = input_gradient(net, &x, labels)?;
        let moved = (&x + grad.sign()?.affine(pgd.step, 0.0)?)?;
        // Clamping to [max(x0 - ε, 0), min(x0 + ε, 1)] is the projection onto both boxes.
        x = moved.maximum(&lower)?.minimum(&upper)?.detach();
    }
    Ok(x)
}

/// `log softmax` of one row of logits, in f64.
fn log_softmax(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().map(|&l| f64::from(l)).fold(f64::NEG_INFINITY, f64::max);
    let lse = max + logits.iter().map(|&l| (f64::from(l) - max).exp()).sum::<f64>().ln();
    logits.iter().map(|&l| f64::from(l) - lse).collect()
}

/// KL(softmax(p_logits) ‖ softmax(q_logits)) = Σ p (log p − log q), in f64 from log-softmax
/// (terms with p = 0 contribute 0).
pub fn kl_from_logits(p_logits: &[f32], q_logits: &[f32]) -> f64 {
    let (lp, lq) = (log_softmax(p_logits), log_softmax(q_logits));
    lp.iter()
        .zip(&lq)
        .map(|(&a, &b)| {
            let p = a.exp();
            if p == 0.0 { 0.0 } else { p * (a - b) }
        })
        .sum()
}

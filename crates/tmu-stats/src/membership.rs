//! Per-example membership-inference attacks over an ensemble of models: U-LiRA (Hayes et al.,
//! arXiv 2403.01218: LiRA's Gaussian likelihood ratio with "unlearned" in place of "in") and
//! the offline RMIA (Zarifzadeh et al., ICML 2024), each with every model of the ensemble in
//! turn as the target and the Gaussians or reference models taken from the *other* models
//! (leave-one-model-out), so no target model helps calibrate the attack on itself.
//!
//! The ensemble is a matrix: `values[m][e]` is model `m`'s statistic on example `e`, and
//! `member[m][e]` says whether model `m` saw example `e` (and then unlearned it: the positive
//! class) or never trained on it (the negative class).

use crate::StatsError;

/// `log N(x; mu, sigma^2)`: the Gaussian log-density, `sigma > 0`.
pub fn normal_logpdf(x: f64, mu: f64, sigma: f64) -> f64 {
    let z = (x - mu) / sigma;
    -0.5 * z * z - sigma.ln() - 0.5 * (2.0 * std::f64::consts::PI).ln()
}

/// One attack score: target model, example, whether the target saw the example, the score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scored {
    pub model: usize,
    pub example: usize,
    pub member: bool,
    pub score: f64,
}

fn check(values: &[Vec<f64>], member: &[Vec<bool>], what: &'static str) -> Result<usize, StatsError> {
    if values.len() != member.len() {
        return Err(StatsError::LengthMismatch { what, left: values.len(), right: member.len() });
    }
    let n = values.first().map_or(0, Vec::len);
    for (v, m) in values.iter().zip(member) {
        if v.len() != n || m.len() != n {
            return Err(StatsError::LengthMismatch { what, left: n, right: v.len().min(m.len()) });
        }
        if v.iter().any(|x| x.is_nan()) {
            return Err(StatsError::NotANumber { what });
        }
    }
    Ok(n)
}

fn mean_std(x: &[f64], min_std: f64) -> (f64, f64) {
    let m = x.iter().sum::<f64>() / x.len() as f64;
    let var = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64;
    (m, var.sqrt().max(min_std))
}

/// U-LiRA scores: for every target model `j` and example `e`, a Gaussian is fitted (mean,
/// sample standard deviation with n - 1, floored at `min_std`) to the values of the other
/// models that saw `e`, and one to those of the other models that never did; the score is
/// `log N(values[j][e]; in) - log N(values[j][e]; out)`, high for "saw it". A pair whose
/// example has fewer than two other models on either side is left out.
pub fn ulira(values: &[Vec<f64>], member: &[Vec<bool>], min_std: f64) -> Result<Vec<Scored>, StatsError> {
    let n = check(values, member, "ulira")?;
    if min_std.is_nan() || min_std <= 0.0 {
        return Err(StatsError::InvalidParameter { what: "ulira min_std", value: min_std });
    }
    let mut out = Vec::new();
    for e in 0..n {
        for j in 0..values.len() {
            let side = |want: bool| -> Vec<f64> {
                (0..values.len()).filter(|&k| k != j && member[k][e] == want).map(|k| values[k][e]).collect()
            };
            let (ins, outs) = (side(true), side(false));
            if ins.len() < 2 || outs.len() < 2 {
                continue;
            }
            let (mi, si) = mean_std(&ins, min_std);
            let (mo, so) = mean_std(&outs, min_std);
            let x = values[j][e];
            let score = normal_logpdf(x, mi, si) - normal_logpdf(x, mo, so);
            out.push(Scored { model: j, example: e, member: member[j][e], score });
        }
    }
    Ok(out)
}

/// The settings of the offline RMIA.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RmiaSettings {
    /// Reference models per example (1-4 in the cheap variant).
    pub reference_models: usize,
    /// `a`: `Pr(x) = (1 + a) / 2 * mean_out(x) + (1 - a) / 2` approximates the mean over IN and
    /// OUT models from OUT models alone.
    pub a: f64,
    /// An example beats a population sample when its likelihood ratio over the sample's exceeds
    /// `gamma`.
    pub gamma: f64,
}

/// Offline RMIA scores on the probabilities of the true class: for target `j` and example `e`,
/// the reference models are the first `reference_models` other models (by index) that never saw
/// `e`; `ratio(e) = probs[j][e] / ((1 + a)/2 * mean_ref + (1 - a)/2)`. The population samples
/// (`population[m][z]`, never seen by any model) take as references the first
/// `reference_models` models other than `j`. The score is the fraction of population samples
/// `z` with `ratio(e) / ratio(z) > gamma`. A pair without a single reference model is left out.
pub fn rmia(
    probs: &[Vec<f64>],
    member: &[Vec<bool>],
    population: &[Vec<f64>],
    s: RmiaSettings,
) -> Result<Vec<Scored>, StatsError> {
    let n = check(probs, member, "rmia")?;
    if population.len() != probs.len() {
        return Err(StatsError::LengthMismatch { what: "rmia population", left: probs.len(), right: population.len() });
    }
    let nz = population.first().map_or(0, Vec::len);
    if nz == 0 || population.iter().any(|p| p.len() != nz) {
        return Err(StatsError::Empty { what: "rmia population" });
    }
    if s.reference_models == 0 {
        return Err(StatsError::InvalidParameter { what: "rmia reference_models", value: 0.0 });
    }
    if !(0.0..=1.0).contains(&s.a) {
        return Err(StatsError::InvalidParameter { what: "rmia a", value: s.a });
    }
    let px = |mean_out: f64| (1.0 + s.a) / 2.0 * mean_out + (1.0 - s.a) / 2.0;
    let mut out = Vec::new();
    for j in 0..probs.len() {
        let zrefs: Vec<usize> = (0..probs.len()).filter(|&k| k != j).take(s.reference_models).collect();
        if zrefs.is_empty() {
            continue;
        }
        let ratio_z: Vec<f64> = (0..nz)
            .map(|z| {
                let mean = zrefs.iter().map(|&k| population[k][z]).sum::<f64>() / zrefs.len() as f64;
                population[j][z] / px(mean)
            })
            .collect();
        for e in 0..n {
            let refs: Vec<usize> =
                (0..probs.len()).filter(|&k| k != j && !member[k][e]).take(s.reference_models).collect();
            if refs.is_empty() {
                continue;
            }
            let mean = refs.iter().map(|&k| probs[k][e]).sum::<f64>() / refs.len() as f64;
            let ratio_x = probs[j][e] / px(mean);
            let wins = ratio_z.iter().filter(|&&rz| ratio_x / rz > s.gamma).count();
            out.push(Scored { model: j, example: e, member: member[j][e], score: wins as f64 / nz as f64 });
        }
    }
    Ok(out)
}

/// ToW (Zhao et al., "What makes unlearning hard and what to do about it", NeurIPS 2024): the
/// product over forget, retain and test of `1 - |acc - acc_gold|`, accuracies as fractions (the
/// paper's `1 - |a - b| / 100` on percentages). 1 is gold's own value.
pub fn tow(acc: [f64; 3], gold: [f64; 3]) -> f64 {
    acc.iter().zip(&gold).map(|(a, g)| 1.0 - (a - g).abs()).product()
}

/// ToW-MIA: ToW with the forget term replaced by `1 - |mia - mia_gold|` (attack success rates
/// on D_f as fractions); `acc` and `gold` are the retain and test accuracies.
pub fn tow_mia(mia: f64, mia_gold: f64, acc: [f64; 2], gold: [f64; 2]) -> f64 {
    (1.0 - (mia - mia_gold).abs()) * acc.iter().zip(&gold).map(|(a, g)| 1.0 - (a - g).abs()).product::<f64>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leave_one_model_out() {
        // Example 0: models 0-2 saw it (high values), 3-5 did not.
        let values = vec![vec![3.0], vec![3.2], vec![2.9], vec![0.1], vec![-0.2], vec![0.0]];
        let member: Vec<Vec<bool>> = (0..6).map(|m| vec![m < 3]).collect();
        let scored = ulira(&values, &member, 1e-3).unwrap();
        assert_eq!(scored.len(), 6);
        assert!(scored.iter().all(|s| (s.score > 0.0) == s.member), "{scored:?}");
        // With two models on a side, leaving one out leaves one: no Gaussian, no score.
        assert!(ulira(&values[..4], &member[..4], 1e-3).unwrap().is_empty());
        assert_eq!(tow([0.5, 1.0, 0.9], [0.5, 1.0, 0.9]), 1.0);
    }
}

//! Mean and sample standard deviation (NumPy's `mean` and `std(ddof=1)`).

/// The mean; `None` for no values. NaN in, NaN out.
pub fn mean(x: &[f64]) -> Option<f64> {
    (!x.is_empty()).then(|| x.iter().sum::<f64>() / x.len() as f64)
}

/// The sample standard deviation: n - 1 in the denominator (NumPy's `std(ddof=1)`, not its
/// default `ddof=0`); `None` for fewer than two values. NaN in, NaN out.
pub fn sample_std(x: &[f64]) -> Option<f64> {
    if x.len() < 2 {
        return None;
    }
    let m = mean(x)?;
    Some((x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() - 1) as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_samples() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[1.0, 2.0, 6.0]), Some(3.0));
        assert_eq!(sample_std(&[4.0]), None);
        // Deviations -1 and 1: (1 + 1) / (2 - 1) = 2.
        assert_eq!(sample_std(&[1.0, 3.0]), Some(2f64.sqrt()));
    }
}

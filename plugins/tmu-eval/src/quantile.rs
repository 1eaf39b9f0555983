//! Quantiles by linear interpolation, bit for bit as NumPy's default (`np.quantile(x, q)`,
//! method `linear`), in f64. (tmu-predictor holds the same few lines: plugin crates cannot
//! depend on each other, as each exports the same C symbols.)

/// The `q`-quantile of `sorted` (ascending, no NaN, not empty), `0 <= q <= 1`: virtual index
/// `h = (n - 1) q`, then NumPy's `_lerp` between `sorted[floor h]` and the next value (the
/// `t >= 0.5` branch interpolates from the upper end, as NumPy does, so results match exactly).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    assert!(!sorted.is_empty(), "quantile of an empty sample");
    let n = sorted.len();
    let h = (n - 1) as f64 * q;
    let lo = h.floor();
    let gamma = h - lo;
    let i = (lo.max(0.0) as usize).min(n - 1);
    let j = (i + 1).min(n - 1);
    lerp(sorted[i], sorted[j], gamma)
}

/// The `q`-quantile of unsorted values (copied and sorted; NaN must be filtered out before).
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile_sorted(&sorted, q)
}

/// NumPy's `_lerp(a, b, t)`: `a + (b - a) t`, or `b - (b - a)(1 - t)` when `t >= 0.5`.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 { b - diff * (1.0 - t) } else { a + diff * t }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_and_midpoints() {
        let x = [3.0, 1.0, 2.0, 4.0];
        assert_eq!(quantile(&x, 0.0), 1.0);
        assert_eq!(quantile(&x, 1.0), 4.0);
        assert_eq!(quantile(&x, 0.5), 2.5);
        assert_eq!(quantile(&[7.0], 0.3), 7.0);
    }
}

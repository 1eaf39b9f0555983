//! Per-set feature scaling for the scatter: each column winsorised to [Q1 - 1.5 IQR, Q3 + 1.5 IQR]
//! (NumPy's linear-interpolation quantiles, from tmu-stats), then min-max to `[0, 1]` (a constant
//! column is 0), as the predictor sees its inputs.

use tmu_stats::quantile_sorted;

/// One column scaled; empty in, empty out; a column holding NaN has no quartiles and comes out
/// all NaN (nothing drawn).
pub fn scale_per_set(column: &[f64]) -> Vec<f64> {
    if column.is_empty() {
        return Vec::new();
    }
    let mut sorted = column.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (Ok(q1), Ok(q3)) = (quantile_sorted(&sorted, 0.25), quantile_sorted(&sorted, 0.75)) else {
        return vec![f64::NAN; column.len()];
    };
    let (lo, hi) = (q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1));
    let clipped: Vec<f64> = column.iter().map(|v| v.clamp(lo, hi)).collect();
    let min = clipped.iter().copied().fold(f64::INFINITY, f64::min);
    let max = clipped.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    clipped.iter().map(|v| if max > min { (v - min) / (max - min) } else { 0.0 }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_winsorised_then_min_maxed() {
        // NumPy: q = np.quantile([0,1,2,3,100], [.25,.75]) -> [1, 3]; IQR 2; upper fence 6, so
        // 100 is clipped to 6 and the column scales as [0, 1, 2, 3, 6] / 6.
        let s = scale_per_set(&[0.0, 1.0, 2.0, 3.0, 100.0]);
        let want = [0.0, 1.0 / 6.0, 2.0 / 6.0, 0.5, 1.0];
        assert!(s.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-12), "{s:?}");
        assert_eq!(scale_per_set(&[2.0, 2.0]), vec![0.0, 0.0]);
        assert!(scale_per_set(&[]).is_empty());
    }
}

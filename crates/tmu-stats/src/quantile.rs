//! Quantiles by linear interpolation, bit for bit as NumPy's default (`np.quantile(x, q)`,
//! method `linear`), in f64.

use crate::StatsError;

/// The `q`-quantile of `values` (any order), `0 <= q <= 1`: sorts a copy, then
/// [`quantile_sorted`]. Errors for no values, NaN among them, or `q` outside `[0, 1]`.
pub fn quantile(values: &[f64], q: f64) -> Result<f64, StatsError> {
    check_values(values)?;
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    quantile_sorted(&sorted, q)
}

/// The `q`-quantile of `sorted` (ascending), `0 <= q <= 1`: virtual index `h = (n - 1) q`,
/// then NumPy's `_lerp` between `sorted[floor h]` and the next value (the `t >= 0.5` branch
/// interpolates from the upper end, as NumPy does, so results match exactly). For several
/// levels of one sample, sort once and call this. Errors for no values, NaN among them, values
/// out of order, or `q` outside `[0, 1]`.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Result<f64, StatsError> {
    check_values(sorted)?;
    if !(0.0..=1.0).contains(&q) {
        return Err(StatsError::LevelOutOfRange { q });
    }
    if !sorted.is_sorted() {
        return Err(StatsError::NotSorted);
    }
    let n = sorted.len();
    let h = (n - 1) as f64 * q;
    let lo = h.floor();
    let gamma = h - lo;
    let i = (lo as usize).min(n - 1);
    let j = (i + 1).min(n - 1);
    Ok(lerp(sorted[i], sorted[j], gamma))
}

fn check_values(values: &[f64]) -> Result<(), StatsError> {
    if values.is_empty() {
        return Err(StatsError::Empty { what: "quantile" });
    }
    if values.iter().any(|v| v.is_nan()) {
        return Err(StatsError::NotANumber { what: "quantile" });
    }
    Ok(())
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
        assert_eq!(quantile(&x, 0.0), Ok(1.0));
        assert_eq!(quantile(&x, 1.0), Ok(4.0));
        assert_eq!(quantile(&x, 0.5), Ok(2.5));
        assert_eq!(quantile(&[7.0], 0.3), Ok(7.0));
        assert_eq!(quantile_sorted(&[1.0, 2.0, 3.0, 4.0, 5.0], 0.25), Ok(2.0));
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(quantile(&[], 0.5), Err(StatsError::Empty { what: "quantile" }));
        assert_eq!(quantile(&[1.0, f64::NAN], 0.5), Err(StatsError::NotANumber { what: "quantile" }));
        assert_eq!(quantile(&[1.0], 1.5), Err(StatsError::LevelOutOfRange { q: 1.5 }));
        assert!(matches!(quantile(&[1.0], f64::NAN), Err(StatsError::LevelOutOfRange { .. })));
        assert_eq!(quantile_sorted(&[2.0, 1.0], 0.5), Err(StatsError::NotSorted));
    }
}

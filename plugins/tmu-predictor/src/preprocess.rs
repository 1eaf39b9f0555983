//! Feature preprocessing, per set: winsorise each column to [Q1 - k IQR, Q3 + k IQR]
//! (quantiles by linear interpolation), then min-max to `[0, 1]`; a constant column scales to 0.

use serde::Serialize;

use tmu_stats::quantile_sorted;

/// What preprocessing did to one column (reported in the stages' metrics).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ColumnScaling {
    pub name: String,
    pub q1: f64,
    pub q3: f64,
    /// Winsorising bounds `q1 - k iqr` and `q3 + k iqr`.
    pub lower: f64,
    pub upper: f64,
    /// Values raised to `lower` / lowered to `upper`.
    pub clipped_low: usize,
    pub clipped_high: usize,
    /// Range of the winsorised column (what min-max maps to `[0, 1]`).
    pub min: f64,
    pub max: f64,
}

/// One column (finite values, at least one): winsorised with factor `k`, then min-max scaled;
/// computed in f64.
pub fn scale_column(values: &[f64], k: f64) -> (Vec<f64>, ColumnScaling) {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let quartile = |q| quantile_sorted(&sorted, q).expect("a non-empty column of finite values");
    let (q1, q3) = (quartile(0.25), quartile(0.75));
    let iqr = q3 - q1;
    let (lower, upper) = (q1 - k * iqr, q3 + k * iqr);
    let clipped: Vec<f64> = values.iter().map(|&v| v.clamp(lower, upper)).collect();
    let min = clipped.iter().copied().fold(f64::INFINITY, f64::min);
    let max = clipped.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let range = max - min;
    let scaled = clipped.iter().map(|&v| if range > 0.0 { (v - min) / range } else { 0.0 }).collect();
    let scaling = ColumnScaling {
        name: String::new(),
        q1,
        q3,
        lower,
        upper,
        clipped_low: values.iter().filter(|&&v| v < lower).count(),
        clipped_high: values.iter().filter(|&&v| v > upper).count(),
        min,
        max,
    };
    (scaled, scaling)
}

/// Preprocesses a row-major `[N, F]` matrix column by column (`names` has F entries); returns the
/// scaled matrix (f32, row-major) and what was done to each column. `values` must be finite
/// and N >= 1.
pub fn preprocess(values: &[f32], names: &[String], k: f64) -> (Vec<f32>, Vec<ColumnScaling>) {
    let f = names.len();
    let n = values.len() / f;
    let mut out = vec![0f32; values.len()];
    let mut scalings = Vec::with_capacity(f);
    for (j, name) in names.iter().enumerate() {
        let column: Vec<f64> = (0..n).map(|i| f64::from(values[i * f + j])).collect();
        let (scaled, mut scaling) = scale_column(&column, k);
        for (i, v) in scaled.into_iter().enumerate() {
            out[i * f + j] = v as f32;
        }
        scaling.name = name.clone();
        scalings.push(scaling);
    }
    (out, scalings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_column_scales_to_zero_and_outliers_are_clipped() {
        let (s, c) = scale_column(&[2.0, 2.0, 2.0], 1.5);
        assert_eq!(s, [0.0, 0.0, 0.0]);
        assert_eq!((c.min, c.max, c.clipped_low, c.clipped_high), (2.0, 2.0, 0, 0));
        // q1 = 2, q3 = 4 -> upper = 7: the 100 is clipped to 7, and (x - 1) / 6 scales the rest.
        let (s, c) = scale_column(&[1.0, 2.0, 3.0, 4.0, 100.0], 1.5);
        assert_eq!((c.q1, c.q3, c.upper, c.clipped_high), (2.0, 4.0, 7.0, 1));
        assert_eq!(s, [0.0, 1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0, 1.0]);
    }
}

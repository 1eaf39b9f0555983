//! The predictor's AUC and each feature's AUC against the true labels, at every point, with
//! their means and +- one standard deviation; a line marks chance (0.5).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{Figure, Slots, err, text};
use tmu_stats::{mean, sample_std};

/// AUCs by score (`predictor`, then each feature).
pub struct AucFigure {
    pub names: Vec<String>,
    /// Per score, its AUC at each point.
    pub values: Vec<Vec<f64>>,
}

impl Figure for AucFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let m = self.names.len().max(1);
        let mut chart = ChartBuilder::on(root)
            .caption("AUC against the true generalization labels", text(18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(Slots(m), 0.0..1.02)
            .map_err(err)?;
        let names = self.names.clone();
        chart
            .configure_mesh()
            .light_line_style(BLACK.mix(0.03))
            .disable_x_mesh()
            .x_label_formatter(&|x| names.get(x.round().max(0.0) as usize).cloned().unwrap_or_default())
            .x_label_style(text(13))
            .y_label_style(text(12))
            .y_desc("AUC (predictor: p(easy) for easy; features: value for hard)")
            .axis_desc_style(text(13))
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new([(-0.5, 0.5), (m as f64 - 0.5, 0.5)], BLACK.mix(0.5).stroke_width(1)))
            .map_err(err)?;
        for (i, values) in self.values.iter().enumerate() {
            let color = super::PALETTE[i % super::PALETTE.len()];
            let n = values.len().max(1) as f64;
            chart
                .draw_series(values.iter().enumerate().map(|(k, v)| {
                    let dx = if values.len() > 1 { (k as f64 / (n - 1.0) - 0.5) * 0.4 } else { 0.0 };
                    Circle::new((i as f64 + dx, *v), 3, color.mix(0.6).filled())
                }))
                .map_err(err)?;
            if let Some(mu) = mean(values) {
                let sd = sample_std(values).unwrap_or(0.0);
                chart
                    .draw_series(std::iter::once(ErrorBar::new_vertical(
                        i as f64,
                        mu - sd,
                        mu,
                        mu + sd,
                        BLACK.stroke_width(2),
                        14,
                    )))
                    .map_err(err)?;
            }
        }
        Ok(())
    }
}

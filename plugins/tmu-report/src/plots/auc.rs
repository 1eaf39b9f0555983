//! The predictor's AUC and each feature's AUC against the true labels, at every point, with
//! their means and +- one standard deviation; a line marks chance (0.5).

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{Figure, Slots, err, text};
use super::methods::draw_strip;

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
            draw_strip(&mut chart, i, values, super::PALETTE[i % super::PALETTE.len()])?;
        }
        Ok(())
    }
}

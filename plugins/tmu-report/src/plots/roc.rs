//! ROC curves of membership-inference attacks on log-log axes (the low-FPR regime a privacy
//! audit reads), with the diagonal of an attack at chance.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{Figure, err, text};

/// One attack's ROC curve (the points of `tmu_stats::roc_curve`).
pub struct RocCurve {
    pub label: String,
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    pub color: RGBColor,
    /// Drawn dashed-looking (thinner, lighter): the reference lines (gold).
    pub reference: bool,
}

/// Curves on one pair of log axes from `floor` to 1.
pub struct RocFigure {
    pub title: String,
    pub curves: Vec<RocCurve>,
    /// The smallest rate shown: rates below it (an FPR of 0) are drawn at it.
    pub floor: f64,
}

impl Figure for RocFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let lo = self.floor;
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, text(18))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(60)
            .build_cartesian_2d((lo..1.0).log_scale(), (lo..1.0).log_scale())
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(BLACK.mix(0.04))
            .x_desc("false-positive rate")
            .y_desc("true-positive rate")
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .x_label_style(text(12))
            .y_label_style(text(12))
            .axis_desc_style(text(14))
            .draw()
            .map_err(err)?;
        chart.draw_series(LineSeries::new([(lo, lo), (1.0, 1.0)], BLACK.mix(0.4).stroke_width(1))).map_err(err)?;
        for c in &self.curves {
            let style = if c.reference { c.color.mix(0.6).stroke_width(1) } else { c.color.stroke_width(2) };
            let points: Vec<(f64, f64)> = c.fpr.iter().zip(&c.tpr).map(|(&f, &t)| (f.max(lo), t.max(lo))).collect();
            let color = c.color;
            chart
                .draw_series(LineSeries::new(points, style))
                .map_err(err)?
                .label(c.label.as_str())
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .label_font(text(12))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}

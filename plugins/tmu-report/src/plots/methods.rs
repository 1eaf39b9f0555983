//! One panel per metric: each method's value at every point (spread sideways so they do not
//! hide each other) with its mean and a bar of +- one standard deviation.

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::figure::{Figure, Slots, err, text, y_range};
use tmu_stats::{mean, sample_std};

/// One metric over the methods.
pub struct MethodPanel {
    pub title: String,
    pub y_desc: String,
    pub methods: Vec<String>,
    /// Per method, its value at each point that measured it.
    pub values: Vec<Vec<f64>>,
    pub colors: Vec<RGBColor>,
}

/// Panels side by side.
pub struct MethodsFigure {
    pub panels: Vec<MethodPanel>,
}

impl Figure for MethodsFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let areas = root.split_evenly((1, self.panels.len().max(1)));
        for (panel, area) in self.panels.iter().zip(&areas) {
            draw_panel(panel, area)?;
        }
        Ok(())
    }
}

fn draw_panel<DB: DrawingBackend>(p: &MethodPanel, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
    let m = p.methods.len().max(1);
    let y = y_range(p.values.iter().flatten().copied(), true);
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, text(18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(Slots(m), y)
        .map_err(err)?;
    let names = p.methods.clone();
    chart
        .configure_mesh()
        .light_line_style(BLACK.mix(0.03))
        .disable_x_mesh()
        .x_label_formatter(&|x| names.get(x.round().max(0.0) as usize).cloned().unwrap_or_default())
        .x_label_style(text(12))
        .y_label_style(text(12))
        .y_desc(p.y_desc.as_str())
        .axis_desc_style(text(14))
        .draw()
        .map_err(err)?;
    for (i, values) in p.values.iter().enumerate() {
        draw_strip(&mut chart, i, values, p.colors.get(i).copied().unwrap_or(BLACK))?;
    }
    Ok(())
}

/// The values of slot `slot` as points spread over the middle 40% of the slot (in point order, so
/// they do not hide each other), with their mean and a bar of +- one standard deviation.
pub(super) fn draw_strip<DB: DrawingBackend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<Slots, RangedCoordf64>>,
    slot: usize,
    values: &[f64],
    color: RGBColor,
) -> Result<(), String> {
    let n = values.len().max(1) as f64;
    let spread = values.iter().enumerate().map(|(k, v)| {
        let dx = if values.len() > 1 { (k as f64 / (n - 1.0) - 0.5) * 0.4 } else { 0.0 };
        Circle::new((slot as f64 + dx, *v), 3, color.mix(0.6).filled())
    });
    chart.draw_series(spread).map_err(err)?;
    if let Some(mu) = mean(values) {
        let sd = sample_std(values).unwrap_or(0.0);
        let bar = ErrorBar::new_vertical(slot as f64, mu - sd, mu, mu + sd, BLACK.stroke_width(2), 14);
        chart.draw_series(std::iter::once(bar)).map_err(err)?;
    }
    Ok(())
}

//! Alignment against the forget set's size (the paper's Figure 3): per method, the mean of a
//! metric over the points of each size, with +- one standard deviation, joined by lines.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{Figure, err, text, y_range};
use tmu_stats::{mean, sample_std};

/// One metric against size.
pub struct SizePanel {
    pub title: String,
    pub y_desc: String,
    pub x_desc: String,
    pub methods: Vec<String>,
    /// Per method: `(size, value)` at each point that measured it.
    pub values: Vec<Vec<(f64, f64)>>,
    pub colors: Vec<RGBColor>,
}

/// Panels side by side.
pub struct SizeFigure {
    pub panels: Vec<SizePanel>,
}

impl Figure for SizeFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let areas = root.split_evenly((1, self.panels.len().max(1)));
        for (panel, area) in self.panels.iter().zip(&areas) {
            draw_panel(panel, area)?;
        }
        Ok(())
    }
}

/// `(size, mean, std)` per distinct size, ascending.
pub fn by_size(values: &[(f64, f64)]) -> Vec<(f64, f64, f64)> {
    let mut sizes: Vec<f64> = values.iter().map(|(x, _)| *x).collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    sizes
        .into_iter()
        .filter_map(|x| {
            let v: Vec<f64> = values.iter().filter(|(s, _)| *s == x).map(|(_, v)| *v).collect();
            mean(&v).map(|m| (x, m, sample_std(&v).unwrap_or(0.0)))
        })
        .collect()
}

fn draw_panel<DB: DrawingBackend>(p: &SizePanel, area: &DrawingArea<DB, Shift>) -> Result<(), String> {
    let stats: Vec<Vec<(f64, f64, f64)>> = p.values.iter().map(|v| by_size(v)).collect();
    let xs = y_range(stats.iter().flatten().map(|(x, _, _)| *x), false);
    // A single size (one point, or points of one size): a range around it wide enough that the
    // tick labels are distinct numbers, not the same value printed to six decimals.
    let xs = if xs.end - xs.start < 1e-3 * xs.end.abs().max(1.0) {
        let centre = (xs.start + xs.end) / 2.0;
        let pad = (centre.abs() * 0.5).max(1.0);
        centre - pad..centre + pad
    } else {
        xs
    };
    let xs = if xs.end - xs.start < 1e-9 { xs.start - 0.5..xs.end + 0.5 } else { xs };
    let ys = y_range(stats.iter().flatten().flat_map(|(_, m, s)| [m - s, m + s]), true);
    let mut chart = ChartBuilder::on(area)
        .caption(&p.title, text(18))
        .margin(12)
        .x_label_area_size(45)
        .y_label_area_size(60)
        .build_cartesian_2d(xs.clone(), ys)
        .map_err(err)?;
    chart
        .configure_mesh()
        .light_line_style(BLACK.mix(0.03))
        .x_label_style(text(12))
        .y_label_style(text(12))
        .x_desc(p.x_desc.as_str())
        .y_desc(p.y_desc.as_str())
        .axis_desc_style(text(14))
        .draw()
        .map_err(err)?;
    // Methods side by side around each size, so that equal values do not hide each other.
    let dodge = (xs.end - xs.start) * 0.008;
    let centre = (stats.len() as f64 - 1.0) / 2.0;
    for (i, s) in stats.iter().enumerate() {
        let color = p.colors.get(i).copied().unwrap_or(BLACK);
        let name = p.methods.get(i).cloned().unwrap_or_default();
        let dx = (i as f64 - centre) * dodge;
        let s: Vec<(f64, f64, f64)> = s.iter().map(|(x, m, sd)| (x + dx, *m, *sd)).collect();
        chart
            .draw_series(LineSeries::new(s.iter().map(|(x, m, _)| (*x, *m)), color.stroke_width(2)))
            .map_err(err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(3)));
        chart
            .draw_series(
                s.iter().map(|(x, m, sd)| ErrorBar::new_vertical(*x, m - sd, *m, m + sd, color.stroke_width(1), 8)),
            )
            .map_err(err)?;
        chart.draw_series(s.iter().map(|(x, m, _)| Circle::new((*x, *m), 4, color.filled()))).map_err(err)?;
    }
    chart
        .configure_series_labels()
        .label_font(text(12))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.4))
        .position(SeriesLabelPosition::MiddleRight)
        .draw()
        .map_err(err)?;
    Ok(())
}

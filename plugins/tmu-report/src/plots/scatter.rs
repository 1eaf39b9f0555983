//! Twin against real features: for the twin set (twin model) and the real forget set (original
//! model), each pair of features as a scatter of easy (blue) and hard (red) samples, pooled over
//! the points after scaling each point's set as the predictor does.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::figure::{Figure, err, text};

/// One set's samples, pooled over the points: scaled feature columns and easy flags.
pub struct ScatterSet {
    pub title: String,
    /// Per feature, the scaled values of every sample.
    pub columns: Vec<Vec<f64>>,
    pub easy: Vec<bool>,
}

/// One row of panels per set, one panel per feature pair, under a title.
pub struct ScatterFigure {
    pub title: String,
    pub names: Vec<String>,
    pub sets: Vec<ScatterSet>,
}

const EASY: RGBColor = RGBColor(31, 119, 180);
const HARD: RGBColor = RGBColor(214, 39, 40);

impl ScatterFigure {
    /// The feature pairs drawn: every pair, or the single feature against itself.
    fn pairs(&self) -> Vec<(usize, usize)> {
        let f = self.names.len();
        let pairs: Vec<(usize, usize)> = (0..f).flat_map(|i| (i + 1..f).map(move |j| (i, j))).collect();
        if pairs.is_empty() && f == 1 { vec![(0, 0)] } else { pairs }
    }
}

impl Figure for ScatterFigure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let pairs = self.pairs();
        let root = root.titled(&self.title, text(16)).map_err(err)?;
        let areas = root.split_evenly((self.sets.len().max(1), pairs.len().max(1)));
        for (s, set) in self.sets.iter().enumerate() {
            for (k, &(i, j)) in pairs.iter().enumerate() {
                let area = &areas[s * pairs.len() + k];
                let hard = set.easy.iter().filter(|e| !**e).count();
                let caption = format!(
                    "{}: {} vs {} ({} easy, {hard} hard)",
                    set.title,
                    self.names[j],
                    self.names[i],
                    set.easy.len() - hard
                );
                let mut chart = ChartBuilder::on(area)
                    .caption(caption, text(14))
                    .margin(8)
                    .x_label_area_size(35)
                    .y_label_area_size(45)
                    .build_cartesian_2d(-0.05..1.05, -0.05..1.05)
                    .map_err(err)?;
                chart
                    .configure_mesh()
                    .light_line_style(BLACK.mix(0.03))
                    .x_label_style(text(11))
                    .y_label_style(text(11))
                    .x_desc(self.names[i].as_str())
                    .y_desc(self.names[j].as_str())
                    .axis_desc_style(text(12))
                    .draw()
                    .map_err(err)?;
                for want_easy in [true, false] {
                    let color = if want_easy { EASY.mix(0.35) } else { HARD.mix(0.9) };
                    let size = if want_easy { 2 } else { 4 };
                    chart
                        .draw_series(
                            (0..set.easy.len())
                                .filter(|&n| set.easy[n] == want_easy)
                                .map(|n| Circle::new((set.columns[i][n], set.columns[j][n]), size, color.filled())),
                        )
                        .map_err(err)?;
                }
            }
        }
        Ok(())
    }
}

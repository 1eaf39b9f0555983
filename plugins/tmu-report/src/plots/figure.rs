//! Drawing one figure to PNG (plotters' bitmap backend, encoded by `image`) and SVG, with the
//! font shipped in `fonts/` so that text renders on a machine without system fonts.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::Context as _;
use plotters::coord::Shift;
use plotters::prelude::*;

/// DejaVu Sans cut down to the characters plots use (see `fonts/subset.sh`, `fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans-tmu.ttf");

/// The font family every plot uses.
pub const FAMILY: &str = "sans-serif";

/// Colours by method position (matplotlib's "tab10").
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

fn register_font() -> anyhow::Result<()> {
    static ONCE: Once = Once::new();
    let mut result = Ok(());
    ONCE.call_once(|| {
        result = plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .map_err(|_| anyhow::anyhow!("the embedded plot font does not load"));
    });
    result
}

/// A figure that can draw itself on any plotters backend.
pub trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Any plotters error as text.
pub fn err<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

/// Writes `<dir>/<stem>.png` and `<dir>/<stem>.svg`; returns their paths.
pub fn save(figure: &impl Figure, dir: &Path, stem: &str, (w, h): (u32, u32)) -> anyhow::Result<Vec<PathBuf>> {
    register_font()?;
    let png = dir.join(format!("{stem}.png"));
    let mut buffer = vec![0u8; w as usize * h as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err).map_err(anyhow::Error::msg)?;
        figure.draw(&root).map_err(anyhow::Error::msg).with_context(|| format!("drawing {}", png.display()))?;
        root.present().map_err(err).map_err(anyhow::Error::msg)?;
    }
    image::save_buffer(&png, &buffer, w, h, image::ColorType::Rgb8)
        .with_context(|| format!("writing {}", png.display()))?;
    let svg = dir.join(format!("{stem}.svg"));
    {
        let root = SVGBackend::new(&svg, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(err).map_err(anyhow::Error::msg)?;
        figure.draw(&root).map_err(anyhow::Error::msg).with_context(|| format!("drawing {}", svg.display()))?;
        root.present()
            .map_err(err)
            .map_err(anyhow::Error::msg)
            .with_context(|| format!("writing {}", svg.display()))?;
    }
    Ok(vec![png, svg])
}

/// A text style of the plot font.
pub fn text(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// A y range around `values` with a margin (never empty).
pub fn y_range(values: impl Iterator<Item = f64>, from_zero: bool) -> std::ops::Range<f64> {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return 0.0..1.0;
    }
    if from_zero {
        lo = lo.min(0.0);
    }
    let pad = ((hi - lo) * 0.08).max(1e-6 * hi.abs().max(1.0));
    (if from_zero && lo >= 0.0 { lo } else { lo - pad })..hi + pad
}

/// A categorical x axis of `n` slots: slot `i` is centred on `i`, ticks at the slot centres.
#[derive(Clone, Copy, Debug)]
pub struct Slots(pub usize);

impl plotters::coord::ranged1d::Ranged for Slots {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let frac = (value + 0.5) / self.0.max(1) as f64;
        limit.0 + (f64::from(limit.1 - limit.0) * frac).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, _hint: H) -> Vec<f64> {
        (0..self.0).map(|i| i as f64).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.5..self.0 as f64 - 0.5
    }
}

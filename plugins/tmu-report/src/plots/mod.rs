//! The plots of `report.sweep` and `report.membership`, each written as PNG and SVG.

mod auc;
mod figure;
mod methods;
mod roc;
mod scale;
mod scatter;
mod size;

pub use auc::AucFigure;
pub use figure::{Figure, PALETTE, save};
pub use methods::{MethodPanel, MethodsFigure};
pub use roc::{RocCurve, RocFigure};
pub use scale::scale_per_set;
pub use scatter::{ScatterFigure, ScatterSet};
pub use size::{SizeFigure, SizePanel};

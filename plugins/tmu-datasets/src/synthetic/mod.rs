//! `dataset.synthetic`: seeded CIFAR-shaped images of coloured shapes with tunable difficulty.

mod render;
mod stage;

pub use render::{Difficulty, Knobs, class_names, generate};
pub use stage::{Synthetic, SyntheticConfig, synthetic_split};

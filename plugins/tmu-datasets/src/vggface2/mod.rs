//! VGGFace2: a chosen set of identities from `<root>/<folder>/<identity>/*.jpg`, cropped to
//! their bounding boxes and resized.

mod boxes;
mod scan;
mod stage;

pub use stage::{Crop, Identities, VggFace2, VggFace2Config};

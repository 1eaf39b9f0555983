//! The file readers behind the data-set stages, for tools outside the plugin: the fuzz targets
//! (crates/tmu-fuzz) feed them arbitrary bytes. Every reader names the file and the byte or
//! record on bad input and never panics.

pub use crate::cifar::{LabelByte, read_binary, read_python};
pub use crate::cifar::{Records, unpickle};
pub use crate::imaging::{Channels, CropBox, Fit, Prep, ResizeFilter, image_prep, load_image};

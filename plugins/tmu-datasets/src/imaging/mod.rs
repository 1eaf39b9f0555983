//! Image files to u8 CHW tensors: decoding with limits, cropping, resizing, in parallel.

mod batch;
mod decode;
mod options;
mod resize;

pub use batch::{DecodeJob, decode_all};
pub use decode::{CropBox, load_image};
pub use options::{Channels, Fit, MAX_ALLOC_MB, MAX_DIMENSION, OnCorrupt, Prep, ResizeFilter, image_prep};

/// File extensions read as images (compared case-insensitively).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["jpg", "jpeg", "png"];

/// Whether `path` has one of [`IMAGE_EXTENSIONS`].
pub fn is_image_file(path: &std::path::Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The image files of one folder, sorted by name.
pub fn image_files(dir: &std::path::Path) -> anyhow::Result<Vec<std::path::PathBuf>> {
    Ok(crate::paths::sorted_entries(dir)?.into_iter().filter(|p| p.is_file() && is_image_file(p)).collect())
}

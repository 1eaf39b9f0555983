//! xtask's integration tests: the whole workspace's house rules (tidy), the shipped TOML files,
//! and the SDK crates' packaging.

mod package;
mod tidy;
mod toml_files;

use std::path::{Path, PathBuf};

/// The workspace root (xtask's parent folder).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask has a parent folder").to_path_buf()
}

/// Every file under `dir` whose name ends with `ext`, skipping build outputs and hidden folders.
pub fn files_with(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries {
        let path = entry.expect("a folder entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                files_with(&path, ext, out);
            }
        } else if name.ends_with(ext) {
            out.push(path);
        }
    }
    out.sort();
}

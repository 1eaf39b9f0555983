//! Tidy checks for tmu-core: every source file says what it owns, and the crate keeps its
//! architecture invariant (no IO, neither candle nor libloading).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("reading a source folder") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn crate_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    rust_files(&root.join("tests"), &mut files);
    files.sort();
    files
}

#[test]
fn every_file_opens_with_a_module_doc() {
    for f in crate_files() {
        let text = std::fs::read_to_string(&f).expect("reading a source file");
        assert!(text.starts_with("//! "), "{} does not open with a `//!` line", f.display());
        assert!(
            !text.lines().any(|l| l.ends_with(' ') || l.ends_with('\t')),
            "{} has trailing whitespace",
            f.display()
        );
    }
}

#[test]
fn the_library_does_no_io_and_links_no_candle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for f in files {
        let text = std::fs::read_to_string(&f).expect("reading a source file");
        // Comments may name what is absent; code may not use it.
        let code: Vec<&str> = text.lines().filter(|l| !l.trim_start().starts_with("//")).collect();
        for banned in ["std::fs", "std::net", "std::process", "std::env", "libloading", "candle"] {
            assert!(!code.iter().any(|l| l.contains(banned)), "{} uses `{banned}`", f.display());
        }
    }
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("reading Cargo.toml");
    for banned in ["candle", "libloading"] {
        assert!(!manifest.contains(banned), "tmu-core's Cargo.toml names `{banned}`");
    }
}

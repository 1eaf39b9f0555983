//! tmu-core's architecture invariant: no IO, neither candle nor libloading (the workspace-wide
//! house rules are xtask's tidy test).

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

//! Data-driven pipeline tests: every `test_data/valid/*.toml` must plan (snapshot: the plan as
//! text and DOT), every `test_data/invalid/*.toml` must fail (snapshot: the rendered
//! diagnostics). `UPDATE_EXPECT=1 cargo test -p tmu-core` refreshes the snapshots.

use std::path::{Path, PathBuf};

use expect_test::expect_file;
use tmu_core::{Catalog, Plan, RenderStyle, load, plan_dot, plan_text};

fn test_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data")
}

fn catalog() -> Catalog {
    let json = std::fs::read_to_string(test_data().join("catalog.json")).expect("reading catalog.json");
    Catalog::from_json(&json).expect("catalog.json holds stage descriptions")
}

/// The `*.toml` files of a folder, sorted.
fn pipelines(folder: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(test_data().join(folder))
        .expect("reading a test_data folder")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no pipelines in test_data/{folder}");
    files
}

/// Loads a test pipeline under a path relative to the crate, so snapshots name it the same
/// way on every machine.
fn load_test(file: &Path) -> Result<Plan, tmu_core::Diagnostics> {
    let text = std::fs::read_to_string(file).expect("reading a test pipeline");
    let shown = file.strip_prefix(env!("CARGO_MANIFEST_DIR")).expect("inside the crate");
    load(shown, &text, &catalog())
}

/// Checks one pipeline against its snapshot next to it (`<stem>.plan` or `<stem>.diagnostics`).
fn check(file: &Path, valid: bool) {
    let (snapshot, actual) = match (load_test(file), valid) {
        (Ok(plan), true) => (file.with_extension("plan"), format!("{}\n{}", plan_text(&plan), plan_dot(&plan))),
        (Err(ds), false) => (file.with_extension("diagnostics"), ds.render(RenderStyle::Plain)),
        (Ok(plan), false) => panic!("{} should fail but planned:\n{}", file.display(), plan_text(&plan)),
        (Err(ds), true) => panic!("{} should plan but failed:\n{ds}", file.display()),
    };
    expect_file![snapshot].assert_eq(&actual);
}

#[test]
fn valid_pipelines_plan() {
    for file in pipelines("valid") {
        check(&file, true);
    }
}

#[test]
fn invalid_pipelines_are_diagnosed() {
    for file in pipelines("invalid") {
        check(&file, false);
    }
}

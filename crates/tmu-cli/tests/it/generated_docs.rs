//! The generated docs are up to date: `docs/pipeline.schema.json` and `docs/stages.md` are
//! rendered from the first-party plugins' self-descriptions (`docs/plugins/*.json`, each kept
//! up to date by the `describe_snapshot` test of its plugin crate) with the code `tmu schema`
//! and `tmu describe` use, and every first-party plugin has its snapshot. `UPDATE_EXPECT=1`
//! (what `cargo xtask codegen` sets) rewrites the files instead of comparing.

use crate::real_builds;

use std::path::PathBuf;

use expect_test::expect_file;
use real_builds::{first_party_packages, root};
use tmu_core::{Catalog, pipeline_schema_text, stages_markdown};
use tmu_plugin::protocol::PluginDescription;

/// The snapshots, in file-name order (the order `tmu` loads `libtmu_*` libraries from a folder).
fn snapshots() -> Vec<PluginDescription> {
    let dir = root().join("docs/plugins");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not a plugin description: {e}", p.display()))
        })
        .collect()
}

#[test]
fn every_first_party_plugin_has_a_snapshot() {
    let plugins = first_party_packages();
    let snapshots: Vec<String> = snapshots().into_iter().map(|d| d.name).collect();
    assert_eq!(
        snapshots, plugins,
        "docs/plugins/*.json must hold one snapshot per plugins/* crate: add \
         tests/it/describe_snapshot.rs to a new plugin (see plugins/tmu-features) and run `cargo xtask codegen`"
    );
    for p in &plugins {
        let test = root().join("plugins").join(p).join("tests/it/describe_snapshot.rs");
        assert!(test.is_file(), "{} is missing: it keeps docs/plugins/{p}.json up to date", test.display());
    }
}

#[test]
fn pipeline_schema_is_up_to_date() {
    let catalog = Catalog::new(snapshots().into_iter().flat_map(|d| d.stages)).expect("no stage kind twice");
    expect_file![root().join("docs/pipeline.schema.json")].assert_eq(&pipeline_schema_text(&catalog));
}

#[test]
fn stage_reference_is_up_to_date() {
    expect_file![root().join("docs/stages.md")].assert_eq(&stages_markdown(&snapshots()));
}

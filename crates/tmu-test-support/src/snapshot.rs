//! Snapshots of a plugin's self-description in `docs/plugins/<plugin>.json`: the stage reference
//! (`docs/stages.md`) and the pipeline schema (`docs/pipeline.schema.json`) are generated from
//! them (plugin libraries cannot be linked into one test binary: each exports the same symbols).

use std::path::{Path, PathBuf};

use tmu_plugin::Plugin;

/// The workspace's `docs/plugins` folder.
pub fn plugin_docs_dir() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.ancestors().nth(2).expect("tmu-test-support lives in <workspace>/crates/").join("docs/plugins")
}

/// Checks that `docs/plugins/<plugin name>.json` holds `plugin`'s self-description; with
/// `UPDATE_EXPECT=1` in the environment (as `cargo xtask codegen` sets it) writes it instead.
/// The snapshot is the CPU build's: `cuda` is always false, the stages being the same in both
/// builds. Each first-party plugin calls it from one test:
///
/// ```text
/// #[test]
/// fn describe_snapshot() {
///     tmu_test_support::check_describe_snapshot(tmu_features::tmu_plugin());
/// }
/// ```
pub fn check_describe_snapshot(plugin: &Plugin) {
    let mut description = plugin.describe();
    description.cuda = false;
    let mut text = serde_json::to_string_pretty(&description).expect("a plugin description serialises");
    text.push('\n');
    let dir = plugin_docs_dir();
    let path = dir.join(format!("{}.json", description.name));
    let old = std::fs::read_to_string(&path).ok();
    if old.as_deref() == Some(text.as_str()) {
        return;
    }
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("creating {}: {e}", dir.display()));
        std::fs::write(&path, &text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let first_difference = match &old {
        None => "the file does not exist".to_string(),
        Some(old) => {
            let (was, is): (Vec<&str>, Vec<&str>) = (old.lines().collect(), text.lines().collect());
            match (0..was.len().max(is.len())).find(|&i| was.get(i) != is.get(i)) {
                Some(i) => format!(
                    "line {}: the file has `{}`, the plugin describes `{}`",
                    i + 1,
                    was.get(i).unwrap_or(&""),
                    is.get(i).unwrap_or(&"")
                ),
                None => "the line endings differ".to_string(),
            }
        }
    };
    panic!(
        "{} is out of date ({first_difference}): run `cargo xtask codegen`, which refreshes it and the \
         docs generated from it",
        path.display()
    );
}

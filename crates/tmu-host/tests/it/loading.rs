//! Loading real plugin libraries: the handshake, refusals that name the cause, discovery rules,
//! duplicate kinds, and a library whose dependency is missing.

use crate::fixtures;

use fixtures::{copy_as, dll_name, fixture};
use tmu_core::StageCatalog;
use tmu_host::{Origin, PluginError, Registry, SearchPaths, load};

fn search(paths: &[(&std::path::Path, Origin)]) -> SearchPaths {
    SearchPaths { binary_folder: None, paths: paths.iter().map(|(p, o)| (p.to_path_buf(), *o)).collect() }
}

#[test]
fn a_plugin_describes_its_stages() {
    let path = fixture("stages");
    let plugin = load(&path).unwrap();
    assert_eq!(plugin.description.name, "fixture-stages");
    assert_eq!(plugin.sdk, format!("tmu-plugin {}", env!("CARGO_PKG_VERSION")));
    let kinds: Vec<&str> = plugin.description.stages.iter().map(|s| s.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "fixture.source",
            "fixture.add",
            "fixture.fail",
            "fixture.panic",
            "fixture.sleep",
            "fixture.wrong-kind",
            "fixture.divide",
            "fixture.collect",
            "fixture.crash"
        ]
    );
    assert_eq!(plugin.binary_hash, blake3::hash(&std::fs::read(&path).unwrap()).to_hex().to_string());
    let source = plugin.stage("fixture.source").unwrap();
    assert_eq!(source.config_schema["properties"]["scale"]["maximum"], 10);
    assert_eq!(source.examples[0].title, "three values, doubled");
}

#[test]
fn abi_mismatch_is_refused_with_a_sentence() {
    let path = fixture("abi999");
    let err = load(&path).unwrap_err();
    assert!(matches!(err, PluginError::AbiMismatch { found: 999, expected: 1, .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "plugin {} speaks ABI v999 (built with tmu-plugin 9.9.9), this host speaks v1; rebuild it against tmu-plugin 0.1",
            path.display()
        )
    );
    assert!(err.help().unwrap().contains("rebuild the plugin with tmu-plugin 0.1"));
}

#[test]
fn a_library_without_the_run_symbol_is_not_a_plugin() {
    let path = fixture("norun");
    let err = load(&path).unwrap_err();
    assert_eq!(err.to_string(), format!("{} is not a tmu plugin: missing symbol `tmu_plugin_run`", path.display()));
}

#[test]
fn a_file_that_is_not_a_library_fails_to_load() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(dll_name("garbage"));
    std::fs::write(&path, b"not an object file").unwrap();
    let err = load(&path).unwrap_err();
    assert!(matches!(err, PluginError::Open { missing: None, .. }), "{err:?}");
    assert!(err.to_string().starts_with(&format!("cannot load plugin {}", path.display())), "{err}");
}

#[test]
fn a_kind_from_two_libraries_names_both_files() {
    let dir = tempfile::tempdir().unwrap();
    let a = copy_as(&fixture("stages"), &dir.path().join("a"), &dll_name("fixture_one"));
    let b = copy_as(&fixture("stages"), &dir.path().join("b"), &dll_name("fixture_two"));
    let err = Registry::load(&search(&[(&a, Origin::CommandLine), (&b, Origin::EnvVar)])).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("stage kind `fixture.source` is registered by two plugins: {} and {}", a.display(), b.display())
    );
}

#[test]
fn the_binary_folder_loads_only_first_party_names() {
    let dir = tempfile::tempdir().unwrap();
    copy_as(&fixture("stages"), dir.path(), &dll_name("tmu_fixture"));
    // Would fail to load: it must not even be tried.
    copy_as(&fixture("abi999"), dir.path(), &dll_name("fixture_abi999"));
    let registry = Registry::load(&SearchPaths { binary_folder: Some(dir.path().into()), paths: vec![] }).unwrap();
    assert_eq!(registry.plugins().len(), 1);
    assert_eq!(registry.plugins()[0].file_name(), dll_name("tmu_fixture"));
    assert!(registry.stage("fixture.add").is_some());
    assert_eq!(registry.kinds().len(), 9);
}

#[test]
fn a_folder_on_the_path_loads_every_library_and_fails_on_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    copy_as(&fixture("stages"), dir.path(), &dll_name("fixture_stages"));
    let registry = Registry::load(&search(&[(dir.path(), Origin::PipelineFile)])).unwrap();
    assert_eq!(registry.plugins().len(), 1);
    copy_as(&fixture("abi999"), dir.path(), &dll_name("fixture_abi999"));
    let err = Registry::load(&search(&[(dir.path(), Origin::PipelineFile)])).unwrap_err();
    assert!(err.to_string().contains("speaks ABI v999"), "{err}");
}

/// A plugin linked against a library the system cannot find: the error names that library
/// (like a CUDA build on a machine without libcudart), and a same-named build in another
/// folder on the path is used instead, with a warning.
#[cfg(target_os = "linux")]
#[test]
fn a_missing_dependency_is_named_and_a_cpu_build_is_used_instead() {
    let linked = fixtures::linked_fixture();
    let dir = tempfile::tempdir().unwrap();
    let cuda = copy_as(&linked, &dir.path().join("cuda"), &dll_name("fixture_linked"));
    let err = load(&cuda).unwrap_err();
    match &err {
        PluginError::Open { missing, .. } => assert_eq!(missing.as_deref(), Some("libfixture_dep.so")),
        other => panic!("expected an Open error, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        format!("cannot load plugin {}: it needs `libfixture_dep.so`, which cannot be found", cuda.display())
    );
    assert!(err.help().unwrap().contains("build the plugins without `--features cuda`"));

    // Alone on the path, the failure is an error.
    let cuda_dir = dir.path().join("cuda");
    let err = Registry::load(&search(&[(&cuda_dir, Origin::EnvVar)])).unwrap_err();
    assert!(matches!(err, PluginError::Open { .. }), "{err:?}");

    // With a library of the same file name that loads (standing in for the CPU build), that
    // one is used and the skipped one is reported.
    let cpu_dir = dir.path().join("cpu");
    copy_as(&fixture("stages"), &cpu_dir, &dll_name("fixture_linked"));
    let registry = Registry::load(&search(&[(&cuda_dir, Origin::EnvVar), (&cpu_dir, Origin::EnvVar)])).unwrap();
    assert_eq!(registry.plugins().len(), 1);
    assert_eq!(registry.warnings().len(), 1);
    let warning = &registry.warnings()[0];
    assert!(warning.contains("it needs `libfixture_dep.so`"), "{warning}");
    assert!(warning.contains(&format!("using {}", cpu_dir.join(dll_name("fixture_linked")).display())), "{warning}");
}

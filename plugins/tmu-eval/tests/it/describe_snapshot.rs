//! The plugin's self-description, kept in docs/plugins/tmu-eval.json: the stage reference and
//! the pipeline schema in docs/ are generated from it (`cargo xtask codegen` refreshes it).

#[test]
fn describe_snapshot() {
    tmu_test_support::check_describe_snapshot(tmu_eval::tmu_plugin());
}

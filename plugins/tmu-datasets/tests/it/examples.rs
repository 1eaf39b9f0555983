//! The documented examples of the data set stages that need no files from the user run as
//! written (the embedded digits, the generated synthetic set). The loaders of user files
//! (CIFAR, image folders, VGGFace2) are exercised on files their own tests make.

use tmu_plugin::Inputs;

#[test]
fn every_example_of_the_self_contained_data_sets_runs() {
    let plugin = tmu_datasets::tmu_plugin();
    assert!(tmu_test_support::run_examples(plugin, "dataset.digits", &Inputs::default()) >= 2);
    assert!(tmu_test_support::run_examples(plugin, "dataset.synthetic", &Inputs::default()) >= 3);
}

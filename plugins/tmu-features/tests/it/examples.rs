//! Every documented example of the three feature stages runs on a tiny model and data set, as a
//! user who copies it would.

use crate::common::{inputs, tiny_model, write_data};
use tmu_test_support::{BlobsSpec, blobs};

#[test]
fn every_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), 3, 8);
    let data = blobs(BlobsSpec { n: 24, classes: 3, channels: 1, size: 8, noise: 60, seed: 3, first_id: 0 });
    let data = write_data(dir.path(), "data", &data);
    let mut ran = 0;
    for kind in ["features.distance", "features.adversarial", "features.curriculum"] {
        ran += tmu_test_support::run_examples(tmu_features::tmu_plugin(), kind, &inputs(&model, &data, Some(&data)));
    }
    assert!(ran >= 6, "only {ran} examples");
}

//! Every documented example of every unlearning stage runs on the small blobs problem (an MLP
//! original model, four forget samples of which two are hard), as a user who copies it would.

use crate::common::{self, KINDS};

#[test]
fn every_example_runs() {
    let f = common::fixture(4);
    let labels = f.labels(&[true, false, true, false]);
    let mut ran = 0;
    for kind in KINDS {
        ran += tmu_test_support::run_examples(tmu_forget::tmu_plugin(), kind, &f.inputs_for(kind, &labels));
    }
    assert!(ran >= 2 * KINDS.len(), "only {ran} examples");
}

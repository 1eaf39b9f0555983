//! On CPU every unlearning stage reproduces its weights bit for bit from the same seed, and a
//! different seed changes them (shuffling, input noise, wrong labels, the incompetent teacher).

use crate::common;

use common::{fixture, run, weights};

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let f = fixture(8);
    let labels = f.labels(&[true, false, true, true, false, true, false, true]);
    for kind in ["forget.tmu", "forget.finetune", "forget.neggrad", "forget.random-label", "forget.bad-teacher"] {
        let once = |seed| {
            let inputs = f.inputs((kind == "forget.tmu").then_some(labels.as_path()));
            weights(&run(kind, inputs, "epochs = 2\nbatch_size = 16", seed).unwrap().output("model"))
        };
        let a = once(4);
        assert!(a == once(4), "{kind}: the same seed gave different weights");
        assert!(a != once(5), "{kind}: another seed gave the same weights");
    }
}

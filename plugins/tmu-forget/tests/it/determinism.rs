//! On CPU every unlearning stage reproduces its weights bit for bit from the same seed, and a
//! different seed changes them (shuffling, input noise, wrong labels, the incompetent teacher,
//! re-initialised weights); SSD, which draws nothing, gives the same weights for every seed.

use crate::common;

use common::{fixture, run, weights};

#[test]
fn same_seed_same_weights_other_seed_other_weights() {
    let f = fixture(8);
    let labels = f.labels(&[true, false, true, true, false, true, false, true]);
    let seeded = [
        ("forget.tmu", "epochs = 2\nbatch_size = 16"),
        ("forget.finetune", "epochs = 2\nbatch_size = 16"),
        ("forget.neggrad", "epochs = 2\nbatch_size = 16"),
        ("forget.neggrad-plus", "epochs = 2\nbatch_size = 16"),
        ("forget.random-label", "epochs = 2\nbatch_size = 16"),
        ("forget.bad-teacher", "epochs = 2\nbatch_size = 16"),
        ("forget.scrub", "epochs = 2\nretain_batch_size = 16\nforget_batch_size = 4"),
        ("forget.salun", "epochs = 2\nbatch_size = 16"),
        ("forget.l1-sparse", "epochs = 2\nbatch_size = 16"),
        ("forget.msg", "epochs = 2\nbatch_size = 16\nlayers = \"conv-and-linear\""),
        ("forget.ct", "epochs = 2\nbatch_size = 16"),
    ];
    for (kind, config) in seeded {
        let once = |seed| weights(&run(kind, f.inputs_for(kind, &labels), config, seed).unwrap().output("model"));
        let a = once(4);
        assert!(a == once(4), "{kind}: the same seed gave different weights");
        assert!(a != once(5), "{kind}: another seed gave the same weights");
    }
    // SSD draws nothing: every seed gives the same weights.
    let ssd = |seed| weights(&run("forget.ssd", f.inputs(None), "", seed).unwrap().output("model"));
    assert!(ssd(4) == ssd(5), "forget.ssd depends on nothing random");
}

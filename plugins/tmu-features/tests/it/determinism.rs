//! Same inputs, same bytes: every stage is bit-for-bit repeatable on CPU; the random start of
//! AF follows the stage seed.

use crate::common;

use common::{column, features, inputs, reference_file, run, tiny_model, write_data};
use tmu_plugin::Inputs;
use tmu_test_support::{BlobsSpec, RecordingHost, RunOptions, blobs, config, run_stage_with};

fn case_inputs(dir: &std::path::Path) -> (Inputs, Inputs) {
    let model = tiny_model(dir, 4, 8);
    let data = write_data(
        dir,
        "data",
        &blobs(BlobsSpec { n: 40, classes: 4, seed: 3, first_id: 500, ..BlobsSpec::default() }),
    );
    let reference =
        write_data(dir, "reference", &blobs(BlobsSpec { n: 80, classes: 4, seed: 4, ..BlobsSpec::default() }));
    (inputs(&model, &data, Some(&reference)), inputs(&model, &data, None))
}

#[test]
fn every_stage_gives_identical_bytes_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (with_reference, plain) = case_inputs(dir.path());
    for (kind, i, body) in [
        ("features.distance", &with_reference, "k = 3\nbatch_size = 7"),
        ("features.adversarial", &plain, "batch_size = 16"),
        ("features.adversarial", &plain, "random_start = true"),
        ("features.curriculum", &plain, ""),
    ] {
        let a = run(kind, i.clone(), body).unwrap();
        let b = run(kind, i.clone(), body).unwrap();
        let bytes = |r: &tmu_test_support::StageRun| std::fs::read(r.output("features")).unwrap();
        assert_eq!(bytes(&a), bytes(&b), "{kind} {body}");
        assert_eq!(features(&a).rows(), 40);
        // The cost: DF embeds the 40 queries and the 80 references; AF's 5 PGD steps take an
        // input gradient each and the clean and adversarial logits are forward; CF is forward.
        let m = tmu_plugin::artifact::read_metrics(&a.output("metrics")).unwrap();
        let cost = tmu_nn::Cost::from_metrics(&m).expect("a cost");
        let want = match kind {
            "features.distance" => (0, 120),
            "features.adversarial" => (5 * 40, 2 * 40),
            _ => (0, 40),
        };
        assert_eq!((cost.train_samples, cost.forward_samples), want, "{kind}");
    }
}

#[test]
fn batch_size_does_not_change_the_features() {
    let dir = tempfile::tempdir().unwrap();
    let (with_reference, plain) = case_inputs(dir.path());
    // A strong attack: the default one barely moves this untrained network (AF ~ 1e-6, where
    // f32 logit rounding, which differs between batch sizes, weighs ~1e-5 relative).
    for (kind, i, body) in [
        ("features.distance", &with_reference, ""),
        ("features.adversarial", &plain, "epsilon = 0.2\nstep = 0.05\n"),
        ("features.curriculum", &plain, ""),
    ] {
        let a = column(&features(&run(kind, i.clone(), &format!("{body}batch_size = 40")).unwrap()));
        let b = column(&features(&run(kind, i.clone(), &format!("{body}batch_size = 3")).unwrap()));
        let err = common::max_rel_error(&a, &b, 1e-9);
        println!("{kind}: batch 40 vs 3, max relative difference {err:.2e}");
        assert!(err <= 1e-5, "{kind}: {err:e}\n{a:?}\n{b:?}");
    }
}

#[test]
fn the_random_start_follows_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    let (_, plain) = case_inputs(dir.path());
    let af = |body: &str, seed: u64| {
        let options = RunOptions { seed, ..RunOptions::default() };
        let r = run_stage_with(
            tmu_features::tmu_plugin(),
            "features.adversarial",
            plain.clone(),
            config(body),
            &options,
            &RecordingHost::default(),
        )
        .unwrap();
        column(&features(&r))
    };
    let strong = "epsilon = 0.1\nstep = 0.02\nsteps = 3";
    let fixed = af(strong, 1);
    assert_eq!(fixed, af(strong, 2), "without a random start the seed does not matter");
    let random = format!("{strong}\nrandom_start = true");
    let (r1, r2) = (af(&random, 1), af(&random, 2));
    assert_eq!(r1, af(&random, 1));
    assert_ne!(r1, r2);
    assert_ne!(r1, fixed);
}

#[test]
fn the_reference_run_is_repeatable() {
    let i = inputs(
        &reference_file("small_cnn.model.safetensors"),
        &reference_file("query.dataset.safetensors"),
        Some(&reference_file("reference.dataset.safetensors")),
    );
    let a = run("features.distance", i.clone(), "").unwrap();
    let b = run("features.distance", i, "").unwrap();
    assert_eq!(std::fs::read(a.output("features")).unwrap(), std::fs::read(b.output("features")).unwrap());
}

//! `dataset.synthetic`: shapes, balance, seeds, and the difficulty the knobs ask for.

use crate::common;

use common::{error, output, run};
use tmu_test_support::{RecordingHost, RunOptions, config, run_stage_with};

#[test]
fn balanced_seeded_and_as_difficult_as_asked() {
    let r = run("dataset.synthetic", "train = 1000\ntest = 200").unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(train.shape, [1000, 3, 32, 32]);
    assert_eq!(test.shape, [200, 3, 32, 32]);
    assert_eq!(train.meta.classes[0], "disc-warm");
    assert_eq!(train.meta.classes[9], "cross-cool");
    assert_eq!(test.ids, (1000..1200).collect::<Vec<u64>>());
    assert_eq!(test.class_counts(), vec![20; 10], "test labels are clean and balanced");
    let difficulty = &train.extra_labels["difficulty"];
    for (i, (&label, &d)) in train.labels.iter().zip(difficulty).enumerate() {
        // The drawn class cycles with the index; only mislabelled samples carry another label.
        assert_eq!(label != (i % 10) as u32, d == 2, "sample {i}");
    }
    let count = |v: u32| difficulty.iter().filter(|&&d| d == v).count();
    // Expected 10% ambiguous (less the 3% of those then mislabelled) and 3% mislabelled:
    // about 97 and 30 of 1,000 (binomial std 9.4 and 5.4; the seed is fixed).
    assert!((70..=125).contains(&count(1)), "ambiguous: {}", count(1));
    assert!((15..=45).contains(&count(2)), "mislabelled: {}", count(2));
    assert!(!test.extra_labels["difficulty"].contains(&2));
    assert_eq!(r.response.summary["train_mislabelled"], count(2));
    // Images are not flat: the per-channel std is far from 0 and from the 1.0 placeholder.
    assert!(train.meta.std.iter().all(|&s| s > 0.1 && s < 0.5), "{:?}", train.meta.std);

    let again = run("dataset.synthetic", "train = 1000\ntest = 200").unwrap();
    assert_eq!(output(&again, "train").images, train.images, "same seed, same bytes");
    let other = run_stage_with(
        tmu_datasets::tmu_plugin(),
        "dataset.synthetic",
        tmu_plugin::Inputs::default(),
        config("train = 1000\ntest = 200"),
        &RunOptions { seed: 1, ..RunOptions::default() },
        &RecordingHost::default(),
    )
    .unwrap();
    assert_ne!(output(&other, "train").images, train.images);
}

#[test]
fn knobs_switch_difficulty_off() {
    let r =
        run("dataset.synthetic", "train = 100\ntest = 20\nambiguous = 0.0\nlabel_noise = 0.0\nclasses = 4\nsize = 16")
            .unwrap();
    let train = output(&r, "train");
    assert_eq!(train.shape, [100, 3, 16, 16]);
    assert_eq!(train.class_counts(), vec![25; 4]);
    assert!(train.extra_labels["difficulty"].iter().all(|&d| d == 0));

    let e = error(run("dataset.synthetic", "overlap = 2.0"));
    assert_eq!((e.kind, e.causes.len()), (tmu_plugin::protocol::ErrorKind::Config, 1), "{e:?}");
    assert!(e.causes[0].starts_with("/overlap: ") && e.causes[0].contains("maximum"), "{e:?}");
}

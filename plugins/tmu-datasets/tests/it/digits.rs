//! `dataset.digits`: the embedded data matches scikit-learn's copy; the split is seeded and stratified.

use crate::common;

use common::{output, run};
use tmu_datasets::digits::{load, scale_pixel};

#[test]
fn embedded_digits_match_sklearn() {
    let d = load();
    assert_eq!(d.shape, [1797, 1, 8, 8]);
    // sklearn.datasets.load_digits(): np.bincount(target)
    assert_eq!(d.class_counts(), vec![178, 182, 177, 183, 181, 182, 181, 179, 174, 180]);
    assert_eq!(d.ids, (0..1797).collect::<Vec<u64>>());
    // load_digits().images[0, 2, 3] == 2 and images[1796, 4, 4] == 15; target[0] == 0, target[1796] == 8
    // (printed by datasets/digits/make_digits.py).
    assert_eq!(d.image(0)[2 * 8 + 3], scale_pixel(2));
    assert_eq!(d.image(1796)[4 * 8 + 4], scale_pixel(15));
    assert_eq!((d.labels[0], d.labels[1796]), (0, 8));
    // The first image row by row, from load_digits().images[0] (values 0-16).
    let first: [u8; 16] = [0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0];
    assert_eq!(&d.image(0)[..16], first.map(scale_pixel).as_slice());
    assert_eq!((scale_pixel(0), scale_pixel(1), scale_pixel(8), scale_pixel(16)), (0, 16, 128, 255));
}

#[test]
fn stage_splits_stratified_and_seeded() {
    let r = run("dataset.digits", "").unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(train.len() + test.len(), 1797);
    // round(n_k * 0.25), halves up, per class.
    assert_eq!(test.class_counts(), vec![45, 46, 44, 46, 45, 46, 45, 45, 44, 45]);
    let all = load();
    for d in [&train, &test] {
        assert!(d.ids.windows(2).all(|w| w[0] < w[1]), "file order is kept");
        for (i, id) in d.ids.iter().enumerate() {
            assert_eq!(d.image(i), all.image(*id as usize));
            assert_eq!(d.labels[i], all.labels[*id as usize]);
        }
    }
    assert!(train.ids.iter().all(|id| test.ids.binary_search(id).is_err()));
    assert_eq!(train.meta.mean, test.meta.mean, "both splits carry the train statistics");
    assert_eq!(r.response.summary["test_samples"], 451);
    let again = run("dataset.digits", "").unwrap();
    assert_eq!(output(&again, "test").ids, test.ids);
    let other = run("dataset.digits", "test_fraction = 0.5").unwrap();
    assert_eq!(output(&other, "test").len(), 901); // odd class sizes round up
}

#[test]
fn bad_fraction_is_refused() {
    let e = common::error(run("dataset.digits", "test_fraction = 1.5"));
    assert_eq!((e.kind, e.causes.len()), (tmu_plugin::protocol::ErrorKind::Config, 1), "{e:?}");
    assert!(e.causes[0].starts_with("/test_fraction: ") && e.causes[0].contains("maximum"), "{e:?}");
}

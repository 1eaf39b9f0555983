//! `split.forget`: sizes, disjointness, members = retain + forget, seeds, stratification,
//! twin sets, id traceability, and an error for each impossible request.

use crate::common;

use std::collections::{BTreeMap, HashSet};

use tmu_datasets::digits::load;
use tmu_plugin::ArtifactKind;
use tmu_plugin::artifact::Dataset;
use tmu_plugin::protocol::WireError;
use tmu_test_support::{BlobsSpec, RecordingHost, RunOptions, StageRun, blobs, config, run_stage_with};

const PORTS: [&str; 5] = ["members", "retain", "forget", "twin_forget", "population"];

fn split_with_seed(
    data: &Dataset,
    toml: &str,
    seed: u64,
) -> Result<(StageRun, BTreeMap<&'static str, Dataset>), WireError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("data.safetensors");
    data.write(&path).unwrap();
    let inputs = tmu_plugin::Inputs::default().with("data", &path, ArtifactKind::Dataset);
    let opts = RunOptions { seed, ..RunOptions::default() };
    let r = run_stage_with(
        tmu_datasets::tmu_plugin(),
        "split.forget",
        inputs,
        config(toml),
        &opts,
        &RecordingHost::default(),
    )?;
    let parts = PORTS.iter().map(|p| (*p, common::output(&r, p))).collect();
    Ok((r, parts))
}

fn split(data: &Dataset, toml: &str) -> BTreeMap<&'static str, Dataset> {
    split_with_seed(data, toml, 0).unwrap().1
}

fn fail(data: &Dataset, toml: &str) -> WireError {
    match split_with_seed(data, toml, 0) {
        Ok(_) => panic!("`{toml}` should fail"),
        Err(e) => e,
    }
}

fn ids(d: &Dataset) -> HashSet<u64> {
    d.ids.iter().copied().collect()
}

/// Every output sample exists in the input with the same image, label and extra labels; ids ascend.
fn assert_traceable(input: &Dataset, parts: &BTreeMap<&str, Dataset>) {
    let index: BTreeMap<u64, usize> = input.ids.iter().enumerate().map(|(i, id)| (*id, i)).collect();
    for (port, d) in parts {
        assert!(d.ids.windows(2).all(|w| w[0] < w[1]), "{port}: input order kept");
        assert_eq!(d.meta, input.meta, "{port}: metadata kept");
        for (j, id) in d.ids.iter().enumerate() {
            let i = index[id];
            assert_eq!(d.image(j), input.image(i), "{port}: id {id}");
            assert_eq!(d.labels[j], input.labels[i], "{port}: id {id}");
            for (name, col) in &d.extra_labels {
                assert_eq!(col[j], input.extra_labels[name][i], "{port}: `{name}` of id {id}");
            }
        }
    }
}

/// The invariants every strategy keeps.
fn assert_partition(input: &Dataset, p: &BTreeMap<&str, Dataset>) {
    let (members, retain, forget, population) =
        (ids(&p["members"]), ids(&p["retain"]), ids(&p["forget"]), ids(&p["population"]));
    assert!(retain.is_disjoint(&forget));
    assert_eq!(retain.union(&forget).copied().collect::<HashSet<_>>(), members, "members = retain + forget");
    assert!(members.is_disjoint(&population), "the hold-out is never a member");
    assert_eq!(members.len() + population.len(), input.len());
    assert!(ids(&p["twin_forget"]).is_subset(&population), "the twin set comes from the hold-out");
    assert_traceable(input, p);
}

#[test]
fn class_fraction_is_the_paper_default() {
    let data = load();
    let p = split(&data, "class = 3");
    assert_partition(&data, &p);
    // Hold-out: round(n_c * 0.25) of every class (stratified).
    let holdout: Vec<usize> = data.class_counts().iter().map(|&n| (n as f64 * 0.25).round() as usize).collect();
    assert_eq!(p["population"].class_counts(), holdout);
    // Class 3 has 183 samples: 46 held out, 137 members, round(13.7) = 14 forgotten.
    assert_eq!(p["forget"].len(), 14);
    assert!(p["forget"].labels.iter().all(|&l| l == 3));
    assert_eq!(p["retain"].class_counts()[3], 137 - 14);
    // Twin: every hold-out sample of class 3 (i.i.d. with the forget set: same class, never seen).
    assert_eq!(p["twin_forget"].len(), 46);
    assert!(p["twin_forget"].labels.iter().all(|&l| l == 3));
    assert_eq!(
        ids(&p["twin_forget"]),
        p["population"].ids.iter().zip(&p["population"].labels).filter(|(_, l)| **l == 3).map(|(i, _)| *i).collect()
    );
}

#[test]
fn deterministic_by_seed() {
    let data = load();
    let (_, a) = split_with_seed(&data, "class = 3", 7).unwrap();
    let (_, b) = split_with_seed(&data, "class = 3", 7).unwrap();
    let (_, c) = split_with_seed(&data, "class = 3", 8).unwrap();
    for port in PORTS {
        assert_eq!(a[port].ids, b[port].ids, "{port}");
    }
    assert_ne!(a["forget"].ids, c["forget"].ids);
    assert_ne!(a["population"].ids, c["population"].ids);
    // The hold-out does not depend on which class is forgotten (one hold-out per seed).
    let (_, d) = split_with_seed(&data, "class = 5", 7).unwrap();
    assert_eq!(a["population"].ids, d["population"].ids);
}

#[test]
fn class_count_class_and_identity() {
    let data = load();
    let p = split(&data, "strategy = \"class-count\"\nclass = \"7\"\ncount = 20");
    assert_partition(&data, &p);
    assert_eq!(p["forget"].len(), 20);
    assert!(p["forget"].labels.iter().all(|&l| l == 7));

    let p = split(&data, "strategy = \"class\"\nclass = 0\nholdout = 0.2");
    assert_partition(&data, &p);
    assert_eq!(p["forget"].len(), 178 - 36);
    assert_eq!(p["retain"].class_counts()[0], 0);
    assert_eq!(p["twin_forget"].len(), 36);

    let p = split(&data, "strategy = \"identity\"\nclass = 2\nfraction = 0.5");
    assert_partition(&data, &p);
    assert_eq!(p["forget"].len(), 67, "round(133 * 0.5), halves up");
    assert_eq!(p["twin_forget"].len(), 44);
}

#[test]
fn random_twin_matches_the_class_mix() {
    let data = load();
    for cfg in ["strategy = \"random\"\ncount = 50", "strategy = \"random\"\nfraction = 0.05"] {
        let p = split(&data, cfg);
        assert_partition(&data, &p);
        assert_eq!(p["twin_forget"].class_counts(), p["forget"].class_counts(), "{cfg}");
        assert!(p["forget"].class_counts().iter().filter(|&&c| c > 0).count() > 3, "spread across classes");
    }
    assert_eq!(split(&data, "strategy = \"random\"\nfraction = 0.05")["forget"].len(), 67, "round(1346 * 0.05)");
}

/// Blobs with 4 classes and a `fine` column of 8 sub-classes (fine f belongs to class f / 2).
fn with_fine() -> Dataset {
    let mut d = blobs(BlobsSpec { n: 160, classes: 4, ..BlobsSpec::default() });
    let fine: Vec<u32> = (0..160).map(|i| (i % 4) as u32 * 2 + ((i / 4) % 2) as u32).collect();
    d.extra_labels.insert("fine".into(), fine);
    d.meta.extra_label_classes.insert("fine".into(), (0..8).map(|f| format!("sub{f}")).collect());
    d.validate().unwrap();
    d
}

#[test]
fn sub_class_forgets_inside_its_superclass() {
    let data = with_fine();
    let p = split(&data, "strategy = \"sub-class\"\nsub_class = \"sub5\"");
    assert_partition(&data, &p);
    // 20 samples of sub5: 5 held out, all 15 members forgotten; all in class 2.
    assert_eq!(p["forget"].len(), 15);
    assert!(p["forget"].extra_labels["fine"].iter().all(|&f| f == 5));
    assert!(p["forget"].labels.iter().all(|&l| l == 2));
    assert_eq!(p["twin_forget"].len(), 5);
    assert!(p["twin_forget"].extra_labels["fine"].iter().all(|&f| f == 5));
    // The hold-out is stratified by sub-class: 5 of each.
    let mut per_fine = [0; 8];
    for &f in &p["population"].extra_labels["fine"] {
        per_fine[f as usize] += 1;
    }
    assert_eq!(per_fine, [5; 8]);
    assert!(p["retain"].labels.contains(&2), "the rest of the superclass stays");
}

#[test]
fn impossible_requests_are_refused_precisely() {
    let data = load();
    let e = fail(&data, "class = 12");
    assert_eq!(e.message, "class 12 does not exist: the data has 10 (indices 0..=9)");
    assert!(e.help.unwrap().starts_with("valid values: 0 0, 1 1, 2 2"));
    let e = fail(&data, "class = \"cat\"");
    assert_eq!(e.message, "class `cat` does not exist: the data has 10 (indices 0..=9)");
    let e = fail(&data, "class = 3\nfraction = 0.0");
    assert_eq!(e.message, "`fraction` = 0 is out of range: it must lie in (0, 1]");
    let e = fail(&data, "class = 3\nfraction = 0.001");
    assert_eq!(
        e.message,
        "the forget set would be empty: the fraction of the 137 member samples of class 3 (3) rounds to 0"
    );
    let e = fail(&data, "strategy = \"class-count\"\nclass = 3\ncount = 500");
    assert_eq!(e.message, "`count` = 500, but class 3 (3) has only 137 member samples");
    let e = fail(&data, "holdout = 0.95\nclass = 1");
    assert_eq!((e.kind, e.causes.len()), (tmu_plugin::protocol::ErrorKind::Config, 1), "{e:?}");
    assert!(e.causes[0].starts_with("/holdout: ") && e.causes[0].contains("maximum"), "{e:?}");
    let e = fail(&data, "strategy = \"random\"");
    assert_eq!(e.message, "strategy `random` needs exactly one of `count` and `fraction`");
    let e = fail(&data, "strategy = \"class-fraction\"");
    assert_eq!(e.message, "strategy `class-fraction` needs `class` (an index or a class name)");
    let e = fail(&data, "class = 2\ncount = 3");
    assert_eq!(e.message, "`count` is not used by strategy `class-fraction`");
    let e = fail(&data, "strategy = \"sub-class\"\nsub_class = 1");
    assert_eq!(e.message, "strategy `sub-class` needs the extra label column `fine`, which the data lacks");
    let e = fail(&with_fine(), "strategy = \"sub-class\"\nsub_class = 9");
    assert_eq!(e.message, "sub_class 9 does not exist: the data has 8 (indices 0..=7)");

    // A class too small to have a hold-out share (round(2 * 0.2) = 0) leaves no twin.
    let mut tiny = blobs(BlobsSpec { n: 40, classes: 4, ..BlobsSpec::default() });
    tiny.labels.iter_mut().filter(|l| **l == 3).skip(2).for_each(|l| *l = 1);
    assert_eq!(tiny.class_counts()[3], 2);
    let e = fail(&tiny, "strategy = \"class\"\nclass = 3\nholdout = 0.2");
    assert_eq!(
        e.message,
        "the hold-out has no samples of class 3 (class3) (2 in the data), so there is no twin forget set"
    );
    assert_eq!(e.help.as_deref(), Some("raise `holdout`, or forget a class with more samples"));
}

//! `split.shadow`: a shadow keeps half of the members and of D_f, its parts partition what it
//! keeps, the keep-mask records them, each index draws its own half (the same one on a rerun),
//! and an input D_f outside the members is an error.

use crate::common;

use std::collections::HashSet;

use tmu_datasets::digits::load;
use tmu_plugin::ArtifactKind;
use tmu_plugin::artifact::{Dataset, Labels};
use tmu_test_support::{StageRun, config, run_stage};

fn write(dir: &std::path::Path, name: &str, d: &Dataset) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.safetensors"));
    d.write(&path).unwrap();
    path
}

fn shadow(members: &Dataset, forget: &Dataset, toml: &str) -> Result<StageRun, tmu_plugin::protocol::WireError> {
    let dir = tempfile::tempdir().unwrap();
    let inputs = tmu_plugin::Inputs::default()
        .with("members", write(dir.path(), "members", members), ArtifactKind::Dataset)
        .with("forget", write(dir.path(), "forget", forget), ArtifactKind::Dataset);
    run_stage(tmu_datasets::tmu_plugin(), "split.shadow", inputs, config(toml))
}

fn ids(d: &Dataset) -> HashSet<u64> {
    d.ids.iter().copied().collect()
}

#[test]
fn a_shadow_keeps_half_of_the_members_and_of_the_forget_set() {
    let data = load();
    let members = data.subset(&(0..400).collect::<Vec<_>>());
    let forget_idx: Vec<usize> = (0..400).filter(|i| members.labels[*i] == 8).take(21).collect();
    let forget = members.subset(&forget_idx);
    let run = shadow(&members, &forget, "index = 0").unwrap();
    let (m, r, f) = (common::output(&run, "members"), common::output(&run, "retain"), common::output(&run, "forget"));
    // round(0.5 * 21) = 11 of D_f, round(0.5 * 379) = 190 of the rest.
    assert_eq!((m.len(), r.len(), f.len()), (201, 190, 11));
    assert!(ids(&f).is_subset(&ids(&forget)));
    assert!(ids(&r).is_disjoint(&ids(&forget)));
    assert_eq!(ids(&m), ids(&r).union(&ids(&f)).copied().collect());
    let keep = Labels::read(&run.output("keep")).unwrap();
    assert_eq!(keep.ids, members.ids);
    let kept: HashSet<u64> = keep.ids.iter().zip(&keep.labels).filter(|(_, l)| **l == 1).map(|(i, _)| *i).collect();
    assert_eq!(kept, ids(&m));

    let again = common::output(&shadow(&members, &forget, "index = 0").unwrap(), "forget");
    assert_eq!(again.ids, f.ids, "an index draws the same half on a rerun");
    let other = shadow(&members, &forget, "index = 1").unwrap();
    assert_ne!(common::output(&other, "members").ids, m.ids, "another index draws another half");
    assert_eq!(common::output(&other, "forget").len(), 11, "every shadow forgets as many samples");
}

#[test]
fn a_forget_set_outside_the_members_is_an_error() {
    let data = load();
    let members = data.subset(&(0..100).collect::<Vec<_>>());
    let forget = data.subset(&[99, 100, 101]);
    let e = common::error(shadow(&members, &forget, "index = 0"));
    assert!(e.to_string().contains("2 of the 3 samples of input `forget` are not among input `members`"), "{e}");
}

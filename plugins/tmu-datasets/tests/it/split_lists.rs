//! `split.forget` with deletion requests as lists (`ids`, `files`) and the user's own
//! `holdout`: the forget set is exactly the list, its twin is class-matched, and every unusable
//! entry is an error that names the first few and counts the rest.

use std::collections::HashSet;
use std::fs;
use std::path::Path;

use tmu_plugin::artifact::Dataset;
use tmu_plugin::protocol::WireError;
use tmu_plugin::{ArtifactKind, Inputs};
use tmu_test_support::{BlobsSpec, StageRun, blobs, config, run_stage};

use crate::common::{output, run, toml_path, write_png};

/// 60 blobs in 3 classes, ids 100..160.
fn data() -> Dataset {
    blobs(BlobsSpec { n: 60, classes: 3, channels: 1, size: 4, noise: 20, seed: 3, first_id: 100 })
}

fn split(dir: &Path, data: &Dataset, holdout: Option<&Dataset>, toml: &str) -> Result<StageRun, WireError> {
    let path = dir.join("data.safetensors");
    data.write(&path).unwrap();
    let mut inputs = Inputs::default().with("data", &path, ArtifactKind::Dataset);
    if let Some(h) = holdout {
        let hp = dir.join("holdout.safetensors");
        h.write(&hp).unwrap();
        inputs = inputs.with("holdout", &hp, ArtifactKind::Dataset);
    }
    run_stage(tmu_datasets::tmu_plugin(), "split.forget", inputs, config(toml))
}

fn ids(d: &Dataset) -> HashSet<u64> {
    d.ids.iter().copied().collect()
}

fn class_counts(d: &Dataset) -> Vec<usize> {
    d.class_counts()
}

#[test]
fn an_id_list_is_the_forget_set_and_its_twin_is_class_matched() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("forget.txt");
    fs::write(&list, "# deletion request 7\n101\n\n105\n130 \n159\n").unwrap();
    let r = split(dir.path(), &data(), None, &format!("strategy = \"ids\"\nlist = {}", toml_path(&list))).unwrap();
    let [members, retain, forget, twin, population] =
        ["members", "retain", "forget", "twin_forget", "population"].map(|p| output(&r, p));
    assert_eq!(forget.ids, vec![101, 105, 130, 159]);
    assert!(ids(&forget).is_subset(&ids(&members)));
    assert_eq!(ids(&retain), ids(&members).difference(&ids(&forget)).copied().collect());
    assert!(ids(&population).is_disjoint(&ids(&members)));
    assert_eq!(members.len() + population.len(), 60);
    assert!(ids(&twin).is_subset(&ids(&population)));
    assert_eq!(class_counts(&twin), class_counts(&forget));
}

#[test]
fn a_holdout_input_replaces_the_carved_holdout() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("forget.txt");
    fs::write(&list, "101\n130\n").unwrap();
    let outside = blobs(BlobsSpec { n: 30, classes: 3, channels: 1, size: 4, noise: 20, seed: 9, first_id: 0 });
    let cfg = format!("strategy = \"ids\"\nlist = {}", toml_path(&list));
    let r = split(dir.path(), &data(), Some(&outside), &cfg).unwrap();
    let (members, forget, twin, population) =
        (output(&r, "members"), output(&r, "forget"), output(&r, "twin_forget"), output(&r, "population"));
    assert_eq!(members.ids, data().ids, "every sample the model was trained on is a member");
    assert_eq!(forget.ids, vec![101, 130]);
    assert_eq!(population.images, outside.images);
    assert_eq!(class_counts(&twin), class_counts(&forget));
    assert!(ids(&population).is_disjoint(&ids(&members)));

    // Colliding ids move past the members'.
    let clash = blobs(BlobsSpec { n: 30, classes: 3, channels: 1, size: 4, noise: 20, seed: 9, first_id: 120 });
    let r = split(dir.path(), &data(), Some(&clash), &cfg).unwrap();
    assert_eq!(output(&r, "population").ids[0], 120 + 160);
    assert_eq!(r.response.summary["holdout_id_offset"], 160);

    let e = split(dir.path(), &data(), Some(&outside), "strategy = \"random\"\ncount = 3").unwrap_err();
    assert!(e.message.contains("the `holdout` input is for strategies `ids` and `files`"), "{e:?}");
}

#[test]
fn unusable_entries_are_named_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("forget.txt");
    fs::write(&list, "101\n7\n101\nabc\n-3\n99\n1000\n102\n").unwrap();
    let e = split(dir.path(), &data(), None, &format!("strategy = \"ids\"\nlist = {}", toml_path(&list))).unwrap_err();
    assert_eq!(
        e.message,
        format!(
            "6 of the 8 entries of {} are not usable: line 2: id `7` is not in the data; line 3: `101` repeats \
             line 1; line 4: `abc` is not a sample id (an integer from 0 to 2^64-1); line 5: `-3` is not a sample \
             id (an integer from 0 to 2^64-1); line 6: id `99` is not in the data; and 1 more",
            list.display()
        )
    );
    fs::write(&list, "# nothing\n").unwrap();
    let e = split(dir.path(), &data(), None, &format!("strategy = \"ids\"\nlist = {}", toml_path(&list))).unwrap_err();
    assert!(e.message.contains("names no samples"), "{e:?}");
    let e =
        split(dir.path(), &data(), None, &format!("strategy = \"files\"\nlist = {}", toml_path(&list))).unwrap_err();
    assert!(e.message.starts_with("strategy `files` needs file names"), "{e:?}");
    let e = split(dir.path(), &data(), None, "strategy = \"ids\"").unwrap_err();
    assert!(e.message.contains("needs `list`"), "{e:?}");
}

#[test]
fn a_file_list_names_images_of_an_image_folder() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("images");
    for (k, class) in ["cat", "dog"].iter().enumerate() {
        fs::create_dir_all(root.join(class)).unwrap();
        for i in 0..16 {
            write_png(&root.join(format!("{class}/{i}.png")), 8, 8, (k * 16 + i) as u32);
        }
    }
    let r =
        run("dataset.image-folder", &format!("root = {}\nsize = 8\ntest_fraction = 0.25", toml_path(&root))).unwrap();
    let train = output(&r, "train");
    let named: Vec<String> = train.ids.iter().take(3).map(|&id| train.meta.files[id as usize].clone()).collect();
    let list = dir.path().join("forget.txt");
    fs::write(&list, format!("{}\n./{}\n{}\n", named[0], named[1], named[2])).unwrap();
    let cfg = format!("strategy = \"files\"\nlist = {}\nholdout = 0.5", toml_path(&list));
    let r = split(dir.path(), &train, None, &cfg).unwrap();
    let forget = output(&r, "forget");
    assert_eq!(forget.ids, train.ids[..3].to_vec());

    fs::write(&list, format!("{}\n../secret.png\n/etc/passwd\ncat/none.png\n", named[0])).unwrap();
    let e = split(dir.path(), &train, None, &cfg).unwrap_err();
    assert!(e.message.contains("line 2: `../secret.png` is outside the data set's root"), "{e:?}");
    assert!(e.message.contains("line 3: `/etc/passwd` is outside the data set's root"), "{e:?}");
    assert!(e.message.contains("line 4: file `cat/none.png` is not in the data"), "{e:?}");
}

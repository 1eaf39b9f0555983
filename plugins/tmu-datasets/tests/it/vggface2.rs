//! `dataset.vggface2` on a small VGGFace2 tree of JPEGs with a bounding-box CSV.

use crate::common;

use std::fs;
use std::path::Path;

use common::{error, output, run, toml_path, write_jpeg};
use tmu_test_support::{RecordingHost, RunOptions, config, run_stage_with};

/// Images per identity of the test tree.
const IDENTITIES: [(&str, usize); 4] = [("n000001", 3), ("n000002", 5), ("n000003", 4), ("n000004", 2)];

/// The box of image `i` of identity `k`: inside the 40x48 image, moving with `i`.
fn bbox(k: usize, i: usize) -> (u32, u32, u32, u32) {
    (4 + i as u32, 6 + k as u32, 16, 20)
}

fn image_name(i: usize) -> String {
    format!("{:04}_01", i + 1)
}

/// `root/train/<identity>/<NNNN>_01.jpg`, `root/bb_landmark/loose_bb_train.csv`, `root/identity_meta.csv`.
fn write_tree(root: &Path) {
    let mut csv = String::from("\"NAME_ID\",\"X\",\"Y\",\"W\",\"H\"\n");
    for (k, (id, n)) in IDENTITIES.iter().enumerate() {
        let dir = root.join("train").join(id);
        fs::create_dir_all(&dir).unwrap();
        for i in 0..*n {
            write_jpeg(&dir.join(format!("{}.jpg", image_name(i))), 40, 48, (k * 10 + i) as u32);
            let (x, y, w, h) = bbox(k, i);
            csv.push_str(&format!("\"{id}/{}\",{x},{y},{w},{h}\n", image_name(i)));
        }
    }
    fs::create_dir_all(root.join("bb_landmark")).unwrap();
    fs::write(root.join("bb_landmark/loose_bb_train.csv"), csv).unwrap();
    fs::write(
        root.join("identity_meta.csv"),
        "Class_ID, Name, Sample_Num, Flag, Gender\nn000001, \"Ann_A\", 3, 1, f\nn000002, \"Bob_B\", 5, 1, m\n\
         n000003, \"Cy_C\", 4, 1, m\nn000004, \"Di_D\", 2, 1, f\n",
    )
    .unwrap();
}

/// The expected CHW pixels of image `i` of identity `k`: the JPEG decoded independently, cut to
/// the `h`-high version of its box (no resize: the box is the output size).
fn expected_crop(root: &Path, k: usize, i: usize, h: u32) -> Vec<u8> {
    let path = root.join("train").join(IDENTITIES[k].0).join(format!("{}.jpg", image_name(i)));
    let img = image::open(path).unwrap().to_rgb8();
    let (x, y, w, _) = bbox(k, i);
    let mut out = vec![0u8; (3 * w * h) as usize];
    for c in 0..3 {
        for yy in 0..h {
            for xx in 0..w {
                out[(c * w * h + yy * w + xx) as usize] = img.get_pixel(x + xx, y + yy)[c as usize];
            }
        }
    }
    out
}

fn base(root: &Path) -> String {
    format!("root = {}", toml_path(root))
}

#[test]
fn top_identities_cropped_exactly_and_split_per_identity() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    // Square 16x16 boxes and 16x16 outputs: the crop is taken without resampling.
    let csv = dir.path().join("bb_landmark/loose_bb_train.csv");
    let text = fs::read_to_string(&csv).unwrap().replace(",16,20\n", ",16,16\n");
    fs::write(&csv, text).unwrap();
    let r = run(
        "dataset.vggface2",
        &format!("{}\nidentities = 2\nsize = 16\nfit = \"stretch\"\ntest_fraction = 0.25", base(dir.path())),
    )
    .unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(train.meta.classes, vec!["n000002", "n000003"], "the two with most images, by name");
    assert_eq!((train.len(), test.len()), (7, 2));
    assert_eq!(test.class_counts(), vec![1, 1]);
    assert_eq!(train.shape[1..], [3, 16, 16]);
    for d in [&train, &test] {
        for (j, &id) in d.ids.iter().enumerate() {
            // ids number the chosen images: n000002's 0..5, then n000003's 5..9.
            let (k, i) = if id < 5 { (1, id as usize) } else { (2, id as usize - 5) };
            assert_eq!(d.labels[j] as usize, k - 1);
            assert_eq!(d.image(j), expected_crop(dir.path(), k, i, 16).as_slice(), "image {i} of identity {k}");
        }
    }
    let summary = &r.response.summary;
    assert_eq!(summary["identity_names"]["n000002"], "Bob_B");
    assert_eq!(summary["images_without_box"], 0);
    assert_eq!(summary["skipped_images"], 0);
}

#[test]
fn named_identities_margin_resize_and_cap() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let cfg = format!(
        "{}\nidentities = [\"n000004\", \"n000001\"]\nsize = 8\nmargin = 0.5\nfilter = \"triangle\"",
        base(dir.path())
    );
    let r = run("dataset.vggface2", &cfg).unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(train.meta.classes, vec!["n000004", "n000001"], "classes in the order listed");
    assert_eq!(train.len() + test.len(), 5);
    // Image 0 of n000004: box (4, 9, 16, 20) grown by 50% = (0, 4, 24, 30); centre crop to
    // 24x24 at y = 7; resized to 8x8 with a triangle filter.
    // The stage resizes with `fast_image_resize` (Pillow's fixed-point bilinear convolution; see
    // `imaging::resize`, whose unit test checks it against values computed with Pillow), and
    // `image`'s f32 triangle filter, the independent computation here, rounds differently: the
    // same crop and filter agree within 2 levels of 255 (1 is what we see on this image).
    let img = image::open(dir.path().join("train/n000004/0001_01.jpg")).unwrap();
    let want = img.crop_imm(0, 7, 24, 24).resize_exact(8, 8, image::imageops::FilterType::Triangle).to_rgb8();
    let (d, j) = [&train, &test]
        .into_iter()
        .find_map(|d| d.ids.iter().position(|&id| id == 0).map(|j| (d, j)))
        .expect("id 0 is in one split");
    let got = d.image(j);
    let mut worst = 0;
    for (p, px) in want.pixels().enumerate() {
        let ours = [got[p], got[64 + p], got[128 + p]];
        worst = worst.max((0..3).map(|c| ours[c].abs_diff(px.0[c])).max().unwrap());
    }
    assert!(worst <= 2, "largest difference to `image`'s resize: {worst} levels");

    // A cap of 2 images per identity: a seeded choice, the same for the same seed.
    let capped = format!("{cfg}\nmax_images_per_identity = 2");
    let a = run("dataset.vggface2", &capped).unwrap();
    let b = run("dataset.vggface2", &capped).unwrap();
    let ids = |r: &tmu_test_support::StageRun| {
        let mut v = [output(r, "train").ids, output(r, "test").ids].concat();
        v.sort_unstable();
        v
    };
    assert_eq!(ids(&a).len(), 4);
    assert_eq!(ids(&a), ids(&b));
}

#[test]
fn corrupt_images_fail_or_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let bad = dir.path().join("train/n000002/0003_01.jpg");
    fs::write(&bad, b"\xff\xd8\xff\xe0 this is not really a jpeg").unwrap();
    let cfg = format!("{}\nidentities = [\"n000002\"]", base(dir.path()));
    let e = error(run("dataset.vggface2", &cfg));
    assert!(e.message.starts_with(&format!("image {}: cannot decode", bad.display())), "{}", e.message);
    assert!(e.help.unwrap().contains("on_corrupt = \"skip\""));

    let r = run("dataset.vggface2", &format!("{cfg}\non_corrupt = \"skip\"")).unwrap();
    assert_eq!(r.response.summary["skipped_images"], 1);
    assert_eq!(r.response.summary["skipped_files"][0], bad.display().to_string());
    let n = output(&r, "train").len() + output(&r, "test").len();
    assert_eq!(n, 4);
    assert!(!output(&r, "train").ids.contains(&2) && !output(&r, "test").ids.contains(&2), "id 2 was the bad file");

    // The decompression-bomb guard: images larger than `max_dimension` are refused.
    let e = error(run("dataset.vggface2", &format!("{cfg}\nmax_dimension = 32")));
    assert!(e.message.contains("exceeds the decoding limits (32 pixels a side"), "{}", e.message);
}

#[test]
fn layout_errors_are_specific() {
    let dir = tempfile::tempdir().unwrap();
    let e = error(run("dataset.vggface2", &base(dir.path())));
    assert_eq!(e.message, format!("no VGGFace2 images: {} is not a folder", dir.path().join("train").display()));
    let help = e.help.unwrap();
    assert!(help.contains("/train/<identity>/<image>.jpg") && help.contains("loose_bb_train.csv"), "{help}");

    write_tree(dir.path());
    let empty = dir.path().join("train/n000009");
    fs::create_dir_all(&empty).unwrap();
    let e = error(run("dataset.vggface2", &format!("{}\nidentities = [\"n000009\"]", base(dir.path()))));
    assert_eq!(e.message, format!("identity folder {} has no images (.jpg, .jpeg or .png)", empty.display()));

    let e = error(run("dataset.vggface2", &format!("{}\nidentities = 5", base(dir.path()))));
    assert!(e.message.starts_with("5 identities wanted"), "{}", e.message);
    assert!(e.causes[0].contains("n000009 has no images"), "{:?}", e.causes);

    let e = error(run("dataset.vggface2", &format!("{}\nidentities = [\"n999999\"]", base(dir.path()))));
    assert_eq!(e.message, format!("identity `n999999` not found in {}", dir.path().join("train").display()));
    assert!(e.help.unwrap().contains("5 identity folders, such as n000001"));
}

#[test]
fn box_file_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let csv = dir.path().join("bb_landmark/loose_bb_train.csv");
    let good = fs::read_to_string(&csv).unwrap();
    let cfg = format!("{}\nidentities = [\"n000001\"]\ncrop = \"boxes\"", base(dir.path()));

    fs::write(&csv, good.replace("\"n000001/0002_01\",5,6,", "\"n000001/0002_01\",abc,6,")).unwrap();
    let e = error(run("dataset.vggface2", &cfg));
    assert_eq!(e.message, format!("{}: line 3: X of `n000001/0002_01` is `abc`, not a number", csv.display()));

    let without: String = good.lines().filter(|l| !l.contains("n000001/0003_01")).map(|l| format!("{l}\n")).collect();
    fs::write(&csv, without).unwrap();
    let e = error(run("dataset.vggface2", &cfg));
    let img = dir.path().join("train/n000001/0003_01.jpg");
    assert_eq!(e.message, format!("{} has no box for `n000001/0003_01` ({})", csv.display(), img.display()));
    // `auto` uses such an image whole and counts it.
    let r = run("dataset.vggface2", &cfg.replace("\"boxes\"", "\"auto\"")).unwrap();
    assert_eq!(r.response.summary["images_without_box"], 1);

    fs::write(&csv, good.replace("\"n000001/0001_01\",4,6,", "\"n000001/0001_01\",400,6,")).unwrap();
    let e = error(run("dataset.vggface2", &cfg));
    assert!(e.message.ends_with("bounding box x=400 y=6 w=16 h=20 lies outside the 40x48 image"), "{}", e.message);

    fs::remove_file(&csv).unwrap();
    let e = error(run("dataset.vggface2", &cfg));
    assert_eq!(e.message, format!("box file {} not found (`crop = \"boxes\"`)", csv.display()));
}

#[test]
fn split_depends_on_the_seed() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path());
    let cfg = config(&format!("{}\nidentities = 4\nsize = 8\ntest_fraction = 0.5", base(dir.path())));
    let go = |seed| {
        let opts = RunOptions { seed, ..RunOptions::default() };
        let r = run_stage_with(
            tmu_datasets::tmu_plugin(),
            "dataset.vggface2",
            tmu_plugin::Inputs::default(),
            cfg.clone(),
            &opts,
            &RecordingHost::default(),
        )
        .unwrap();
        output(&r, "test").ids
    };
    assert_eq!(go(1), go(1));
    assert_ne!(go(1), go(2));
}

//! `dataset.image-folder`: one folder per class, PNG and JPEG, split or with a test folder.

use crate::common;

use std::fs;
use std::path::Path;

use common::{error, output, pattern, run, toml_path, write_jpeg, write_png};

/// `root/cat/{a,b,c}.png`, `root/dog/{a,b}.png` + `root/dog/c.jpg`, 8x8.
fn write_folder(root: &Path) {
    for (k, class) in ["cat", "dog"].iter().enumerate() {
        let dir = root.join(class);
        fs::create_dir_all(&dir).unwrap();
        for (i, name) in ["a", "b", "c"].iter().enumerate() {
            let seed = (k * 3 + i) as u32;
            if *class == "dog" && *name == "c" {
                write_jpeg(&dir.join("c.JPG"), 8, 8, seed);
            } else {
                write_png(&dir.join(format!("{name}.png")), 8, 8, seed);
            }
        }
        fs::write(dir.join("notes.txt"), "not an image").unwrap();
    }
}

/// CHW bytes of `pattern(w, h, seed)`.
fn chw(img: &image::RgbImage) -> Vec<u8> {
    (0..3).flat_map(|c| img.pixels().map(move |p| p.0[c])).collect()
}

#[test]
fn reads_classes_and_pixels_exactly() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let r = run("dataset.image-folder", &format!("root = {}\nsize = 8\ntest_fraction = 0.34", toml_path(dir.path())))
        .unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(train.meta.classes, vec!["cat", "dog"]);
    assert_eq!((train.len(), test.len()), (4, 2), "round(3 * 0.34) = 1 per class");
    assert_eq!(test.class_counts(), vec![1, 1]);
    for d in [&train, &test] {
        for (j, &id) in d.ids.iter().enumerate() {
            assert_eq!(d.labels[j], (id / 3) as u32, "ids number the files class by class");
            if id != 5 {
                // PNGs are lossless: the pixels are the pattern itself.
                assert_eq!(d.image(j), chw(&pattern(8, 8, id as u32)).as_slice(), "id {id}");
            }
        }
    }

    // Grey: one channel of luma, as `image` computes it.
    let r = run("dataset.image-folder", &format!("root = {}\nsize = 8\nchannels = \"grey\"", toml_path(dir.path())))
        .unwrap();
    let all = [output(&r, "train"), output(&r, "test")];
    let (d, j) = all.iter().find_map(|d| d.ids.iter().position(|&id| id == 0).map(|j| (d, j))).unwrap();
    assert_eq!(d.shape[1], 1);
    let luma = image::DynamicImage::ImageRgb8(pattern(8, 8, 0)).to_luma8().into_raw();
    assert_eq!(d.image(j), luma.as_slice());
}

#[test]
fn center_crop_takes_the_middle_square() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("wide")).unwrap();
    fs::create_dir_all(dir.path().join("tall")).unwrap();
    for i in 0..2 {
        write_png(&dir.path().join(format!("wide/{i}.png")), 12, 8, i);
        write_png(&dir.path().join(format!("tall/{i}.png")), 8, 12, i + 2);
    }
    let r = run("dataset.image-folder", &format!("root = {}\nsize = 8\ntest_fraction = 0.5", toml_path(dir.path())))
        .unwrap();
    let all = [output(&r, "train"), output(&r, "test")];
    for d in &all {
        for (j, &id) in d.ids.iter().enumerate() {
            // Classes sorted: tall (ids 0, 1), wide (ids 2, 3).
            let (seed, img) =
                if id < 2 { (id + 2, pattern(8, 12, id as u32 + 2)) } else { (id - 2, pattern(12, 8, id as u32 - 2)) };
            let (x, y) = if id < 2 { (0, 2) } else { (2, 0) };
            let want = image::imageops::crop_imm(&img, x, y, 8, 8).to_image();
            assert_eq!(d.image(j), chw(&want).as_slice(), "id {id} (seed {seed})");
        }
    }
}

#[test]
fn separate_test_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (train_dir, test_dir) = (dir.path().join("train"), dir.path().join("test"));
    write_folder(&train_dir);
    fs::create_dir_all(test_dir.join("dog")).unwrap();
    write_png(&test_dir.join("dog/x.png"), 8, 8, 40);
    let cfg = format!("root = {}\ntest = {}\nsize = 8", toml_path(&train_dir), toml_path(&test_dir));
    let r = run("dataset.image-folder", &cfg).unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(train.len(), 6);
    assert_eq!((test.ids.clone(), test.labels.clone()), (vec![6], vec![1]));
    // Sample id -> file relative to its folder, for deletion requests by file.
    let files = ["cat/a.png", "cat/b.png", "cat/c.png", "dog/a.png", "dog/b.png", "dog/c.JPG", "dog/x.png"];
    assert_eq!(train.meta.files, files);
    assert_eq!(test.image(0), chw(&pattern(8, 8, 40)).as_slice());

    fs::create_dir_all(test_dir.join("bird")).unwrap();
    let e = error(run("dataset.image-folder", &cfg));
    assert_eq!(
        e.message,
        format!(
            "test class folder {} has no counterpart in {} (classes: cat, dog)",
            test_dir.join("bird").display(),
            train_dir.display()
        )
    );
    let e =
        error(run("dataset.image-folder", &format!("root = {}\ntest = \"/no/such/folder\"", toml_path(&train_dir))));
    assert_eq!(e.message, "test folder /no/such/folder not found");
}

#[test]
fn errors_name_the_folder_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing");
    let e = error(run("dataset.image-folder", &format!("root = {}", toml_path(&missing))));
    assert_eq!(e.message, format!("image folder {} not found", missing.display()));
    assert!(e.help.unwrap().contains("/<class>/<image>.jpg"));

    write_folder(dir.path());
    let empty = dir.path().join("emu");
    fs::create_dir_all(&empty).unwrap();
    let e = error(run("dataset.image-folder", &format!("root = {}", toml_path(dir.path()))));
    assert_eq!(e.message, format!("class folder {} has no images (.jpg, .jpeg or .png)", empty.display()));
    fs::remove_dir(&empty).unwrap();

    let bad = dir.path().join("cat/b.png");
    fs::write(&bad, b"\x89PNG\r\n\x1a\n truncated").unwrap();
    let e = error(run("dataset.image-folder", &format!("root = {}\nsize = 8", toml_path(dir.path()))));
    assert!(e.message.starts_with(&format!("image {}: cannot decode", bad.display())), "{}", e.message);
    let r = run("dataset.image-folder", &format!("root = {}\nsize = 8\non_corrupt = \"skip\"", toml_path(dir.path())))
        .unwrap();
    assert_eq!(r.response.summary["skipped_images"], 1);
    assert_eq!(output(&r, "train").len() + output(&r, "test").len(), 5);

    let e = error(run("dataset.image-folder", &format!("root = {}\nsize = 4", toml_path(dir.path()))));
    assert_eq!((e.kind, e.causes.len()), (tmu_plugin::protocol::ErrorKind::Config, 1), "{e:?}");
    assert!(e.causes[0].starts_with("/size: ") && e.causes[0].contains("minimum"), "{e:?}");
}

/// A PNG of a few dozen bytes whose header declares `w x h` pixels of 16-bit RGB: what a
/// decompression bomb looks like to the decoder before it allocates.
fn png_header_only(w: u32, h: u32) -> Vec<u8> {
    let chunk = |kind: &[u8], data: &[u8]| {
        let mut c = (data.len() as u32).to_be_bytes().to_vec();
        c.extend_from_slice(kind);
        c.extend_from_slice(data);
        let mut crc = crc32fast::Hasher::new();
        crc.update(kind);
        crc.update(data);
        c.extend_from_slice(&crc.finalize().to_be_bytes());
        c
    };
    let mut ihdr = w.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&h.to_be_bytes());
    ihdr.extend_from_slice(&[16, 2, 0, 0, 0]);
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    png.extend(chunk(b"IHDR", &ihdr));
    png.extend(chunk(b"IDAT", &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    png.extend(chunk(b"IEND", &[]));
    png
}

#[test]
fn decompression_bombs_are_refused_before_they_are_decoded() {
    let dir = tempfile::tempdir().unwrap();
    write_folder(dir.path());
    let bomb = dir.path().join("cat/b.png");
    // 60,000 pixels a side (21.6 GB decoded): over `max_dimension`.
    fs::write(&bomb, png_header_only(60_000, 60_000)).unwrap();
    let e = error(run("dataset.image-folder", &format!("root = {}\nsize = 8", toml_path(dir.path()))));
    assert!(e.message.starts_with(&format!("image {}: exceeds the decoding limits", bomb.display())), "{}", e.message);
    // 8,000 a side passes the dimension limit, but 384 MB decoded is over a 16 MB allocation limit.
    fs::write(&bomb, png_header_only(8_000, 8_000)).unwrap();
    let e =
        error(run("dataset.image-folder", &format!("root = {}\nsize = 8\nmax_alloc_mb = 16", toml_path(dir.path()))));
    assert!(e.message.contains("exceeds the decoding limits"), "{}", e.message);
    assert!(e.message.contains("16777216 bytes"), "{}", e.message);
}

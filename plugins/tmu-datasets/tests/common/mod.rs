//! Shared helpers of the integration tests: writing files in each real format, reading outputs.
#![allow(dead_code)]

use std::path::Path;

use tmu_plugin::artifact::Dataset;
use tmu_plugin::protocol::WireError;
use tmu_test_support::{StageRun, config, run_stage};

/// Runs a stage of this plugin with a TOML config body and no inputs.
pub fn run(kind: &str, toml_body: &str) -> Result<StageRun, WireError> {
    run_stage(tmu_datasets::tmu_plugin(), kind, tmu_plugin::Inputs::default(), config(toml_body))
}

/// Reads output `port` of a finished run.
pub fn output(run: &StageRun, port: &str) -> Dataset {
    Dataset::read(&run.output(port)).expect("output is a valid dataset artifact")
}

/// The error of a run that must fail, on one line (message and causes).
pub fn error(result: Result<StageRun, WireError>) -> WireError {
    match result {
        Ok(_) => panic!("the stage succeeded, an error was expected"),
        Err(e) => e,
    }
}

/// A TOML string literal of a path.
pub fn toml_path(p: &Path) -> String {
    format!("{:?}", p.display().to_string())
}

/// The 3,072 pixels of CIFAR test image `i` of a stream: a pattern that differs per image and
/// per channel, so a record read from the wrong place or plane is caught.
pub fn cifar_pixels(stream: u64, i: usize) -> Vec<u8> {
    (0..3072).map(|p| ((p as u64 * 31 + i as u64 * 17 + stream * 101 + (p as u64 / 1024) * 59) % 256) as u8).collect()
}

/// Writes a binary CIFAR file: per record the label bytes, then the pixels.
pub fn write_cifar_bin(path: &Path, labels: &[Vec<u8>], stream: u64) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut images = Vec::new();
    for (i, l) in labels.iter().enumerate() {
        bytes.extend_from_slice(l);
        let px = cifar_pixels(stream, i);
        bytes.extend_from_slice(&px);
        images.extend_from_slice(&px);
    }
    std::fs::write(path, bytes).unwrap();
    images
}

pub const CIFAR10_NAMES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// A CIFAR-10 binary tree under `root/cifar-10-batches-bin`: 5 train files of `per_file` records
/// and a test file of `test` records. Returns (train images, train labels, test images, test labels).
pub fn write_cifar10_bin(root: &Path, per_file: usize, test: usize) -> (Vec<u8>, Vec<u32>, Vec<u8>, Vec<u32>) {
    let dir = root.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    for f in 1..=5u64 {
        let l: Vec<u8> = (0..per_file).map(|i| ((i as u64 * 3 + f) % 10) as u8).collect();
        images.extend(write_cifar_bin(
            &dir.join(format!("data_batch_{f}.bin")),
            &l.iter().map(|&x| vec![x]).collect::<Vec<_>>(),
            f,
        ));
        labels.extend(l.iter().map(|&x| u32::from(x)));
    }
    let tl: Vec<u8> = (0..test).map(|i| (i % 10) as u8).collect();
    let test_images = write_cifar_bin(&dir.join("test_batch.bin"), &tl.iter().map(|&x| vec![x]).collect::<Vec<_>>(), 9);
    std::fs::write(dir.join("batches.meta.txt"), CIFAR10_NAMES.join("\n") + "\n\n").unwrap();
    (images, labels, test_images, tl.iter().map(|&x| u32::from(x)).collect())
}

/// Names `<prefix>0 ... <prefix>{n-1}`.
pub fn names(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}{i}")).collect()
}

/// CIFAR-100 binary tree: `train` and `test` records; fine label i % 100, coarse fine / 5.
/// Returns (train images, coarse, fine, test images, coarse, fine).
pub fn write_cifar100_bin(root: &Path, train: usize, test: usize) -> [Vec<u32>; 4] {
    let dir = root.join("cifar-100-binary");
    std::fs::create_dir_all(&dir).unwrap();
    let mut out: [Vec<u32>; 4] = Default::default();
    for (k, (file, n, stream)) in [("train.bin", train, 1u64), ("test.bin", test, 2)].into_iter().enumerate() {
        let fine: Vec<u8> = (0..n).map(|i| ((i * 7) % 100) as u8).collect();
        let coarse: Vec<u8> = fine.iter().map(|f| f / 5).collect();
        let labels: Vec<Vec<u8>> = coarse.iter().zip(&fine).map(|(c, f)| vec![*c, *f]).collect();
        write_cifar_bin(&dir.join(file), &labels, stream);
        out[2 * k] = coarse.iter().map(|&x| u32::from(x)).collect();
        out[2 * k + 1] = fine.iter().map(|&x| u32::from(x)).collect();
    }
    std::fs::write(dir.join("coarse_label_names.txt"), names("super", 20).join("\n")).unwrap();
    std::fs::write(dir.join("fine_label_names.txt"), names("fine", 100).join("\n")).unwrap();
    out
}

/// A pickle as Python 2's cPickle (protocol 2) writes torchvision's CIFAR batches: a dict with
/// str keys (SHORT_BINSTRING), a numpy uint8 array built by `_reconstruct` + BUILD with its data
/// as a BINSTRING, and label lists of BININT1 in APPENDS groups. Checked once by loading a file
/// written by this function with `pickle.load(f, encoding="bytes")` in Python 3.11 + numpy 2.
pub struct Py2Pickle {
    out: Vec<u8>,
    memo: u8,
}

impl Py2Pickle {
    pub fn new() -> Self {
        Py2Pickle { out: vec![0x80, 2, b'}', b'q', 0, b'('], memo: 1 }
    }

    fn put(&mut self) {
        self.out.extend_from_slice(&[b'q', self.memo]);
        self.memo = self.memo.wrapping_add(1);
    }

    fn short_str(&mut self, s: &str) {
        self.out.push(b'U');
        self.out.push(s.len() as u8);
        self.out.extend_from_slice(s.as_bytes());
        self.put();
    }

    /// `key: numpy.uint8 array [rows, cols]`.
    pub fn array(mut self, key: &str, rows: usize, cols: usize, data: &[u8]) -> Self {
        self.short_str(key);
        self.out.extend_from_slice(b"cnumpy.core.multiarray\n_reconstruct\n");
        self.put();
        self.out.extend_from_slice(b"cnumpy\nndarray\n");
        self.put();
        self.out.extend_from_slice(&[b'K', 0, 0x85]);
        self.put();
        self.short_str("b");
        self.out.push(0x87);
        self.put();
        self.out.push(b'R');
        self.put();
        self.out.extend_from_slice(&[b'(', b'K', 1, b'J']);
        self.out.extend_from_slice(&(rows as u32).to_le_bytes());
        self.out.push(b'M');
        self.out.extend_from_slice(&(cols as u16).to_le_bytes());
        self.out.push(0x86);
        self.put();
        self.out.extend_from_slice(b"cnumpy\ndtype\n");
        self.put();
        self.short_str("u1");
        self.out.extend_from_slice(&[b'K', 0, b'K', 1, 0x87]);
        self.put();
        self.out.push(b'R');
        self.put();
        self.out.extend_from_slice(&[b'(', b'K', 3]);
        self.short_str("|");
        self.out.extend_from_slice(b"NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00t");
        self.put();
        self.out.extend_from_slice(&[b'b', 0x89, b'T']);
        self.out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        self.out.extend_from_slice(data);
        self.put();
        self.out.push(b't');
        self.put();
        self.out.push(b'b');
        self
    }

    /// `key: str`.
    pub fn string(mut self, key: &str, value: &str) -> Self {
        self.short_str(key);
        self.short_str(value);
        self
    }

    /// `key: [int, ...]` (values below 256).
    pub fn ints(mut self, key: &str, values: &[u32]) -> Self {
        self.short_str(key);
        self.out.push(b']');
        self.put();
        for chunk in values.chunks(1000) {
            self.out.push(b'(');
            for &v in chunk {
                self.out.extend_from_slice(&[b'K', v as u8]);
            }
            self.out.push(b'e');
        }
        self
    }

    /// `key: [str, ...]`.
    pub fn strings(mut self, key: &str, values: &[String]) -> Self {
        self.short_str(key);
        self.out.push(b']');
        self.put();
        self.out.push(b'(');
        for v in values {
            self.short_str(v);
        }
        self.out.push(b'e');
        self
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(b"u.");
        self.out
    }
}

/// Writes a JPEG (quality 95) of a `w x h` RGB gradient pattern seeded by `seed`.
pub fn write_jpeg(path: &Path, w: u32, h: u32, seed: u32) {
    let img = pattern(w, h, seed);
    let file = std::fs::File::create(path).unwrap();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(std::io::BufWriter::new(file), 95);
    enc.encode_image(&img).unwrap();
}

/// Writes a PNG of the same pattern (lossless, so pixels can be compared exactly).
pub fn write_png(path: &Path, w: u32, h: u32, seed: u32) {
    pattern(w, h, seed).save_with_format(path, image::ImageFormat::Png).unwrap();
}

/// A smooth colour pattern that differs by seed.
pub fn pattern(w: u32, h: u32, seed: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            ((x * 255 / w.max(1) + seed * 40) % 256) as u8,
            ((y * 255 / h.max(1) + seed * 70) % 256) as u8,
            ((x + y + seed * 13) % 256) as u8,
        ])
    })
}

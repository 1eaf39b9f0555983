//! Benchmark of the data-set stages on full-size inputs (run in release; not a test):
//! reading the CIFAR-10 binary layout (5 x 10,000 records + a test file, generated here) and
//! decoding 1,000 JPEGs through `dataset.vggface2`.
//!
//! When `python3` has NumPy (and Pillow, for the JPEGs), the same work is timed in Python in the
//! same run (`bench_reference.py`, on the same files) and the ratios are printed: tmu's
//! images/s over the reference's, best run of each.
//!
//! `cargo xtask bench data`, or `cargo run --release -p tmu-datasets --example bench [-- <scratch folder>]`

use std::path::Path;
use std::time::Instant;

use tmu_test_support::{config, run_stage};

/// A fast deterministic byte stream (xorshift64*), so generating 184 MB takes well under a second.
fn bytes(seed: u64, n: usize) -> Vec<u8> {
    let mut s = seed | 1;
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        out.extend_from_slice(&s.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes());
    }
    out.truncate(n);
    out
}

fn write_cifar10(root: &Path) -> u64 {
    let dir = root.join("cifar-10-batches-bin");
    std::fs::create_dir_all(&dir).unwrap();
    let mut total = 0;
    for (f, name) in
        (1..=6).map(|f| (f, if f == 6 { "test_batch.bin".to_string() } else { format!("data_batch_{f}.bin") }))
    {
        let mut data = bytes(f, 10_000 * 3073);
        for r in 0..10_000 {
            data[r * 3073] = (r % 10) as u8;
        }
        std::fs::write(dir.join(name), &data).unwrap();
        total += data.len() as u64;
    }
    let names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];
    std::fs::write(dir.join("batches.meta.txt"), names.join("\n")).unwrap();
    total
}

/// 10 identities x 100 JPEGs of 250x250 (smooth gradients plus texture, quality 90), and boxes.
fn write_faces(root: &Path) -> u64 {
    let mut csv = String::from("NAME_ID,X,Y,W,H\n");
    let mut total = 0;
    for k in 0..10u32 {
        let id = format!("n{:06}", k + 1);
        let dir = root.join("train").join(&id);
        std::fs::create_dir_all(&dir).unwrap();
        for i in 0..100u32 {
            let noise = bytes(u64::from(k * 1000 + i), 250 * 250);
            let img = image::RgbImage::from_fn(250, 250, |x, y| {
                let n = noise[(y * 250 + x) as usize] / 8;
                image::Rgb([(x + k * 20) as u8 ^ n, (y + i) as u8 ^ n, ((x + y) / 2) as u8 ^ n])
            });
            let path = dir.join(format!("{:04}_01.jpg", i + 1));
            let file = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            image::codecs::jpeg::JpegEncoder::new_with_quality(file, 90).encode_image(&img).unwrap();
            total += std::fs::metadata(&path).unwrap().len();
            csv.push_str(&format!("{id}/{:04}_01,{},{},{},{}\n", i + 1, 40 + i % 20, 30, 160, 190));
        }
    }
    std::fs::create_dir_all(root.join("bb_landmark")).unwrap();
    std::fs::write(root.join("bb_landmark/loose_bb_train.csv"), csv).unwrap();
    total
}

fn time<T>(what: &str, f: impl FnOnce() -> T) -> (T, f64) {
    let start = Instant::now();
    let out = f();
    let secs = start.elapsed().as_secs_f64();
    println!("{what}: {secs:.3} s");
    (out, secs)
}

/// Times of `bench_reference.py <dir> <which>` (one per run), or why there are none.
fn reference(dir: &Path, which: &str, modules: &str) -> Result<Vec<f64>, String> {
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let probe = std::process::Command::new(&python).args(["-c", &format!("import {modules}")]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        return Err(format!("`{python} -c \"import {modules}\"` fails (pip install numpy pillow)"));
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/bench_reference.py");
    let out = std::process::Command::new(&python)
        .arg(&script)
        .arg(dir)
        .arg(which)
        .output()
        .map_err(|e| format!("cannot start {python}: {e}"))?;
    if !out.status.success() {
        return Err(format!("{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr)));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut secs = Vec::new();
    for line in text.lines() {
        println!("  reference (Python) {line}");
        if let Some(s) = line.rsplit(": ").next().and_then(|t| t.strip_suffix(" s")).and_then(|t| t.parse().ok()) {
            secs.push(s);
        }
    }
    Ok(secs)
}

/// Prints tmu's best time against the reference's best, as an images/s ratio.
fn compare(what: &str, ours: &[f64], theirs: Result<Vec<f64>, String>) {
    let best = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    match theirs {
        Ok(t) if !t.is_empty() => println!(
            "{what}: tmu best {:.3} s, Python best {:.3} s, ratio (tmu images/s / Python images/s) {:.2}",
            best(ours),
            best(&t),
            best(&t) / best(ours)
        ),
        Ok(_) => println!("{what}: the reference printed no times"),
        Err(why) => println!("{what}: no reference: {why}"),
    }
}

fn main() {
    let scratch = std::env::args().nth(1).map(std::path::PathBuf::from).unwrap_or_else(std::env::temp_dir);
    let dir = tempfile::tempdir_in(scratch).unwrap();
    let plugin = tmu_datasets::tmu_plugin();
    println!("rayon threads: {}", rayon::current_num_threads());

    let (mb, _) = time("generate CIFAR-10 binary layout", || write_cifar10(dir.path()) as f64 / 1e6);
    let cfg = config(&format!("root = {:?}", dir.path().display().to_string()));
    let mut ours = Vec::new();
    for attempt in 1..=3 {
        let (run, secs) = time(&format!("dataset.cifar10, 60,000 images (run {attempt})"), || {
            run_stage(plugin, "dataset.cifar10", Default::default(), cfg.clone()).unwrap()
        });
        println!("  {:.0} MB/s of input, {:.0} images/s, summary {}", mb / secs, 60_000.0 / secs, run.response.summary);
        ours.push(secs);
    }
    compare("CIFAR-10 binary read", &ours, reference(dir.path(), "cifar", "numpy"));
    let limited = config(&format!("root = {:?}\nlimit = 2000", dir.path().display().to_string()));
    time("dataset.cifar10 with limit = 2000", || {
        run_stage(plugin, "dataset.cifar10", Default::default(), limited).unwrap()
    });

    let faces = dir.path().join("vggface2");
    let (jpeg_bytes, _) = time("generate 1,000 JPEGs (250x250)", || write_faces(&faces));
    println!("  {:.1} MB of JPEG", jpeg_bytes as f64 / 1e6);
    let cfg = config(&format!("root = {:?}\nidentities = 10\nsize = 112", faces.display().to_string()));
    let mut ours = Vec::new();
    for attempt in 1..=3 {
        let (_, secs) = time(&format!("dataset.vggface2, 1,000 JPEGs -> 112x112 crops (run {attempt})"), || {
            run_stage(plugin, "dataset.vggface2", Default::default(), cfg.clone()).unwrap()
        });
        println!("  {:.0} images/s", 1000.0 / secs);
        ours.push(secs);
    }
    compare("1,000 JPEGs decoded, cropped, resized", &ours, reference(dir.path(), "faces", "numpy, PIL"));
}

//! Seed corpora: the repository's own files (pipelines, validation test data, plugin
//! descriptions, pickled CIFAR batches) and small valid inputs made here with tmu's own
//! writers (artifacts, CIFAR records, PNG and JPEG images, protocol messages).

use std::path::{Path, PathBuf};

use tmu_plugin::artifact::{Dataset, DatasetMeta, Features, Labels};
use tmu_plugin::protocol::{ErrorKind, RunRequest, RunResponse, WireError};

/// The first-party plugins' self-descriptions, as committed in `docs/plugins/`.
pub const PLUGIN_DESCRIPTIONS: &[(&str, &str)] = &[
    ("tmu-datasets", include_str!("../../../docs/plugins/tmu-datasets.json")),
    ("tmu-eval", include_str!("../../../docs/plugins/tmu-eval.json")),
    ("tmu-features", include_str!("../../../docs/plugins/tmu-features.json")),
    ("tmu-forget", include_str!("../../../docs/plugins/tmu-forget.json")),
    ("tmu-predictor", include_str!("../../../docs/plugins/tmu-predictor.json")),
    ("tmu-report", include_str!("../../../docs/plugins/tmu-report.json")),
    ("tmu-train", include_str!("../../../docs/plugins/tmu-train.json")),
];

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The seed inputs of a target (by name), in a stable order.
pub fn seeds(target: &str) -> Vec<Vec<u8>> {
    match target {
        "pipeline" => pipeline_seeds(),
        "artifact" => artifact_seeds(),
        "cifar_binary" => cifar_binary_seeds(),
        "cifar_pickle" => files_under(&repo().join("crates/tmu-fuzz/corpus/cifar_pickle"), &[]),
        "image" => image_seeds(),
        "protocol" => protocol_seeds(),
        other => panic!("no fuzz target `{other}`"),
    }
}

/// Tokens a mutation may insert for a target: the vocabulary of its format.
pub fn dictionary(target: &str) -> &'static [&'static str] {
    match target {
        "pipeline" => &[
            "[stages.x]",
            "[sweep]",
            "[plugins]",
            "kind = ",
            "inputs = ",
            "config = ",
            "bind = ",
            "values = ",
            "format = 1",
            "seed = ",
            "device = \"cuda:9\"",
            "\"a.b\"",
            "{ x = \"a.b\" }",
            "[",
            "]",
            "{",
            "}",
            "=",
            "\"",
            ",",
            ".",
            "\n",
            "1e309",
            "-0",
            "nan",
            "inf",
            "18446744073709551616",
            "'''",
            "\"\"\"",
            "\\u0000",
            "split.config.class",
            "split.members",
        ],
        "protocol" | "artifact" => &[
            "{",
            "}",
            "[",
            "]",
            ":",
            ",",
            "\"",
            "null",
            "true",
            "-1",
            "1e999",
            "18446744073709551615",
            "\"__metadata__\"",
            "\"tmu.kind\"",
            "\"dtype\"",
            "\"shape\"",
            "\"data_offsets\"",
            "\"U8\"",
            "\"F32\"",
            "\"stages\"",
            "\"config_schema\"",
            "\"$ref\"",
            "\"preflight\"",
            "\"inputs\"",
            "\"one\"",
            "\"map\"",
        ],
        _ => &[],
    }
}

fn pipeline_seeds() -> Vec<Vec<u8>> {
    let mut seeds = files_under(&repo().join("pipelines"), &["toml"]);
    seeds.extend(files_under(&repo().join("crates/tmu-core/test_data"), &["toml"]));
    seeds
}

/// Every file with one of `extensions` (any file when empty) under `dir`, sorted by path.
fn files_under(dir: &Path, extensions: &[&str]) -> Vec<Vec<u8>> {
    let mut paths = Vec::new();
    collect(dir, &mut paths);
    paths.retain(|p| extensions.is_empty() || p.extension().is_some_and(|e| extensions.iter().any(|x| e == *x)));
    paths.sort();
    paths.into_iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// Writes with `write` into a temp file and returns the bytes.
fn written(write: impl FnOnce(&Path)) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("a temp folder");
    let path = dir.path().join("seed");
    write(&path);
    std::fs::read(&path).expect("the seed was written")
}

fn artifact_seeds() -> Vec<Vec<u8>> {
    let meta = DatasetMeta {
        classes: vec!["a".into(), "b".into()],
        mean: vec![0.5],
        std: vec![0.25],
        source: "fuzz seed".into(),
        extra_label_classes: Default::default(),
        files: Vec::new(),
    };
    let images: Vec<u8> = (0..2 * 4 * 4).map(|i| (i * 37 % 256) as u8).collect();
    let dataset = Dataset::new(images, [2, 1, 4, 4], vec![0, 1], vec![10, 11], meta).expect("a valid data set");
    let features = Features::new(vec![0.5, -1.0, 2.0, 0.0], vec![1, 2], vec!["df".into(), "af".into()]).expect("valid");
    let labels = Labels::new(vec![1, 0, 1], vec![7, 8, 9], vec!["hard".into(), "easy".into()]).expect("valid");
    let model = {
        use tmu_nn::{ArchConfig, Network, NetworkSpec, models::MlpConfig};
        let spec = NetworkSpec {
            arch: ArchConfig::Mlp(MlpConfig { hidden: vec![3], dropout: 0.0 }),
            classes: vec!["a".into(), "b".into()],
            input_shape: [1, 2, 2],
            mean: vec![0.5],
            std: vec![0.25],
        };
        let net = Network::new(spec, &tmu_nn::candle::Device::Cpu, 0).expect("a tiny network");
        written(|p| net.save(p).expect("saving the model"))
    };
    vec![
        written(|p| dataset.write(p).expect("writing the data set")),
        written(|p| features.write(p).expect("writing features")),
        written(|p| labels.write(p).expect("writing labels")),
        model,
        br#"{"accuracy": 0.5, "per_class": [1, 2]}"#.to_vec(),
    ]
}

fn cifar_binary_seeds() -> Vec<Vec<u8>> {
    let record = |labels: &[u8], shade: u8| {
        let mut r = labels.to_vec();
        r.extend((0..3072).map(|i| (i as u8).wrapping_mul(shade)));
        r
    };
    vec![
        [record(&[3], 1), record(&[9], 7), record(&[0], 13)].concat(),
        [record(&[5, 42], 3), record(&[19, 99], 5)].concat(),
        record(&[1], 2),
    ]
}

fn image_seeds() -> Vec<Vec<u8>> {
    use image::{DynamicImage, ImageFormat, RgbImage};
    let rgb = RgbImage::from_fn(7, 5, |x, y| image::Rgb([(x * 30) as u8, (y * 50) as u8, 128]));
    let encode = |img: DynamicImage, format: ImageFormat| {
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, format).expect("encoding a seed image");
        out.into_inner()
    };
    let img = DynamicImage::ImageRgb8(rgb);
    vec![
        encode(img.clone(), ImageFormat::Png),
        encode(img.clone(), ImageFormat::Jpeg),
        encode(DynamicImage::ImageLuma8(img.to_luma8()), ImageFormat::Png),
        encode(DynamicImage::ImageRgba16(img.to_rgba16()), ImageFormat::Png),
    ]
}

fn protocol_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = PLUGIN_DESCRIPTIONS.iter().map(|(_, json)| json.as_bytes().to_vec()).collect();
    let request = |kind: &str, config: serde_json::Value| RunRequest {
        stage: "a".into(),
        kind: kind.into(),
        config,
        inputs: Default::default(),
        output_dir: "/nonexistent/out".into(),
        work_dir: "/nonexistent/work".into(),
        seed: 7,
        device: "cpu".into(),
        preflight: true,
    };
    for r in [
        request("dataset.digits", serde_json::json!({})),
        request("split.forget", serde_json::json!({ "strategy": "class-fraction", "class": 3, "fraction": 0.1 })),
        request("dataset.synthetic", serde_json::json!({ "train_per_class": 4 })),
        request("dataset.cifar10", serde_json::json!({ "root": "/nonexistent" })),
    ] {
        seeds.push(serde_json::to_vec(&r).expect("a request serialises"));
    }
    let response = RunResponse {
        resolved_config: serde_json::json!({ "epochs": 3 }),
        device: "cpu".into(),
        summary: serde_json::json!({ "accuracy": 0.9 }),
    };
    seeds.push(serde_json::to_vec(&response).expect("a response serialises"));
    let mut error = WireError::new(ErrorKind::Failed, "it broke");
    error.causes.push("because".into());
    error.help = Some("try again".into());
    seeds.push(serde_json::to_vec(&error).expect("an error serialises"));
    seeds
}

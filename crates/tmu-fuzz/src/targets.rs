//! The fuzz targets: each takes arbitrary bytes and drives one reader of untrusted input the way
//! tmu does. A target returns normally for every input; a panic (or a hang, or unbounded memory
//! under libFuzzer) is a bug in the reader.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use tmu_core::{Catalog, RenderStyle, StageCatalog};
use tmu_plugin::artifact::{Container, Dataset, Features, Labels, read_header, read_metrics};
use tmu_plugin::protocol::{PluginDescription, RunRequest, RunResponse, StageDescription, WireError};
use tmu_plugin::{ArtifactKind, NullHost};

/// A target: a name and the function that takes the bytes.
pub type Target = (&'static str, fn(&[u8]));

/// Every target, by name (the names of the cargo-fuzz targets in `fuzz/`).
pub const TARGETS: &[Target] = &[
    ("pipeline", pipeline),
    ("artifact", artifact),
    ("cifar_binary", cifar_binary),
    ("cifar_pickle", cifar_pickle),
    ("image", image),
    ("protocol", protocol),
];

/// The first-party plugins' stage descriptions: the catalog a pipeline is validated against.
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| {
        let stages = crate::seeds::PLUGIN_DESCRIPTIONS.iter().flat_map(|(_, json)| {
            let d: serde_json::Value = serde_json::from_str(json).expect("docs/plugins/*.json are JSON");
            serde_json::from_value::<Vec<StageDescription>>(d["stages"].clone()).expect("stage descriptions")
        });
        Catalog::new(stages).expect("no kind is described twice")
    })
}

/// A pipeline file: parse, validate against the real stages' schemas (sweeps expanded), and
/// render what comes out (the plan as text and DOT, or every diagnostic with its source line).
pub fn pipeline(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match tmu_core::load(Path::new("fuzz.toml"), text, catalog()) {
        Ok(plan) => {
            let _ = tmu_core::plan_text(&plan);
            let _ = tmu_core::plan_dot(&plan);
        }
        Err(diagnostics) => {
            let _ = diagnostics.render(RenderStyle::Plain);
        }
    }
}

/// This thread's scratch file, in a folder that lives as long as the process.
fn scratch(name: &str) -> PathBuf {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    thread_local! {
        static ID: RefCell<Option<u64>> = const { RefCell::new(None) };
    }
    let dir = DIR.get_or_init(|| tempfile::tempdir().expect("a temp folder"));
    let id = ID.with(|id| {
        *id.borrow_mut().get_or_insert_with(|| {
            static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        })
    });
    let sub = dir.path().join(id.to_string());
    std::fs::create_dir_all(&sub).expect("a scratch folder");
    sub.join(name)
}

fn write_scratch(name: &str, data: &[u8]) -> PathBuf {
    let path = scratch(name);
    std::fs::write(&path, data).expect("writing a scratch file");
    path
}

/// A safetensors artifact file as every artifact reader reads it: the header alone (what the
/// host checks of each output), the container, each typed artifact, the metrics JSON, and a
/// model (spec and weights onto the CPU).
pub fn artifact(data: &[u8]) {
    let path = write_scratch("artifact.safetensors", data);
    let _ = read_header(&path);
    let _ = Container::read_any(&path);
    for kind in [ArtifactKind::Dataset, ArtifactKind::Features, ArtifactKind::Labels, ArtifactKind::Model] {
        let _ = Container::read(&path, kind);
    }
    let _ = Dataset::read(&path);
    let _ = Features::read(&path);
    let _ = Labels::read(&path);
    let _ = read_metrics(&path);
    let _ = tmu_nn::Network::read_spec(&path);
    let _ = tmu_nn::Network::load(&path, &tmu_nn::candle::Device::Cpu);
}

/// CIFAR binary batches: a CIFAR-10 file (one label byte a record) and a CIFAR-100 file (two).
pub fn cifar_binary(data: &[u8]) {
    use tmu_datasets::readers::{LabelByte, read_binary};
    let path = write_scratch("data_batch_1.bin", data);
    let files = [path];
    let _ = read_binary(&files, &[LabelByte { name: "label", classes: 10 }], None);
    let _ = read_binary(&files, &[LabelByte { name: "label", classes: 10 }], Some(3));
    let coarse = LabelByte { name: "coarse label", classes: 20 };
    let fine = LabelByte { name: "fine label", classes: 100 };
    let _ = read_binary(&files, &[coarse, fine], None);
}

/// torchvision's pickled CIFAR batches: the unpickler alone, then the batch reader of both
/// variants.
pub fn cifar_pickle(data: &[u8]) {
    use tmu_datasets::readers::{LabelByte, read_python, unpickle};
    let _ = unpickle(data);
    let path = write_scratch("data_batch_1", data);
    let files = [path];
    let _ = read_python(&files, &[("labels", LabelByte { name: "label", classes: 10 })], None);
    let coarse = ("coarse_labels", LabelByte { name: "coarse label", classes: 20 });
    let fine = ("fine_labels", LabelByte { name: "fine label", classes: 100 });
    let _ = read_python(&files, &[coarse, fine], Some(2));
}

/// An image file through the decoding path of the image data sets: decoded within limits,
/// cropped to a box (whole, inside, partly outside), fitted and resized.
pub fn image(data: &[u8]) {
    use tmu_datasets::readers::{Channels, CropBox, Fit, ResizeFilter, image_prep, load_image};
    let path = write_scratch("image.img", data);
    // Small limits, as a user would set against decompression bombs.
    let prep = image_prep(16, Channels::Rgb, Fit::CenterCrop, ResizeFilter::Triangle, 2048, 16).expect("valid");
    let _ = load_image(&path, None, &prep);
    let grey = image_prep(8, Channels::Grey, Fit::Stretch, ResizeFilter::Nearest, 2048, 16).expect("valid");
    let _ = load_image(&path, Some(CropBox { x: 1.0, y: 1.0, w: 3.0, h: 2.0 }), &grey);
    let _ = load_image(&path, Some(CropBox { x: -4.0, y: 0.5, w: 1e9, h: f32::NAN }), &grey);
}

/// The plugin protocol's JSON, both ways: a plugin reading a run request (given to a real
/// plugin as a preflight, which reads and writes nothing), and a host reading a plugin's
/// description (then validating a pipeline against it), response or error.
pub fn protocol(data: &[u8]) {
    if let Ok(mut request) = serde_json::from_slice::<RunRequest>(data) {
        request.preflight = true;
        let _ = tmu_datasets::tmu_plugin().run(&request, &NullHost);
    }
    if let Ok(description) = serde_json::from_slice::<PluginDescription>(data)
        && let Ok(catalog) = Catalog::new(description.stages)
    {
        let kinds: Vec<String> = catalog.kinds().iter().map(|k| k.to_string()).collect();
        for kind in kinds.iter().take(4) {
            let text = format!("format = 1\nname = \"p\"\n[stages.a]\nkind = \"{kind}\"\nconfig = {{ x = 1 }}\n");
            let _ = tmu_core::load(Path::new("fuzz.toml"), &text, &catalog);
        }
        let _ = tmu_core::pipeline_schema(&catalog);
    }
    if let Ok(response) = serde_json::from_slice::<RunResponse>(data) {
        let _ = serde_json::to_vec(&response);
    }
    if let Ok(error) = serde_json::from_slice::<WireError>(data) {
        let _ = error.chain_line();
    }
}

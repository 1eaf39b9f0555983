//! Per-stage facts the executor derives from the plan: plugin, device, cache key, input files.

use std::path::PathBuf;

use indexmap::IndexMap;
use tmu_core::{CacheIngredients, OutputRef, Plan, PlannedInput, PlannedStage, PluginId, PortBinding, cache_key};
use tmu_plugin::{ArtifactRef, Binding, DeviceSpec, Inputs};

use super::error::RunError;
use crate::loader::LoadedPlugin;
use crate::record::{CacheRecord, InputRecord, PluginRecord};
use crate::registry::Registry;
use crate::store::{OUT_DIR, RunsDir};

/// Whether this machine seems to have an NVIDIA GPU (the host links no CUDA; it looks for the
/// driver's device files).
fn gpu_present() -> bool {
    static PRESENT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PRESENT.get_or_init(|| {
        std::path::Path::new("/dev/nvidia0").exists()
            || std::fs::read_dir("/proc/driver/nvidia/gpus").is_ok_and(|mut d| d.next().is_some())
    })
}

/// The device a stage will run on, resolved: `auto` becomes `cuda:0` when the plugin was
/// built with CUDA and a GPU is present, else `cpu`. This is what the cache key and the
/// plugin see.
pub fn resolve_device(spec: DeviceSpec, plugin_has_cuda: bool) -> String {
    match spec {
        DeviceSpec::Cpu => "cpu".into(),
        DeviceSpec::Cuda(n) => format!("cuda:{n}"),
        DeviceSpec::Auto if plugin_has_cuda && gpu_present() => "cuda:0".into(),
        DeviceSpec::Auto => "cpu".into(),
    }
}

/// `cpu` or `cuda`: what a resolved device (`cpu`, `cuda:N`) contributes to a cache key.
pub fn device_kind(device: &str) -> &str {
    device.split_once(':').map_or(device, |(kind, _)| kind)
}

/// The plugin of each stage, in plan order.
pub fn stage_plugins<'r>(plan: &Plan, registry: &'r Registry) -> Result<Vec<&'r LoadedPlugin>, RunError> {
    plan.stages
        .iter()
        .map(|s| {
            registry
                .lookup(&s.kind)
                .map(|(p, _)| p)
                .ok_or_else(|| RunError::UnknownKind { stage: s.name.clone(), kind: s.kind.clone() })
        })
        .collect()
}

pub fn plugin_record(plugin: &LoadedPlugin) -> PluginRecord {
    PluginRecord {
        name: plugin.description.name.clone(),
        version: plugin.description.version.clone(),
        sdk: plugin.sdk.clone(),
        file: plugin.path.clone(),
        blake3: plugin.binary_hash.clone(),
    }
}

/// The record of the stage that produced `r`, among finished ones (`done[i]` for stage `i`).
fn upstream<'a>(plan: &Plan, done: &'a [Option<CacheRecord>], r: &OutputRef) -> &'a CacheRecord {
    let i = plan.index_of(&r.stage).expect("a validated plan's references name its stages");
    done[i].as_ref().expect("inputs are resolved only once every dependency finished")
}

/// The cache key of a stage run with `inputs` (its planned inputs, or those left once failed
/// points are left out of gathering inputs), every one of which finished.
pub fn stage_key(
    plan: &Plan,
    stage: &PlannedStage,
    inputs: &[PlannedInput],
    plugin: &LoadedPlugin,
    device: &str,
    done: &[Option<CacheRecord>],
) -> String {
    let inputs: Vec<(String, PortBinding<String>)> = inputs
        .iter()
        .map(|input| {
            let hashes = input.binding.map(|r| upstream(plan, done, r).outputs[&r.output].blake3.clone());
            (input.port.clone(), hashes)
        })
        .collect();
    // The device's kind, not its index: the same work on `cuda:0` and on `cuda:1` is the same
    // result, so a stage placed on another GPU of the same run (`ExecOptions::devices`) or of a
    // later one reuses it.
    let device = device_kind(device);
    cache_key(&CacheIngredients {
        kind: &stage.kind,
        plugin: PluginId {
            name: &plugin.description.name,
            version: &plugin.description.version,
            binary_hash: &plugin.binary_hash,
        },
        config: &stage.config,
        seed: stage.seed,
        inputs: &inputs,
        device,
    })
}

/// The input files of a stage run with `planned` (inside its dependencies' cache entries), and
/// their records.
pub fn stage_inputs(
    plan: &Plan,
    planned: &[PlannedInput],
    runs: &RunsDir,
    done: &[Option<CacheRecord>],
) -> (Inputs, IndexMap<String, Vec<InputRecord>>) {
    let mut inputs = Inputs::default();
    let mut records = IndexMap::new();
    for input in planned {
        let artifact = |r: &OutputRef| {
            let up = upstream(plan, done, r);
            let out = &up.outputs[&r.output];
            let path: PathBuf = runs.cache_dir(&up.key).join(OUT_DIR).join(&out.file);
            ArtifactRef { path, kind: out.kind, source: r.to_string() }
        };
        let record = |name: Option<&String>, r: &OutputRef| InputRecord {
            name: name.cloned(),
            source: r.to_string(),
            blake3: upstream(plan, done, r).outputs[&r.output].blake3.clone(),
        };
        let (binding, recs) = match &input.binding {
            PortBinding::One(r) => (Binding::One(artifact(r)), vec![record(None, r)]),
            PortBinding::List(v) => {
                (Binding::List(v.iter().map(artifact).collect()), v.iter().map(|r| record(None, r)).collect())
            }
            PortBinding::Map(m) => (
                Binding::Map(m.iter().map(|(k, r)| (k.clone(), artifact(r))).collect()),
                m.iter().map(|(k, r)| record(Some(k), r)).collect(),
            ),
        };
        inputs.insert(input.port.clone(), binding);
        records.insert(input.port.clone(), recs);
    }
    (inputs, records)
}

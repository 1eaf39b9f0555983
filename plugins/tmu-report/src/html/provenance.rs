//! Where a report's inputs came from, read from the store the host keeps: an input artifact lies
//! at `<runs>/.cache/<key>/out/<file>` and the host records its producer in
//! `<runs>/.cache/<key>/entry.json` (ARCHITECTURE.md, "Run folders"): the cache key, the stage
//! kind, the plugin's name, version, SDK and binary hash, the resolved config, the seed and the
//! device. Reading it needs no change to the plugin ABI and shows exactly what the host recorded.

use serde_json::Value;
use tmu_plugin::{ArtifactRef, Binding, Inputs};

/// One producing cache entry of a report's inputs.
#[derive(Clone, Debug, PartialEq)]
pub struct Producer {
    /// `<stage>.<output>` as the pipeline names it (the first input that used this entry).
    pub source: String,
    /// The map keys (sweep points) and ports that read this entry.
    pub used_as: Vec<String>,
    /// The producer's `entry.json`, when the input lies in a tmu store; `None` for an input
    /// handed in from elsewhere (a test, a file outside the store).
    pub entry: Option<Value>,
}

impl Producer {
    pub fn key(&self) -> Option<&str> {
        self.entry.as_ref()?.get("key")?.as_str()
    }

    /// A field of the entry as text (`kind`, `plugin.version`, `device_used`, ...).
    pub fn field(&self, path: &str) -> Option<String> {
        let mut v = self.entry.as_ref()?;
        for part in path.split('.') {
            v = v.get(part)?;
        }
        Some(match v {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

/// The producers of every input, one per cache entry, in the order the ports list them.
pub fn producers(inputs: &Inputs) -> Vec<Producer> {
    let mut out: Vec<Producer> = Vec::new();
    let mut add = |port: &str, label: Option<&str>, a: &ArtifactRef| {
        let used = match label {
            Some(l) => format!("{port}[{l}]"),
            None => port.to_string(),
        };
        let entry = entry_of(a);
        let key = entry.as_ref().and_then(|e| e.get("key")).and_then(Value::as_str).map(str::to_string);
        let same = out.iter_mut().find(|p| match (&key, p.key()) {
            (Some(k), Some(pk)) => k == pk,
            _ => p.entry.is_none() && entry.is_none() && p.source == a.source,
        });
        match same {
            Some(p) => p.used_as.push(used),
            None => out.push(Producer { source: a.source.clone(), used_as: vec![used], entry }),
        }
    };
    for (port, binding) in &inputs.ports {
        match binding {
            Binding::One(a) => add(port, None, a),
            Binding::List(list) => list.iter().for_each(|a| add(port, None, a)),
            Binding::Map(map) => map.iter().for_each(|(label, a)| add(port, Some(label), a)),
        }
    }
    out
}

/// `entry.json` two folders above the artifact (`.cache/<key>/out/<file>`), if it is one.
fn entry_of(a: &ArtifactRef) -> Option<Value> {
    let out = a.path.parent()?;
    if out.file_name()? != "out" {
        return None;
    }
    let text = std::fs::read_to_string(out.parent()?.join("entry.json")).ok()?;
    serde_json::from_str(&text).ok()
}

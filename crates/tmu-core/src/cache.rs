//! Cache keys: a pure function of everything that determines a stage's outputs; canonical JSON.

use crate::plan::PortBinding;

/// Which build of which plugin runs a stage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PluginId<'a> {
    /// The plugin crate's name (`PluginDescription::name`).
    pub name: &'a str,
    /// The plugin crate's version.
    pub version: &'a str,
    /// A content hash (hex) of the plugin's library file, so that a rebuilt plugin with an
    /// unchanged version number still invalidates its cached results.
    pub binary_hash: &'a str,
}

/// Everything a stage's outputs depend on; see [`cache_key`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CacheIngredients<'a> {
    /// The stage kind (`train.classifier`).
    pub kind: &'a str,
    pub plugin: PluginId<'a>,
    /// The stage's config as written in the pipeline file (not the plugin's resolved config,
    /// which is only known after the run). Hashed in [`canonical_json`] form.
    pub config: &'a serde_json::Value,
    /// The stage's seed ([`crate::PlannedStage::seed`]).
    pub seed: u64,
    /// For each connected input port in the stage's port order ([`crate::PlannedStage::inputs`]):
    /// the port name and the content hashes (hex) of the artifacts bound to it, in the binding's
    /// shape (map keys included: swapping two named models changes the key).
    pub inputs: &'a [(String, PortBinding<String>)],
    /// The device the stage will run on, resolved (`cpu`, `cuda:0`): not `auto`, so that a CPU
    /// result is never reused for a CUDA run or the reverse.
    pub device: &'a str,
}

/// Version of the key's layout; bump it to invalidate every cache entry.
const DOMAIN: &str = "tmu.cache-key.v1";

/// The cache key of a stage run: blake3 (64 hex digits) of, in this order and each written as
/// a tag, a little-endian u64 byte length and the bytes (so no two ingredient lists collide):
///
/// 1. the domain `tmu.cache-key.v1`;
/// 2. `kind`;
/// 3. `plugin.name`, `plugin.version`, `plugin.binary_hash`;
/// 4. `config` in [`canonical_json`] form (key order and whitespace do not matter);
/// 5. `seed` as 8 little-endian bytes;
/// 6. the number of connected input ports, then for each port in order: its name, its arity
///    (`one`, `list`, `map`), the number of artifacts, and each artifact's content hash (for a
///    map, each entry's name before its hash);
/// 7. `device`.
///
/// Paths, timings, the pipeline's name and the stage's name do not go in (the stage name
/// only through the seed): two pipelines that run the same stage on the same inputs share it.
pub fn cache_key(ing: &CacheIngredients<'_>) -> String {
    let mut h = Hasher(blake3::Hasher::new());
    h.field("domain", DOMAIN.as_bytes());
    h.field("kind", ing.kind.as_bytes());
    h.field("plugin.name", ing.plugin.name.as_bytes());
    h.field("plugin.version", ing.plugin.version.as_bytes());
    h.field("plugin.binary_hash", ing.plugin.binary_hash.as_bytes());
    h.field("config", canonical_json(ing.config).as_bytes());
    h.field("seed", &ing.seed.to_le_bytes());
    h.field("inputs", &(ing.inputs.len() as u64).to_le_bytes());
    for (port, binding) in ing.inputs {
        h.field("port", port.as_bytes());
        let (arity, n) = match binding {
            PortBinding::One(_) => ("one", 1),
            PortBinding::List(v) => ("list", v.len()),
            PortBinding::Map(m) => ("map", m.len()),
        };
        h.field("arity", arity.as_bytes());
        h.field("count", &(n as u64).to_le_bytes());
        match binding {
            PortBinding::One(hash) => h.field("hash", hash.as_bytes()),
            PortBinding::List(v) => v.iter().for_each(|hash| h.field("hash", hash.as_bytes())),
            PortBinding::Map(m) => {
                for (name, hash) in m {
                    h.field("name", name.as_bytes());
                    h.field("hash", hash.as_bytes());
                }
            }
        }
    }
    h.field("device", ing.device.as_bytes());
    h.0.finalize().to_hex().to_string()
}

struct Hasher(blake3::Hasher);

impl Hasher {
    fn field(&mut self, tag: &str, bytes: &[u8]) {
        for part in [tag.as_bytes(), bytes] {
            self.0.update(&(part.len() as u64).to_le_bytes());
            self.0.update(part);
        }
    }
}

/// JSON with object keys sorted (by their UTF-8 bytes) at every depth and no whitespace;
/// strings and numbers as `serde_json` writes them. Equal values give equal text whatever
/// order their keys were written in.
pub fn canonical_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &serde_json::Value, out: &mut String) {
    use serde_json::Value;
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use indexmap::IndexMap;
    use serde_json::json;

    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_depth() {
        let a = json!({ "b": 1, "a": { "y": [2, { "q": true, "p": null }], "x": "s\"t" } });
        let b: serde_json::Value =
            serde_json::from_str(r#"{"a":{"x":"s\"t","y":[2,{"p":null,"q":true}]},"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":{"x":"s\"t","y":[2,{"p":null,"q":true}]},"b":1}"#);
        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(canonical_json(&json!(0.1)), "0.1");
        assert_ne!(canonical_json(&json!(1)), canonical_json(&json!(1.0)));
        assert_eq!(canonical_json(&json!({})), "{}");
    }

    struct Owned {
        kind: String,
        plugin: [String; 3],
        config: serde_json::Value,
        seed: u64,
        inputs: Vec<(String, PortBinding<String>)>,
        device: String,
    }

    impl Owned {
        fn key(&self) -> String {
            cache_key(&CacheIngredients {
                kind: &self.kind,
                plugin: PluginId { name: &self.plugin[0], version: &self.plugin[1], binary_hash: &self.plugin[2] },
                config: &self.config,
                seed: self.seed,
                inputs: &self.inputs,
                device: &self.device,
            })
        }
    }

    fn base() -> Owned {
        let models: IndexMap<String, String> = [("tmu".into(), "h1".into()), ("ft".into(), "h2".into())].into();
        Owned {
            kind: "eval.unlearning".into(),
            plugin: ["tmu-eval".into(), "0.1.0".into(), "abc".into()],
            config: json!({ "epochs": 3, "lr": 0.1 }),
            seed: 7,
            inputs: vec![("models".into(), PortBinding::Map(models)), ("data".into(), PortBinding::One("h3".into()))],
            device: "cpu".into(),
        }
    }

    #[test]
    fn cache_key_is_stable() {
        let k = base().key();
        assert_eq!(k.len(), 64);
        assert_eq!(k, base().key());
        // Key order in the config does not matter.
        let mut reordered = base();
        reordered.config = json!({ "lr": 0.1, "epochs": 3 });
        assert_eq!(k, reordered.key());
    }

    #[test]
    fn cache_key_changes_with_every_ingredient() {
        let k = base().key();
        type Change = Box<dyn Fn(&mut Owned)>;
        let changes: Vec<(&str, Change)> = vec![
            ("kind", Box::new(|o| o.kind = "eval.other".into())),
            ("plugin name", Box::new(|o| o.plugin[0] = "tmu-other".into())),
            ("plugin version", Box::new(|o| o.plugin[1] = "0.1.1".into())),
            ("plugin binary", Box::new(|o| o.plugin[2] = "abd".into())),
            ("config value", Box::new(|o| o.config = json!({ "epochs": 4, "lr": 0.1 }))),
            ("config int vs float", Box::new(|o| o.config = json!({ "epochs": 3.0, "lr": 0.1 }))),
            ("seed", Box::new(|o| o.seed = 8)),
            ("input hash", Box::new(|o| o.inputs[1].1 = PortBinding::One("h4".into()))),
            ("input port name", Box::new(|o| o.inputs[1].0 = "other".into())),
            ("port order", Box::new(|o| o.inputs.swap(0, 1))),
            ("one vs list", Box::new(|o| o.inputs[1].1 = PortBinding::List(vec!["h3".into()]))),
            (
                "map keys",
                Box::new(|o| {
                    o.inputs[0].1 = PortBinding::Map([("ft".into(), "h1".into()), ("tmu".into(), "h2".into())].into())
                }),
            ),
            (
                "input removed",
                Box::new(|o| {
                    o.inputs.pop();
                }),
            ),
            ("device", Box::new(|o| o.device = "cuda:0".into())),
        ];
        let mut seen = std::collections::HashSet::from([k.clone()]);
        for (what, change) in changes {
            let mut o = base();
            change(&mut o);
            let changed = o.key();
            assert_ne!(changed, k, "{what} did not change the key");
            assert!(seen.insert(changed), "{what} collided with another change");
        }
    }

    #[test]
    fn cache_key_is_pinned() {
        // Pinned so that an accidental change of the layout (which would silently invalidate
        // every cache, or worse, make different layouts collide) is caught; an intended change
        // bumps `DOMAIN` and this value. The value was reproduced independently by
        // `scripts/cache_key_reference.py` (Python `blake3`, the layout documented on `cache_key`).
        assert_eq!(base().key(), "ce1a6a3b734206d2aeb8fa4887a02d910091fd5fe8756e156109b7a88fe684d5");
    }

    #[test]
    fn fields_are_framed() {
        // Moving bytes between adjacent fields must change the key.
        let mut a = base();
        a.plugin = ["ab".into(), "c".into(), "x".into()];
        let mut b = base();
        b.plugin = ["a".into(), "bc".into(), "x".into()];
        assert_ne!(a.key(), b.key());
    }
}

//! The JSON Schema of the pipeline file format, with every known stage's config schema, for editors.

use serde_json::{Map, Value, json};
use tmu_plugin::Arity;

use crate::catalog::StageCatalog;
use crate::names::{KIND_PATTERN, NAME_PATTERN};

/// A stage output reference, `"<stage>.<output>"`.
const REFERENCE_PATTERN: &str = "^[a-z][a-z0-9_-]{0,63}\\.[a-z][a-z0-9_-]{0,63}$";
const DEVICE_PATTERN: &str = "^(cpu|cuda|cuda:[0-9]+|auto)$";
/// A config field bound by a sweep axis, `"<stage>.config.<path>"`.
const BINDING_PATTERN: &str = "^[a-z][a-z0-9_-]{0,63}\\.config(\\.[^.]+)+$";

/// The JSON Schema (draft 2020-12) of a pipeline file, as TOML read into JSON.
///
/// Each stage table is checked by `kind`: an `if`/`then` per known kind constrains its `inputs`
/// (port names, list/map/one shapes, required ports) and its `config` (the stage's own schema,
/// whose `$defs` are moved to the root under `<kind>.` and whose `$ref`s are rewritten to
/// match). Editors (taplo, Even Better TOML) use it to complete and check pipeline files.
/// What a schema cannot say (references to existing stages, artifact kinds on edges, cycles)
/// is left to [`crate::validate`].
pub fn pipeline_schema(catalog: &dyn StageCatalog) -> Value {
    let kinds = catalog.kinds();
    let mut defs = Map::new();
    defs.insert(
        "reference".into(),
        json!({
            "description": "An output of another stage: `\"<stage>.<output>\"`.",
            "type": "string",
            "pattern": REFERENCE_PATTERN
        }),
    );
    defs.insert("device".into(), json!({
        "description": "`cpu`, `cuda` (the first GPU), `cuda:N` or `auto` (CUDA when the plugin has it and a GPU is present).",
        "type": "string",
        "pattern": DEVICE_PATTERN
    }));
    defs.insert(
        "axis_values".into(),
        json!({
            "description": "The values of an axis: strings, integers, floats or booleans, all of one type.",
            "type": "array",
            "minItems": 1,
            "items": { "type": ["string", "integer", "number", "boolean"] }
        }),
    );
    defs.insert(
        "binding".into(),
        json!({
            "description": "A config field the axis sets: `\"<stage>.config.<field>\"`, dotted into nested tables.",
            "type": "string",
            "pattern": BINDING_PATTERN
        }),
    );
    defs.insert(
        "axis".into(),
        json!({
            "anyOf": [
                { "$ref": "#/$defs/axis_values" },
                {
                    "type": "object",
                    "required": ["values"],
                    "additionalProperties": false,
                    "properties": {
                        "values": { "$ref": "#/$defs/axis_values" },
                        "bind": {
                            "description": "The config fields this axis sets at each point: to the axis value (a field or a list of fields), or to the value at the same position of each field's own list (a table of fields).",
                            "anyOf": [
                                { "$ref": "#/$defs/binding" },
                                { "type": "array", "items": { "$ref": "#/$defs/binding" } },
                                {
                                    "type": "object",
                                    "propertyNames": { "pattern": BINDING_PATTERN },
                                    "additionalProperties": { "type": "array", "minItems": 1 }
                                }
                            ]
                        }
                    }
                }
            ]
        }),
    );
    let mut rules = Vec::new();
    for kind in &kinds {
        let Some(desc) = catalog.stage(kind) else { continue };
        let config_def = kind.to_string();
        let (config, inner_defs) = relocate(&desc.config_schema, &config_def);
        defs.insert(config_def.clone(), config);
        defs.extend(inner_defs);
        let mut ports = Map::new();
        for p in &desc.inputs {
            let r = json!({ "$ref": "#/$defs/reference" });
            let shape = match p.arity {
                Arity::One => r,
                Arity::List => json!({ "type": "array", "items": r }),
                // A single reference on a map port gathers a per-point output in a sweep.
                Arity::Map => json!({ "anyOf": [{ "type": "object", "additionalProperties": r }, r] }),
            };
            let mut shape = shape.as_object().cloned().unwrap_or_default();
            shape.insert("description".into(), Value::String(format!("{} (`{}`)", p.description, p.kind)));
            ports.insert(p.name.clone(), Value::Object(shape));
        }
        let required: Vec<&str> = desc.inputs.iter().filter(|p| p.required).map(|p| p.name.as_str()).collect();
        let mut then = json!({
            "properties": {
                "inputs": { "properties": ports, "additionalProperties": false },
                "config": { "$ref": format!("#/$defs/{config_def}") }
            }
        });
        let mut required_keys = Vec::new();
        if !required.is_empty() {
            required_keys.push("inputs");
            then["properties"]["inputs"]["required"] = json!(required);
        }
        // A missing `config` means `{}`: require the table when `{}` does not satisfy the schema.
        if !empty_config_is_valid(&desc.config_schema) {
            required_keys.push("config");
        }
        if !required_keys.is_empty() {
            then["required"] = json!(required_keys);
        }
        rules.push(json!({
            "if": { "properties": { "kind": { "const": kind } }, "required": ["kind"] },
            "then": then
        }));
    }
    let kind_schema = if kinds.is_empty() {
        json!({ "type": "string", "pattern": KIND_PATTERN })
    } else {
        json!({ "type": "string", "enum": kinds })
    };
    let kind_descriptions: Vec<Value> = kinds
        .iter()
        .filter_map(|k| catalog.stage(k))
        .map(|d| json!({ "const": d.kind, "description": d.description }))
        .collect();
    let mut kind_schema = kind_schema;
    if !kind_descriptions.is_empty() {
        kind_schema["anyOf"] = Value::Array(kind_descriptions);
    }
    defs.insert(
        "stage".into(),
        json!({
            "type": "object",
            "required": ["kind"],
            "additionalProperties": false,
            "properties": {
                "kind": kind_schema,
                "inputs": {
                    "description": "Input port -> `\"<stage>.<output>\"`, an array of them or a table of them.",
                    "type": "object",
                    "additionalProperties": {
                        "anyOf": [
                            { "$ref": "#/$defs/reference" },
                            { "type": "array", "items": { "$ref": "#/$defs/reference" } },
                            { "type": "object", "additionalProperties": { "$ref": "#/$defs/reference" } }
                        ]
                    }
                },
                "config": { "description": "The stage's settings (see `tmu describe <kind>`).", "type": "object" },
                "device": { "$ref": "#/$defs/device" },
                "timeout": {
                    "description": "How long one attempt of the stage may run (`90s`, `30m`, `2h`, `1h30m`); past it the stage fails. Enforced by ending the stage's process under `--executor process`; in-process the stage is asked to stop.",
                    "type": "string",
                    "pattern": "^([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"
                }
            },
            "allOf": rules
        }),
    );
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "tmu pipeline",
        "description": "A tmu pipeline file: stages, their inputs and configs.",
        "type": "object",
        "required": ["format", "stages"],
        "additionalProperties": false,
        "properties": {
            "format": { "description": "The file format version.", "const": 1 },
            "name": { "description": "Names the run folder `runs/<name>/`; defaults to the file stem.", "type": "string", "pattern": NAME_PATTERN },
            "seed": { "description": "Every stage's seed derives from it and the stage name.", "type": "integer", "minimum": 0 },
            "device": { "$ref": "#/$defs/device" },
            "description": { "type": "string" },
            "plugins": {
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "paths": {
                        "description": "Plugin libraries or folders, relative to this file.",
                        "type": "array",
                        "items": { "type": "string" }
                    }
                }
            },
            "stages": {
                "type": "object",
                "propertyNames": { "pattern": NAME_PATTERN },
                "additionalProperties": { "$ref": "#/$defs/stage" }
            },
            "slurm": {
                "description": "Resources of each stage's job under `tmu run --executor slurm`; each key becomes an `#SBATCH` line of every job script.",
                "type": "object",
                "additionalProperties": false,
                "properties": {
                    "partition": { "description": "`--partition`.", "type": "string" },
                    "account": { "description": "`--account`.", "type": "string" },
                    "time": { "description": "`--time`, in Slurm's format (`30:00`, `4:00:00`, `1-00:00:00`).", "type": "string" },
                    "gpus_per_job": { "description": "`--gres=gpu:N` of a stage that runs on a GPU (default 1).", "type": "integer", "minimum": 1 },
                    "cpus_per_task": { "description": "`--cpus-per-task` (default: Slurm's).", "type": "integer", "minimum": 1 },
                    "mem": { "description": "`--mem` (`16G`).", "type": "string" },
                    "extra": { "description": "Further `#SBATCH` options, as written (`--qos=high`).", "type": "array", "items": { "type": "string" } }
                }
            },
            "sweep": {
                "description": "Axes crossed into points; each stage runs once per combination of the axes it depends on. `seed = [...]` sets the pipeline seed of each point.",
                "type": "object",
                "minProperties": 1,
                "propertyNames": { "pattern": NAME_PATTERN },
                "additionalProperties": { "$ref": "#/$defs/axis" }
            }
        },
        "$defs": defs
    })
}

/// [`pipeline_schema`] as the file `tmu schema` writes (and `docs/pipeline.schema.json` holds):
/// pretty-printed JSON with a final newline.
pub fn pipeline_schema_text(catalog: &dyn StageCatalog) -> String {
    let mut text = serde_json::to_string_pretty(&pipeline_schema(catalog)).unwrap_or_default();
    text.push('\n');
    text
}

/// Whether `{}` satisfies a config schema (a schema that does not compile counts as not).
fn empty_config_is_valid(schema: &Value) -> bool {
    jsonschema::options().build(schema).is_ok_and(|v| v.is_valid(&json!({})))
}

/// A stage's config schema ready to live at `#/$defs/<name>`: its own `$defs` come out as
/// `<name>.<def>` entries and every local `$ref` is rewritten to point at the new places.
fn relocate(schema: &Value, name: &str) -> (Value, Map<String, Value>) {
    let mut schema = schema.clone();
    let mut inner = Map::new();
    if let Some(obj) = schema.as_object_mut() {
        obj.shift_remove("$schema");
        obj.shift_remove("$id");
        for key in ["$defs", "definitions"] {
            if let Some(Value::Object(defs)) = obj.shift_remove(key) {
                for (k, v) in defs {
                    inner.insert(format!("{name}.{k}"), v);
                }
            }
        }
    }
    let fix = |v: &mut Value| rewrite_refs(v, name);
    fix(&mut schema);
    inner.values_mut().for_each(fix);
    (schema, inner)
}

fn rewrite_refs(v: &mut Value, name: &str) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if k == "$ref"
                    && let Value::String(r) = child
                {
                    *r = rewrite_ref(r, name);
                } else {
                    rewrite_refs(child, name);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|c| rewrite_refs(c, name)),
        _ => {}
    }
}

fn rewrite_ref(r: &str, name: &str) -> String {
    for prefix in ["#/$defs/", "#/definitions/"] {
        if let Some(rest) = r.strip_prefix(prefix) {
            return format!("#/$defs/{name}.{rest}");
        }
    }
    match r.strip_prefix('#') {
        Some(rest) => format!("#/$defs/{name}{rest}"),
        None => r.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_relocated() {
        assert_eq!(rewrite_ref("#/$defs/Strategy", "split.forget"), "#/$defs/split.forget.Strategy");
        assert_eq!(rewrite_ref("#/definitions/A/properties/x", "k.s"), "#/$defs/k.s.A/properties/x");
        assert_eq!(rewrite_ref("#", "k.s"), "#/$defs/k.s");
        assert_eq!(rewrite_ref("#/properties/a", "k.s"), "#/$defs/k.s/properties/a");
        assert_eq!(rewrite_ref("https://x/y.json", "k.s"), "https://x/y.json");
        let (s, defs) = relocate(
            &json!({ "$schema": "x", "properties": { "a": { "$ref": "#/$defs/A" } }, "$defs": { "A": { "$ref": "#/$defs/B" }, "B": {} } }),
            "k.s",
        );
        assert_eq!(s, json!({ "properties": { "a": { "$ref": "#/$defs/k.s.A" } } }));
        assert_eq!(defs["k.s.A"], json!({ "$ref": "#/$defs/k.s.B" }));
        assert!(defs.contains_key("k.s.B"));
    }
}

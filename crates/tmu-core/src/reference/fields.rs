//! A stage's config schema (as schemars writes it) in words: its fields, each with a type such
//! as `integer (1 to 10)` or `"a" | "b"`, a default and a description.

use serde_json::Value;

/// Resolves `{"$ref": "#/$defs/Name"}` against the root schema.
fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
        Some(name) => root.get("$defs").and_then(|d| d.get(name)).unwrap_or(schema),
        None => schema,
    }
}

fn range(schema: &Value) -> String {
    let bound = |k: &str| schema.get(k).map(Value::to_string);
    match (bound("minimum").or(bound("exclusiveMinimum")), bound("maximum").or(bound("exclusiveMaximum"))) {
        (Some(lo), Some(hi)) => format!(" ({lo} to {hi})"),
        (Some(lo), None) => format!(" (at least {lo})"),
        (None, Some(hi)) => format!(" (at most {hi})"),
        (None, None) => String::new(),
    }
}

/// A table variant of an internally tagged enum: `{ kind = "sgd", ... }` (its first property
/// with a constant value names the variant).
fn tagged_table(root: &Value, schema: &Value) -> Option<String> {
    let props = schema.get("properties")?.as_object()?;
    props.iter().find_map(|(name, p)| {
        let p = resolve(root, p);
        let value =
            p.get("const").or_else(|| p.get("enum").and_then(Value::as_array).filter(|e| e.len() == 1)?.first())?;
        let more = if props.len() > 1 { ", ..." } else { "" };
        Some(format!("{{ {name} = {value}{more} }}"))
    })
}

/// The type of a schema in words.
pub fn type_text(root: &Value, schema: &Value) -> String {
    let schema = resolve(root, schema);
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        return values.iter().map(Value::to_string).collect::<Vec<_>>().join(" | ");
    }
    if let Some(c) = schema.get("const") {
        return c.to_string();
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(options) = schema.get(key).and_then(Value::as_array) {
            return options.iter().map(|o| type_text(root, o)).collect::<Vec<_>>().join(" | ");
        }
    }
    let one = |t: &str| match t {
        "array" => {
            let items = schema.get("items").map(|i| type_text(root, i)).unwrap_or_else(|| "any".into());
            format!("list of {items}")
        }
        "object" => tagged_table(root, schema).unwrap_or_else(|| "table".to_string()),
        "integer" | "number" => format!("{t}{}", range(schema)),
        other => other.to_string(),
    };
    match schema.get("type") {
        Some(Value::String(t)) => one(t),
        Some(Value::Array(ts)) => {
            let names: Vec<String> = ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").map(one).collect();
            let optional = ts.iter().any(|t| t == "null");
            format!("{}{}", names.join(" | "), if optional { " (optional)" } else { "" })
        }
        _ => "any".to_string(),
    }
}

/// One field of a stage's config, in words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigField {
    pub name: String,
    /// The type in words: `integer (1 to 10)`, `"a" | "b"`, `list of number`, `string (optional)`.
    pub type_text: String,
    /// The default as compact JSON, when the schema gives one.
    pub default: Option<String>,
    /// The field's doc comment (schemars' `description`), or empty.
    pub description: String,
    /// Whether the config must give the field.
    pub required: bool,
}

/// The fields of a config schema, in the schema's order.
pub fn config_fields(root: &Value) -> Vec<ConfigField> {
    let schema = resolve(root, root);
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = schema.get("properties").and_then(Value::as_object) else { return Vec::new() };
    props
        .iter()
        .map(|(name, p)| {
            let description = p
                .get("description")
                .or_else(|| resolve(root, p).get("description"))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            ConfigField {
                name: name.clone(),
                type_text: type_text(root, p),
                default: p.get("default").map(Value::to_string),
                description,
                required: required.contains(&name.as_str()),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn schemars_shapes_in_words() {
        let root = json!({
            "type": "object",
            "required": ["name"],
            "properties": {
                "name": { "type": "string", "description": "Who." },
                "scale": { "type": "integer", "minimum": 1, "maximum": 10, "default": 1 },
                "values": { "type": "array", "items": { "type": "number" }, "default": [1.0] },
                "path": { "type": ["string", "null"] },
                "mode": { "$ref": "#/$defs/Mode", "default": "fast" },
                "opt": { "oneOf": [
                    { "type": "object", "properties": { "kind": { "const": "sgd" }, "lr": { "type": "number" } } },
                    { "type": "object", "properties": { "kind": { "type": "string", "enum": ["adam"] } } }
                ] }
            },
            "$defs": { "Mode": { "description": "How.", "oneOf": [{ "const": "fast" }, { "enum": ["slow"] }] } }
        });
        let f = config_fields(&root);
        let name = ConfigField {
            name: "name".into(),
            type_text: "string".into(),
            default: None,
            description: "Who.".into(),
            required: true,
        };
        assert_eq!(f[0], name);
        assert_eq!(f[1].type_text, "integer (1 to 10)");
        assert_eq!(f[1].default.as_deref(), Some("1"));
        assert_eq!(f[2].type_text, "list of number");
        assert_eq!(f[3].type_text, "string (optional)");
        assert_eq!((f[4].type_text.as_str(), f[4].description.as_str()), ("\"fast\" | \"slow\"", "How."));
        assert_eq!(f[5].type_text, "{ kind = \"sgd\", ... } | { kind = \"adam\" }");
    }
}

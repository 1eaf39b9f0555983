//! Validation of a stage's `config` against its JSON Schema, each error mapped back to a TOML span.

use std::collections::HashMap;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{ValidationError, Validator};
use tmu_plugin::protocol::StageDescription;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::raw::{RawStage, RawValue, RawValueKind};
use crate::source::Span;
use crate::suggest::{all_of, did_you_mean, one_of};

/// Compiled config schemas by stage kind (compiled once per validation). `Err` holds why a
/// plugin's schema does not compile.
#[derive(Default)]
pub(crate) struct Validators {
    by_kind: HashMap<String, Result<Validator, String>>,
}

/// Checks `stage`'s config against `desc.config_schema`; returns the config as JSON when valid.
pub(crate) fn check_config(
    stage: &RawStage,
    desc: &StageDescription,
    validators: &mut Validators,
    ds: &mut Diagnostics,
) -> Option<serde_json::Value> {
    if stage.config_broken {
        return None;
    }
    let empty = RawValue { span: stage.name.span, value: RawValueKind::Table(Vec::new()) };
    let config = stage.config.as_ref().unwrap_or(&empty);
    // Non-finite floats were rejected by the parser, which set `config_broken`.
    let json = config.to_json().ok()?;
    let validator = validators
        .by_kind
        .entry(desc.kind.clone())
        .or_insert_with(|| jsonschema::options().build(&desc.config_schema).map_err(|e| e.to_string()));
    let validator = match validator {
        Ok(v) => v,
        Err(e) => {
            ds.push(
                Diagnostic::new(Code::Config, format!("the config schema of `{}` does not compile: {e}", desc.kind))
                    .at(stage.kind.as_ref().map_or(stage.name.span, |k| k.span), "")
                    .help("this is a bug in the plugin that provides the stage"),
            );
            return None;
        }
    };
    // Where to point when the config as a whole is wrong: the `config` key, else the stage name.
    let whole = stage.config_key.unwrap_or(stage.name.span);
    let before = ds.len();
    let errors: Vec<ValidationError<'_>> = validator.iter_errors(&json).collect();
    // A value of the wrong type also fails its `enum`, range and so on: say only the type.
    let mistyped: Vec<&str> = errors
        .iter()
        .filter(|e| matches!(e.kind(), ValidationErrorKind::Type { .. }))
        .map(|e| e.instance_path().as_str())
        .collect();
    for error in &errors {
        let is_type = matches!(error.kind(), ValidationErrorKind::Type { .. });
        if !is_type && mistyped.contains(&error.instance_path().as_str()) {
            continue;
        }
        ds.extend(diagnose(error, config, whole, desc));
    }
    (ds.len() == before).then_some(json)
}

/// `config.a.b[0]` for a JSON pointer `/a/b/0` of the config.
fn field_name(pointer: &str) -> String {
    let mut out = String::from("config");
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if token.parse::<usize>().is_ok() {
            out.push_str(&format!("[{token}]"));
        } else {
            out.push('.');
            out.push_str(&token);
        }
    }
    out
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "nothing",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(n) if n.is_f64() => "a float",
        serde_json::Value::Number(_) => "an integer",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "a table",
    }
}

fn toml_type(t: &str) -> String {
    match t {
        "integer" => "an integer".into(),
        "number" => "a number".into(),
        "string" => "a string".into(),
        "boolean" => "a boolean".into(),
        "array" => "an array".into(),
        "object" => "a table".into(),
        "null" => "left out".into(),
        other => format!("`{other}`"),
    }
}

/// The property names the schema allows at the object a keyword sits in (for suggestions).
fn known_properties<'s>(schema: &'s serde_json::Value, keyword_path: &str) -> Vec<&'s str> {
    let parent = keyword_path.rsplit_once('/').map_or("", |(p, _)| p);
    schema
        .pointer(parent)
        .and_then(|s| s.get("properties"))
        .and_then(|p| p.as_object())
        .map(|p| p.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn diagnose(e: &ValidationError<'_>, config: &RawValue, whole: Span, desc: &StageDescription) -> Vec<Diagnostic> {
    let pointer = e.instance_path().as_str().to_string();
    let field = field_name(&pointer);
    let at = config.at_pointer(&pointer);
    // The value's span; the `config` key for the config as a whole.
    let value_span = match &at {
        Some((_, v)) if !pointer.is_empty() => v.span,
        _ => whole,
    };
    // For an object: the key it sits under (or the `config` key).
    let object_span = match &at {
        Some((Some(k), _)) => *k,
        Some((None, v)) if !pointer.is_empty() => v.span,
        _ => whole,
    };
    let kind = &desc.kind;
    match e.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected }
        | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
            let known = known_properties(&desc.config_schema, e.schema_path().as_str());
            let object = at.map(|(_, v)| v);
            unexpected
                .iter()
                .map(|name| {
                    let span = object.and_then(|o| o.entry(name)).map_or(object_span, |(k, _)| k);
                    let help = did_you_mean(name, known.iter().copied()).or_else(|| {
                        (!known.is_empty()).then(|| format!("`{field}` takes {}", all_of(known.iter().copied())))
                    });
                    Diagnostic::new(Code::Config, format!("unknown field `{name}` in the config of `{kind}`"))
                        .at(span, "unknown field")
                        .maybe_help(help)
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().map_or_else(|| property.to_string(), str::to_string);
            vec![
                Diagnostic::new(Code::Config, format!("missing field `{name}` in `{field}` of `{kind}`"))
                    .at(object_span, format!("`{name}` is required"))
                    .help(format!("add `{name} = ...` to the stage's `config`; `tmu describe {kind}` documents it")),
            ]
        }
        ValidationErrorKind::Type { kind: t } => {
            let expected = match t {
                TypeKind::Single(t) => toml_type(&t.to_string()),
                TypeKind::Multiple(ts) => {
                    let names: Vec<String> = ts.iter().map(|t| toml_type(&t.to_string())).collect();
                    names.join(" or ")
                }
            };
            vec![
                Diagnostic::new(Code::Config, format!("`{field}` of `{kind}` must be {expected}"))
                    .at(value_span, format!("found {}", json_type(e.instance()))),
            ]
        }
        ValidationErrorKind::Enum { options } => {
            let names: Vec<String> = options
                .as_array()
                .map(|a| a.iter().map(|o| o.as_str().map_or_else(|| o.to_string(), str::to_string)).collect())
                .unwrap_or_default();
            let found = e.instance().as_str().unwrap_or_default();
            let help = did_you_mean(found, names.iter().map(String::as_str));
            vec![
                Diagnostic::new(Code::Config, format!("invalid value for `{field}` of `{kind}`"))
                    .at(value_span, format!("expected {}", one_of(names.iter().map(String::as_str))))
                    .maybe_help(help),
            ]
        }
        ValidationErrorKind::Minimum { .. }
        | ValidationErrorKind::Maximum { .. }
        | ValidationErrorKind::ExclusiveMinimum { .. }
        | ValidationErrorKind::ExclusiveMaximum { .. } => vec![
            Diagnostic::new(Code::Config, format!("`{field}` of `{kind}` is out of range"))
                .at(value_span, e.to_string()),
        ],
        ValidationErrorKind::Constant { expected_value } => {
            let expected = expected_value.as_str().map_or_else(|| expected_value.to_string(), str::to_string);
            vec![
                Diagnostic::new(Code::Config, format!("invalid value for `{field}` of `{kind}`"))
                    .at(value_span, format!("expected `{expected}`")),
            ]
        }
        ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context } => {
            alternatives(e, context, config, whole, desc).unwrap_or_else(|| {
                vec![
                    Diagnostic::new(Code::Config, format!("invalid `{field}` for `{kind}`"))
                        .at(value_span, "matches none of the allowed forms")
                        .help(format!("`tmu describe {kind}` documents the allowed forms")),
                ]
            })
        }
        _ => {
            vec![Diagnostic::new(Code::Config, format!("invalid `{field}` for `{kind}`")).at(value_span, e.to_string())]
        }
    }
}

/// The values a `const` or `enum` error allows, with the instance path it is about.
fn allowed_values(e: &ValidationError<'_>) -> Option<(String, Vec<String>)> {
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    let values = match e.kind() {
        ValidationErrorKind::Constant { expected_value } => vec![text(expected_value)],
        ValidationErrorKind::Enum { options } => options.as_array()?.iter().map(text).collect(),
        _ => return None,
    };
    Some((e.instance_path().as_str().to_string(), values))
}

/// Explains a value that matches none of the `oneOf`/`anyOf` alternatives (schemars writes
/// enums with data and `Option`s that way): when every alternative rejects the same tag field,
/// lists the tags; else reports the errors of the closest alternative (one whose tag matched
/// and whose shape fits, with the fewest errors). `None` when neither applies.
fn alternatives(
    e: &ValidationError<'_>,
    branches: &[Vec<ValidationError<'static>>],
    config: &RawValue,
    whole: Span,
    desc: &StageDescription,
) -> Option<Vec<Diagnostic>> {
    let tags: Vec<Option<(String, Vec<String>)>> =
        branches.iter().map(|b| b.iter().find_map(|x| allowed_values(x))).collect();
    if !tags.is_empty() && tags.iter().all(Option::is_some) {
        let tags: Vec<(String, Vec<String>)> = tags.into_iter().flatten().collect();
        let path = tags[0].0.clone();
        if tags.iter().all(|(p, _)| *p == path) {
            let mut names: Vec<String> = Vec::new();
            for v in tags.into_iter().flat_map(|(_, v)| v) {
                if !names.contains(&v) {
                    names.push(v);
                }
            }
            let at = config.at_pointer(&path);
            let span = at.map_or(whole, |(_, v)| v.span);
            let found = match at.map(|(_, v)| &v.value) {
                Some(crate::raw::RawValueKind::String(s)) => s.as_str(),
                _ => "",
            };
            let kind = &desc.kind;
            let d = Diagnostic::new(Code::Config, format!("invalid value for `{}` of `{kind}`", field_name(&path)))
                .at(span, format!("expected {}", one_of(names.iter().map(String::as_str))))
                .maybe_help(did_you_mean(found, names.iter().map(String::as_str)));
            return Some(vec![d]);
        }
        return None;
    }
    let own_path = e.instance_path().as_str();
    let wrong_shape = |b: &Vec<ValidationError<'_>>| {
        b.iter().any(|x| matches!(x.kind(), ValidationErrorKind::Type { .. }) && x.instance_path().as_str() == own_path)
    };
    let best = branches
        .iter()
        .enumerate()
        .filter(|(i, b)| tags[*i].is_none() && !wrong_shape(b) && !b.is_empty())
        .min_by_key(|(_, b)| b.len())?;
    Some(best.1.iter().flat_map(|x| diagnose(x, config, whole, desc)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_read_as_fields() {
        assert_eq!(field_name(""), "config");
        assert_eq!(field_name("/epochs"), "config.epochs");
        assert_eq!(field_name("/layers/0/width"), "config.layers[0].width");
        assert_eq!(field_name("/a~1b"), "config.a/b");
    }

    #[test]
    fn properties_are_found_next_to_the_keyword() {
        let schema = serde_json::json!({
            "properties": { "a": {}, "b": {} },
            "$defs": { "Inner": { "properties": { "x": {} } } }
        });
        assert_eq!(known_properties(&schema, "/additionalProperties"), vec!["a", "b"]);
        assert_eq!(known_properties(&schema, "/$defs/Inner/additionalProperties"), vec!["x"]);
        assert!(known_properties(&schema, "/nowhere/additionalProperties").is_empty());
    }
}

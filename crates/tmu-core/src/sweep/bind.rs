//! Setting an axis value into a stage's config at a dotted path, in the raw (spanned) form for
//! validation and in JSON for the planned instances.

use crate::raw::{RawValue, RawValueKind};
use crate::source::{Span, Spanned};

/// Sets `value` at `path` in a raw config table, adding the tables on the way; an added key is
/// spanned at `key_span` (the `bind` string), so that a diagnostic about it points there.
///
/// Fails with the number of path steps that lead to a value that is not a table.
pub(crate) fn set_raw(config: &mut RawValue, path: &[String], value: RawValue, key_span: Span) -> Result<(), usize> {
    let mut here = config;
    for (depth, key) in path.iter().enumerate() {
        let RawValueKind::Table(entries) = &mut here.value else { return Err(depth) };
        let last = depth + 1 == path.len();
        let position = match entries.iter().position(|(k, _)| &k.value == key) {
            Some(p) => p,
            None => {
                let fresh = RawValue { span: key_span, value: RawValueKind::Table(Vec::new()) };
                entries.push((Spanned::new(key.clone(), key_span), fresh));
                entries.len() - 1
            }
        };
        if last {
            entries[position].1 = value;
            return Ok(());
        }
        here = &mut entries[position].1;
    }
    Ok(())
}

/// Sets `value` at `path` in a JSON config object, adding (or replacing with) objects on the way.
pub(crate) fn set_json(config: &mut serde_json::Value, path: &[String], value: serde_json::Value) {
    let Some((last, steps)) = path.split_last() else { return };
    let mut here = config;
    for key in steps {
        if !here.is_object() {
            *here = serde_json::Value::Object(Default::default());
        }
        here = here
            .as_object_mut()
            .map(|m| m.entry(key.clone()).or_insert_with(|| serde_json::Value::Object(Default::default())))
            .unwrap_or_else(|| unreachable!("made an object above"));
    }
    if !here.is_object() {
        *here = serde_json::Value::Object(Default::default());
    }
    if let Some(m) = here.as_object_mut() {
        m.insert(last.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn path(p: &str) -> Vec<String> {
        p.split('.').map(String::from).collect()
    }

    #[test]
    fn json_values_are_set_at_dotted_paths() {
        let mut c = json!({ "a": 1, "opt": { "lr": 0.1 } });
        set_json(&mut c, &path("opt.lr"), json!(0.5));
        set_json(&mut c, &path("opt.kind"), json!("sgd"));
        set_json(&mut c, &path("new.deep.x"), json!(true));
        set_json(&mut c, &path("a"), json!(2));
        assert_eq!(c, json!({ "a": 2, "opt": { "lr": 0.5, "kind": "sgd" }, "new": { "deep": { "x": true } } }));
        // Key order: a replaced key keeps its place, a new one goes last.
        assert_eq!(c.as_object().unwrap().keys().collect::<Vec<_>>(), ["a", "opt", "new"]);
    }

    #[test]
    fn raw_values_are_set_with_the_bind_span_on_new_keys() {
        let v = |value, s: usize| RawValue { span: Span::new(s, s + 1), value };
        let mut c = v(
            RawValueKind::Table(vec![
                (Spanned::new("a".to_string(), 0..1), v(RawValueKind::Integer(1), 2)),
                (Spanned::new("s".to_string(), 3..4), v(RawValueKind::String("x".into()), 5)),
            ]),
            0,
        );
        let bind = Span::new(40, 50);
        set_raw(&mut c, &path("a"), v(RawValueKind::Integer(7), 30), bind).unwrap();
        set_raw(&mut c, &path("opt.lr"), v(RawValueKind::Float(0.5), 31), bind).unwrap();
        assert_eq!(c.at_pointer("/a").map(|(k, v)| (k, v.span.start)), Some((Some(Span::new(0, 1)), 30)));
        assert_eq!(c.at_pointer("/opt/lr").map(|(k, v)| (k, v.span.start)), Some((Some(bind), 31)));
        assert_eq!(c.to_json().unwrap(), serde_json::json!({ "a": 7, "s": "x", "opt": { "lr": 0.5 } }));
        // `s` is a string: nothing can be set under it.
        assert_eq!(set_raw(&mut c, &path("s.x"), v(RawValueKind::Integer(1), 32), bind), Err(1));
    }
}

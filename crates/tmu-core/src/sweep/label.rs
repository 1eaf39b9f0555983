//! Point labels: `seed=0,forget_class=3`, safe as a folder name, and read back by aggregating stages.
//!
//! A label is `axis=value` for each axis of the point, in axis order, joined by `,`. Integers,
//! floats and booleans are written as JSON writes them (`3`, `0.1`, `0.00001`, `true`); a string
//! is written as is, except that every byte outside `A-Z a-z 0-9 . _ + -` becomes `%XX`
//! (uppercase hex), so that a label never holds `/`, `,`, `=`, `%`, spaces or control
//! characters. Axis names follow the name rule, so they need no escaping. A label reads back
//! with [`parse`]; a string value that looks like a number reads back as the same text.

/// The longest label (in bytes): labels name folders, and file systems cap a name at 255 bytes.
pub const MAX_LABEL_LEN: usize = 200;

fn is_safe(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'-')
}

/// The text of one value in a label.
pub fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => {
            let mut out = String::with_capacity(s.len());
            for &b in s.as_bytes() {
                if is_safe(b) {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            out
        }
        other => other.to_string(),
    }
}

/// The label of a point (its `(axis, value)` pairs in axis order); empty for no axes.
pub fn encode(values: &[(String, serde_json::Value)]) -> String {
    values.iter().map(|(a, v)| format!("{a}={}", value_text(v))).collect::<Vec<_>>().join(",")
}

/// Why a string is not a point label.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("`{0}` is not `axis=value`")]
    NoEquals(String),
    #[error("`{0}` holds an invalid `%` escape")]
    Escape(String),
}

/// The `(axis, value text)` pairs of a label, escapes decoded; the empty label has none.
pub fn parse(label: &str) -> Result<Vec<(String, String)>, LabelError> {
    if label.is_empty() {
        return Ok(Vec::new());
    }
    label
        .split(',')
        .map(|part| {
            let (axis, value) = part.split_once('=').ok_or_else(|| LabelError::NoEquals(part.to_string()))?;
            Ok((axis.to_string(), unescape(value).ok_or_else(|| LabelError::Escape(part.to_string()))?))
        })
        .collect()
}

fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pairs(v: &[(&str, serde_json::Value)]) -> Vec<(String, serde_json::Value)> {
        v.iter().map(|(a, v)| (a.to_string(), v.clone())).collect()
    }

    #[test]
    fn labels_are_folder_safe_and_read_back() {
        let point = pairs(&[
            ("seed", json!(0)),
            ("fraction", json!(0.1)),
            ("tiny", json!(1e-5)),
            ("arch", json!("small-cnn")),
            ("odd", json!("a/b,c=d %e é")),
            ("on", json!(true)),
        ]);
        let label = encode(&point);
        assert_eq!(label, "seed=0,fraction=0.1,tiny=0.00001,arch=small-cnn,odd=a%2Fb%2Cc%3Dd%20%25e%20%C3%A9,on=true");
        assert!(!label.contains('/') && !label.contains(' '));
        let back = parse(&label).unwrap();
        let texts: Vec<(&str, &str)> = back.iter().map(|(a, v)| (a.as_str(), v.as_str())).collect();
        assert_eq!(
            texts,
            [
                ("seed", "0"),
                ("fraction", "0.1"),
                ("tiny", "0.00001"),
                ("arch", "small-cnn"),
                ("odd", "a/b,c=d %e é"),
                ("on", "true")
            ]
        );
        assert_eq!(encode(&[]), "");
        assert_eq!(parse(""), Ok(vec![]));
    }

    #[test]
    fn bad_labels_are_refused() {
        assert_eq!(parse("seed"), Err(LabelError::NoEquals("seed".into())));
        assert_eq!(parse("a=1,b"), Err(LabelError::NoEquals("b".into())));
        assert_eq!(parse("a=%4"), Err(LabelError::Escape("a=%4".into())));
        assert_eq!(parse("a=%zz"), Err(LabelError::Escape("a=%zz".into())));
    }
}

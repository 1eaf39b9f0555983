//! Point labels read back: `seed=0,forget_class=3` -> `[("seed", "0"), ("forget_class", "3")]`.
//!
//! The format is tmu-core's (`tmu_core::sweep::label`): `axis=value` pairs joined by `,`, a
//! string value's bytes outside `A-Z a-z 0-9 . _ + -` escaped as `%XX`. It is repeated here
//! (a plugin does not link tmu-core); the tests check the same examples as tmu-core's.

/// The `(axis, value)` pairs of a label; a key that is not a label (a hand-written map entry)
/// reads as one pair `("point", key)`.
pub fn parse_label(label: &str) -> Vec<(String, String)> {
    let parsed: Option<Vec<(String, String)>> = label
        .split(',')
        .map(|part| {
            let (axis, value) = part.split_once('=')?;
            Some((axis.to_string(), unescape(value)?))
        })
        .collect();
    match parsed {
        Some(pairs) if !label.is_empty() => pairs,
        _ => vec![("point".to_string(), label.to_string())],
    }
}

fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(u8::from_str_radix(s.get(i + 1..i + 3)?, 16).ok()?);
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
    use super::*;

    #[test]
    fn labels_read_back_as_tmu_core_writes_them() {
        // The label tmu-core's own test writes for these values.
        let label = "seed=0,fraction=0.1,tiny=0.00001,arch=small-cnn,odd=a%2Fb%2Cc%3Dd%20%25e%20%C3%A9,on=true";
        let pairs = parse_label(label);
        let texts: Vec<(&str, &str)> = pairs.iter().map(|(a, v)| (a.as_str(), v.as_str())).collect();
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
        assert_eq!(parse_label("tmu"), vec![("point".to_string(), "tmu".to_string())]);
        assert_eq!(parse_label("a=%zz"), vec![("point".to_string(), "a=%zz".to_string())]);
    }
}

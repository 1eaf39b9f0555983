//! The raw pipeline: the file's structure with a span on every key and value, not yet validated.

use std::path::PathBuf;
use std::sync::Arc;

use crate::source::{SourceFile, Span, Spanned};

/// A pipeline file as written: types checked, names and references not yet resolved.
///
/// Made by [`crate::parse`]; turned into a [`crate::Plan`] by [`crate::validate`]. Adding a
/// top-level table means one more field here and one more arm in the parser's top-level
/// match; every other top-level key is rejected.
#[derive(Clone, Debug)]
pub struct RawPipeline {
    pub(crate) source: Arc<SourceFile>,
    /// The whole document (for file-wide problems such as a missing `format`).
    pub span: Span,
    pub format: Option<Spanned<i64>>,
    pub name: Option<Spanned<String>>,
    pub seed: Option<Spanned<u64>>,
    pub device: Option<Spanned<String>>,
    pub description: Option<Spanned<String>>,
    /// `[plugins] paths`, as written (relative to the pipeline file's folder).
    pub plugin_paths: Vec<Spanned<String>>,
    /// `[stages.<name>]` in file order.
    pub stages: Vec<RawStage>,
    /// The `[sweep]` table, when the file has one (even an empty or partly broken one).
    pub sweep: Option<RawSweep>,
    /// The `[slurm]` table (checked while parsing).
    pub slurm: crate::SlurmSettings,
    /// Problems of type or shape found while parsing. They do not stop parsing, so that
    /// [`crate::validate`] can report them together with everything else it finds.
    pub(crate) problems: Vec<crate::Diagnostic>,
    /// The top-level keys written in the file, known or not.
    pub(crate) keys: Vec<String>,
}

/// One `[stages.<name>]` table.
#[derive(Clone, Debug)]
pub struct RawStage {
    /// The stage's name: the table key, spanned where it is written.
    pub name: Spanned<String>,
    /// The stage's table: the braces of an inline table, or just the `[stages.<name>]` header
    /// of a header table (TOML spreads its keys over the lines that follow).
    pub span: Span,
    /// `kind = "family.name"`; `None` when missing or not a string (already reported).
    pub kind: Option<Spanned<String>>,
    /// `inputs = { port = ... }` in file order.
    pub inputs: Vec<RawInput>,
    /// The `config` table; `None` when absent.
    pub config: Option<RawValue>,
    /// The `config` key itself (where to point when the config as a whole is wrong).
    pub config_key: Option<Span>,
    /// The `config` had problems of type or shape, already reported: validation does not check
    /// it against the stage's schema (which would only repeat them).
    pub config_broken: bool,
    pub device: Option<Spanned<String>>,
    /// `timeout = "30m"`: how long one attempt may run.
    pub timeout: Option<Spanned<String>>,
}

/// The `[sweep]` table: named axes whose values the plan crosses into points.
#[derive(Clone, Debug)]
pub struct RawSweep {
    /// The `sweep` key (where to point at the table as a whole).
    pub key: Span,
    /// The axes in file order; an axis whose shape was wrong (already reported) is left out.
    pub axes: Vec<RawAxis>,
}

/// One axis: `name = [values]`, `name = { values = [...], bind = ["<stage>.config.<path>"] }`
/// or, with a value per axis value, `bind = { "<stage>.config.<path>" = [...] }`.
#[derive(Clone, Debug)]
pub struct RawAxis {
    pub name: Spanned<String>,
    /// The scalar values in file order, each with its span.
    pub values: Vec<RawValue>,
    /// The values array (brackets included).
    pub values_span: Span,
    /// The config fields the axis sets, as written (`"split.config.class"`).
    pub bind: Vec<RawAxisBinding>,
}

/// One config field an axis sets: to the axis value itself, or (written as a table entry) to
/// the value at the same position of its own list.
#[derive(Clone, Debug)]
pub struct RawAxisBinding {
    /// `"<stage>.config.<path>"` as written.
    pub field: Spanned<String>,
    /// The field's value at each axis value, and the span of that list; `None`: the axis value.
    pub values: Option<(Vec<RawValue>, Span)>,
}

/// One `port = ...` entry of a stage's `inputs`.
#[derive(Clone, Debug)]
pub struct RawInput {
    pub port: Spanned<String>,
    pub binding: RawBinding,
}

/// The value of an input port, as written; reference strings are not parsed yet.
#[derive(Clone, Debug)]
pub enum RawBinding {
    /// `port = "stage.output"`
    One(Spanned<String>),
    /// `port = ["a.out", "b.out"]`; the span covers the brackets.
    List(Spanned<Vec<Spanned<String>>>),
    /// `port = { name = "a.out", other = "b.out" }` in file order; the span covers the braces.
    Map(Spanned<Vec<(Spanned<String>, Spanned<String>)>>),
}

impl RawBinding {
    /// The span of the whole value.
    pub fn span(&self) -> Span {
        match self {
            RawBinding::One(s) => s.span,
            RawBinding::List(l) => l.span,
            RawBinding::Map(m) => m.span,
        }
    }

    /// Every reference string in it, in file order.
    pub fn references(&self) -> Vec<&Spanned<String>> {
        match self {
            RawBinding::One(s) => vec![s],
            RawBinding::List(l) => l.value.iter().collect(),
            RawBinding::Map(m) => m.value.iter().map(|(_, v)| v).collect(),
        }
    }
}

/// A TOML value with spans on every key and value (a stage's `config`).
#[derive(Clone, Debug, PartialEq)]
pub struct RawValue {
    pub span: Span,
    pub value: RawValueKind,
}

/// The shape of a [`RawValue`].
#[derive(Clone, Debug, PartialEq)]
pub enum RawValueKind {
    String(String),
    Integer(i64),
    Float(f64),
    Boolean(bool),
    /// A TOML date-time, as written (JSON has none: it becomes a string).
    Datetime(String),
    Array(Vec<RawValue>),
    /// Keys in file order, each with its own span.
    Table(Vec<(Spanned<String>, RawValue)>),
}

impl RawValue {
    /// The value as JSON (tables keep file order; date-times become strings).
    ///
    /// Fails on a float that JSON cannot hold (`nan`, `inf`), returning its span.
    pub fn to_json(&self) -> Result<serde_json::Value, Span> {
        use serde_json::Value;
        Ok(match &self.value {
            RawValueKind::String(s) | RawValueKind::Datetime(s) => Value::String(s.clone()),
            RawValueKind::Integer(i) => Value::from(*i),
            RawValueKind::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).ok_or(self.span)?,
            RawValueKind::Boolean(b) => Value::Bool(*b),
            RawValueKind::Array(items) => Value::Array(items.iter().map(RawValue::to_json).collect::<Result<_, _>>()?),
            RawValueKind::Table(entries) => {
                let mut map = serde_json::Map::new();
                for (k, v) in entries {
                    map.insert(k.value.clone(), v.to_json()?);
                }
                Value::Object(map)
            }
        })
    }

    /// The entry of a table under `key`: the key's span and the value.
    pub fn entry(&self, key: &str) -> Option<(Span, &RawValue)> {
        match &self.value {
            RawValueKind::Table(entries) => entries.iter().find(|(k, _)| k.value == key).map(|(k, v)| (k.span, v)),
            _ => None,
        }
    }

    /// The value at a JSON pointer (`/a/0/b`, `~0`/`~1` escapes), with the span of the key it
    /// sits under when the last step is a table key.
    pub fn at_pointer(&self, pointer: &str) -> Option<(Option<Span>, &RawValue)> {
        let mut here = self;
        let mut key_span = None;
        if pointer.is_empty() {
            return Some((None, here));
        }
        for token in pointer.strip_prefix('/')?.split('/') {
            let token = token.replace("~1", "/").replace("~0", "~");
            match &here.value {
                RawValueKind::Table(_) => {
                    let (k, v) = here.entry(&token)?;
                    key_span = Some(k);
                    here = v;
                }
                RawValueKind::Array(items) => {
                    here = items.get(token.parse::<usize>().ok()?)?;
                    key_span = None;
                }
                _ => return None,
            }
        }
        Some((key_span, here))
    }
}

impl RawPipeline {
    pub fn source(&self) -> &SourceFile {
        &self.source
    }

    /// The `[plugins] paths`, resolved against the pipeline file's folder (absolute paths are
    /// kept as they are). The host calls this before validation, to load the plugins whose
    /// stage descriptions validation needs.
    pub fn plugin_paths(&self) -> Vec<PathBuf> {
        let base = self.source.path().parent().map(PathBuf::from).unwrap_or_default();
        self.plugin_paths.iter().map(|p| base.join(&p.value)).collect()
    }

    /// The pipeline's name: `name` when given, else the file stem.
    pub fn name(&self) -> String {
        match &self.name {
            Some(n) => n.value.clone(),
            None => self.source.path().file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }

    /// Whether the file writes this top-level key (even with a value of the wrong type).
    pub fn has_key(&self, key: &str) -> bool {
        self.keys.iter().any(|k| k == key)
    }

    pub fn stage(&self, name: &str) -> Option<&RawStage> {
        self.stages.iter().find(|s| s.name.value == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(value: RawValueKind, start: usize) -> RawValue {
        RawValue { span: Span::new(start, start + 1), value }
    }

    #[test]
    fn pointers_walk_tables_and_arrays() {
        let inner =
            v(RawValueKind::Table(vec![(Spanned::new("a/b".to_string(), 5..8), v(RawValueKind::Integer(3), 9))]), 4);
        let root = v(
            RawValueKind::Table(vec![
                (Spanned::new("x".to_string(), 0..1), v(RawValueKind::Array(vec![inner]), 2)),
                (Spanned::new("y".to_string(), 10..11), v(RawValueKind::Float(0.5), 12)),
            ]),
            0,
        );
        assert_eq!(root.at_pointer("").map(|(k, v)| (k, v.span.start)), Some((None, 0)));
        assert_eq!(root.at_pointer("/y").map(|(k, v)| (k, v.span.start)), Some((Some(Span::new(10, 11)), 12)));
        assert_eq!(root.at_pointer("/x/0").map(|(k, v)| (k, v.span.start)), Some((None, 4)));
        assert_eq!(root.at_pointer("/x/0/a~1b").map(|(k, v)| (k, v.span.start)), Some((Some(Span::new(5, 8)), 9)));
        assert!(root.at_pointer("/x/1").is_none());
        assert!(root.at_pointer("/z").is_none());
        assert_eq!(root.to_json().unwrap(), serde_json::json!({ "x": [{ "a/b": 3 }], "y": 0.5 }));
    }

    #[test]
    fn json_cannot_hold_nan() {
        let nan = v(RawValueKind::Float(f64::NAN), 7);
        assert_eq!(nan.to_json(), Err(Span::new(7, 8)));
    }
}

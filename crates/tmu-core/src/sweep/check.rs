//! Validation of the `[sweep]` table: axis names, values (non-empty, scalars of one type, no
//! repeats; non-negative integers for `seed`), bindings (`<stage>.config.<path>` naming a stage
//! of the file, no field bound twice, a per-value list as long as the axis) and the length of
//! point labels.

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::names::{NAME_RULE, is_valid_name};
use crate::raw::{RawAxis, RawPipeline, RawValue, RawValueKind};
use crate::source::Span;
use crate::suggest::did_you_mean;
use crate::sweep::label::{MAX_LABEL_LEN, value_text};
use crate::sweep::{FieldRef, SEED_AXIS};

/// An axis whose values passed the checks (its bindings may still have had problems: only the
/// valid ones are kept).
pub(crate) struct CheckedAxis {
    pub name: String,
    pub seed: bool,
    /// The values with their spans, and as JSON.
    pub values: Vec<(RawValue, serde_json::Value)>,
    /// The valid bindings.
    pub bind: Vec<CheckedBinding>,
}

/// A valid binding of an axis.
pub(crate) struct CheckedBinding {
    pub field: FieldRef,
    /// The span of the `bind` string (or table key).
    pub span: Span,
    /// The field's value at each axis value (as written, and as JSON); `None`: the axis value.
    pub values: Option<Vec<(RawValue, serde_json::Value)>>,
}

impl CheckedAxis {
    /// The value binding `b` sets at the axis's `i`-th value, as written.
    pub fn raw_value(&self, b: &CheckedBinding, i: usize) -> RawValue {
        b.values.as_ref().map_or(&self.values[i].0, |v| &v[i].0).clone()
    }
}

/// What validation learnt from `[sweep]`.
pub(crate) struct CheckedSweep {
    pub axes: Vec<CheckedAxis>,
}

impl CheckedSweep {
    /// The bindings into stage `stage`: `(axis index, binding)`.
    pub fn bindings_of(&self, stage: &str) -> Vec<(usize, &CheckedBinding)> {
        let mut out = Vec::new();
        for (i, axis) in self.axes.iter().enumerate() {
            for b in &axis.bind {
                if b.field.stage == stage {
                    out.push((i, b));
                }
            }
        }
        out
    }
}

/// Checks `[sweep]`; `None` when the file has none.
pub(crate) fn check(raw: &RawPipeline, ds: &mut Diagnostics) -> Option<CheckedSweep> {
    let sweep = raw.sweep.as_ref()?;
    let mut axes: Vec<CheckedAxis> = Vec::new();
    let mut bound: Vec<(FieldRef, Span, String)> = Vec::new();
    for axis in &sweep.axes {
        let name = &axis.name.value;
        if !is_valid_name(name) {
            ds.push(
                Diagnostic::new(Code::InvalidName, format!("invalid axis name `{name}`"))
                    .at(axis.name.span, format!("expected {NAME_RULE}")),
            );
        }
        let seed = name == SEED_AXIS;
        let Some(values) = check_values(axis, seed, ds) else { continue };
        let mut bind = Vec::new();
        if axis.bind.is_empty() && !seed {
            ds.push(
                Diagnostic::new(Code::Sweep, format!("axis `{name}` binds no config field"))
                    .at(axis.name.span, "this axis sets nothing")
                    .help(format!(
                        "write `{name} = {{ values = [...], bind = [\"<stage>.config.<field>\"] }}`; only `seed` binds without `bind` (the pipeline seed)"
                    )),
            );
        }
        for b in &axis.bind {
            let (text, b_span) = (&b.field.value, b.field.span);
            let Some(field) = parse_binding(raw, text, b_span, ds) else { continue };
            if let Some((other, span, by)) = bound.iter().find(|(f, _, _)| overlaps(f, &field)) {
                let what = if other == &field { format!("`{field}`") } else { format!("`{field}` and `{other}`") };
                ds.push(
                    Diagnostic::new(Code::Sweep, format!("{what} bound twice"))
                        .at(b_span, format!("bound by axis `{name}`"))
                        .with(*span, format!("bound by axis `{by}`"))
                        .help("a config field takes one value per point: bind it from one axis only"),
                );
                continue;
            }
            bound.push((field.clone(), b_span, name.clone()));
            let per_value = match &b.values {
                None => None,
                Some((list, list_span)) if list.len() != values.len() => {
                    ds.push(
                        Diagnostic::new(
                            Code::Sweep,
                            format!(
                                "`{field}` has {} values for the {} values of axis `{name}`",
                                list.len(),
                                values.len()
                            ),
                        )
                        .at(*list_span, format!("{} values", list.len()))
                        .with(axis.values_span, format!("{} values", values.len()))
                        .help("a field bound by a table takes one value per axis value, in the axis's order"),
                    );
                    continue;
                }
                // Non-finite floats were refused by the parser, so every value has a JSON form.
                Some((list, _)) => Some(list.iter().filter_map(|v| v.to_json().ok().map(|j| (v.clone(), j))).collect()),
            };
            bind.push(CheckedBinding { field, span: b_span, values: per_value });
        }
        axes.push(CheckedAxis { name: name.clone(), seed, values, bind });
    }
    let longest: usize = axes
        .iter()
        .map(|a| a.name.len() + 1 + a.values.iter().map(|(_, v)| value_text(v).len()).max().unwrap_or(0))
        .sum::<usize>()
        + axes.len().saturating_sub(1);
    if longest > MAX_LABEL_LEN {
        ds.push(
            Diagnostic::new(Code::Sweep, format!("point labels of this sweep reach {longest} bytes"))
                .at(sweep.key, format!("labels name folders: at most {MAX_LABEL_LEN} bytes"))
                .help("use shorter axis names or values"),
        );
    }
    Some(CheckedSweep { axes })
}

/// `string`, `boolean` or `number` (integers and floats mix).
fn class(v: &RawValueKind) -> &'static str {
    match v {
        RawValueKind::String(_) => "a string",
        RawValueKind::Boolean(_) => "a boolean",
        _ => "a number",
    }
}

fn same_value(a: &RawValueKind, b: &RawValueKind) -> bool {
    let number = |v: &RawValueKind| match v {
        RawValueKind::Integer(i) => Some(*i as f64),
        RawValueKind::Float(f) => Some(*f),
        _ => None,
    };
    match (number(a), number(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// The values of an axis, or `None` after reporting why they cannot make points.
fn check_values(axis: &RawAxis, seed: bool, ds: &mut Diagnostics) -> Option<Vec<(RawValue, serde_json::Value)>> {
    let name = &axis.name.value;
    let before = ds.len();
    if axis.values.is_empty() {
        ds.push(
            Diagnostic::new(Code::Sweep, format!("axis `{name}` has no values"))
                .at(axis.values_span, "expected at least one value"),
        );
        return None;
    }
    let first = &axis.values[0];
    for (i, v) in axis.values.iter().enumerate() {
        if seed {
            if !matches!(v.value, RawValueKind::Integer(n) if n >= 0) {
                ds.push(
                    Diagnostic::new(Code::Sweep, "the `seed` axis takes non-negative integers")
                        .at(v.span, format!("found {}", describe(&v.value)))
                        .help("each value of `seed` is the pipeline seed of its points"),
                );
                continue;
            }
        } else if class(&v.value) != class(&first.value) {
            ds.push(
                Diagnostic::new(Code::Sweep, format!("axis `{name}` mixes value types"))
                    .at(v.span, format!("found {}", class(&v.value)))
                    .with(first.span, format!("the first value is {}", class(&first.value)))
                    .help("every value of an axis sets the same config fields: give them one type"),
            );
            continue;
        }
        if let Some(earlier) = axis.values[..i].iter().find(|w| same_value(&w.value, &v.value)) {
            ds.push(
                Diagnostic::new(Code::Sweep, format!("axis `{name}` repeats a value"))
                    .at(v.span, "repeated")
                    .with(earlier.span, "first given here")
                    .help("two equal values would make two identical points"),
            );
        }
    }
    if ds.len() > before {
        return None;
    }
    // Non-finite floats were refused by the parser, so every value has a JSON form.
    Some(axis.values.iter().filter_map(|v| v.to_json().ok().map(|j| (v.clone(), j))).collect())
}

fn describe(v: &RawValueKind) -> String {
    match v {
        RawValueKind::Integer(n) => format!("{n}"),
        other => class(other).to_string(),
    }
}

/// Whether binding both would set one field twice (equal paths, or one inside the other).
fn overlaps(a: &FieldRef, b: &FieldRef) -> bool {
    a.stage == b.stage && a.path.iter().zip(&b.path).all(|(x, y)| x == y)
}

/// `<stage>.config.<path>` naming a stage of the file, or a diagnostic.
fn parse_binding(raw: &RawPipeline, text: &str, span: Span, ds: &mut Diagnostics) -> Option<FieldRef> {
    let parts: Vec<&str> = text.split('.').collect();
    let invalid = |label: &str| {
        Diagnostic::new(Code::Sweep, format!("invalid binding `{text}`"))
            .at(span, label.to_string())
            .help("a sweep binds a config field of a stage: `\"<stage>.config.<field>\"`, dotted into nested tables")
    };
    if parts.len() < 3 || parts.iter().any(|p| p.is_empty()) {
        ds.push(invalid("expected `<stage>.config.<field>`"));
        return None;
    }
    if parts[1] != "config" {
        let d = invalid("a sweep can only bind config fields");
        ds.push(d.help(format!("did you mean `{}.config.{}`?", parts[0], parts[1..].join("."))));
        return None;
    }
    let stage = parts[0];
    if raw.stage(stage).is_none() {
        let names = raw.stages.iter().map(|s| s.name.value.as_str());
        ds.push(
            Diagnostic::new(Code::UnknownStage, format!("no stage named `{stage}`"))
                .at(span, "this binding names an unknown stage")
                .maybe_help(did_you_mean(stage, names)),
        );
        return None;
    }
    Some(FieldRef { stage: stage.to_string(), path: parts[2..].iter().map(|p| p.to_string()).collect() })
}

//! Parsing the `[sweep]` table: each axis an array of scalars or a `{ values, bind }` table, its
//! `bind` a list of fields (set to the axis value) or a table of fields with a value per axis value.

use toml::Spanned as TomlSpanned;
use toml::de::DeValue;

use super::{Parser, entries, key_string, span};
use crate::diagnostic::{Code, Diagnostic};
use crate::raw::{RawAxis, RawAxisBinding, RawSweep, RawValue};
use crate::source::{Span, Spanned};

/// The keys of an axis written as a table.
pub const AXIS_KEYS: [&str; 2] = ["values", "bind"];

type Key<'i> = TomlSpanned<std::borrow::Cow<'i, str>>;

impl Parser {
    /// `[sweep]`: `None` when it is not a table (reported). An axis with a problem of type or
    /// shape is reported and left out, so that validation does not build points from it.
    pub(super) fn sweep(&mut self, key: &Key<'_>, value: &TomlSpanned<DeValue<'_>>) -> Option<RawSweep> {
        let table = self.table("`sweep`", value)?;
        if table.is_empty() {
            self.problems.push(
                Diagnostic::new(Code::Sweep, "the sweep has no axes")
                    .at(span(key), "empty sweep")
                    .help("add an axis such as `seed = [0, 1, 2]`, or remove `[sweep]`"),
            );
        }
        let mut axes = Vec::new();
        for (name, v) in entries(table) {
            let what = format!("axis `{}`", name.get_ref());
            match v.get_ref() {
                DeValue::Array(_) => {
                    if let Some((values, values_span)) = self.axis_values(&what, v) {
                        axes.push(RawAxis { name: key_string(name), values, values_span, bind: Vec::new() });
                    }
                }
                DeValue::Table(t) => {
                    let before = self.problems.len();
                    let mut values = None;
                    let mut has_values = false;
                    let mut bind = Vec::new();
                    for (k, item) in entries(t) {
                        match k.get_ref().as_ref() {
                            "values" => {
                                has_values = true;
                                values = self.axis_values(&what, item);
                            }
                            "bind" => bind = self.binds(&what, item),
                            other => self.unknown_key(k, other, &AXIS_KEYS, &format!("in {what}")),
                        }
                    }
                    if !has_values {
                        self.problems.push(
                            Diagnostic::new(Code::Structure, format!("{what} has no `values`"))
                                .at(span(name), "this axis")
                                .help(format!(
                                    "write `{} = {{ values = [...], bind = [\"<stage>.config.<field>\"] }}`",
                                    name.get_ref()
                                )),
                        );
                    }
                    if let (Some((values, values_span)), true) = (values, self.problems.len() == before) {
                        axes.push(RawAxis { name: key_string(name), values, values_span, bind });
                    }
                }
                _ => self.wrong_type(&what, "an array of values or a table with `values` and `bind`", v),
            }
        }
        Some(RawSweep { key: span(key), axes })
    }

    /// The values of an axis: an array of strings, integers, floats or booleans.
    fn axis_values(&mut self, what: &str, v: &TomlSpanned<DeValue<'_>>) -> Option<(Vec<RawValue>, Span)> {
        let DeValue::Array(items) = v.get_ref() else {
            self.wrong_type(&format!("the `values` of {what}"), "an array", v);
            return None;
        };
        let mut values = Vec::new();
        let mut ok = true;
        for item in items.iter() {
            match item.get_ref() {
                DeValue::String(_) | DeValue::Integer(_) | DeValue::Float(_) | DeValue::Boolean(_) => {
                    match self.value(item) {
                        Some(x) => values.push(x),
                        None => ok = false,
                    }
                }
                _ => {
                    self.wrong_type(
                        &format!("each value of {what}"),
                        "a string, an integer, a float or a boolean",
                        item,
                    );
                    ok = false;
                }
            }
        }
        ok.then_some((values, span(v)))
    }

    /// `bind = ["<stage>.config.<path>", ...]` (a single string is a list of one), or
    /// `bind = { "<stage>.config.<path>" = [value per axis value], ... }`.
    fn binds(&mut self, what: &str, v: &TomlSpanned<DeValue<'_>>) -> Vec<RawAxisBinding> {
        let plain = |s: &str, span: std::ops::Range<usize>| RawAxisBinding {
            field: Spanned::new(s.to_string(), span),
            values: None,
        };
        match v.get_ref() {
            DeValue::String(s) => vec![plain(s, v.span())],
            DeValue::Array(items) => {
                let mut out = Vec::new();
                for item in items.iter() {
                    match item.get_ref() {
                        DeValue::String(s) => out.push(plain(s, item.span())),
                        _ => self.wrong_type(
                            &format!("each `bind` of {what}"),
                            "a string `\"<stage>.config.<field>\"`",
                            item,
                        ),
                    }
                }
                out
            }
            DeValue::Table(t) => {
                let mut out = Vec::new();
                for (field, list) in entries(t) {
                    let DeValue::Array(items) = list.get_ref() else {
                        self.wrong_type(
                            &format!("the values of `{}` in the `bind` of {what}", field.get_ref()),
                            "an array with one value per axis value",
                            list,
                        );
                        continue;
                    };
                    let values: Vec<RawValue> = items.iter().filter_map(|item| self.value(item)).collect();
                    if values.len() == items.len() {
                        out.push(RawAxisBinding {
                            field: Spanned::new(field.get_ref().to_string(), field.span()),
                            values: Some((values, span(list))),
                        });
                    }
                }
                out
            }
            _ => {
                self.wrong_type(
                    &format!("the `bind` of {what}"),
                    "an array of `\"<stage>.config.<field>\"` strings, or a table of them with a value per axis value",
                    v,
                );
                Vec::new()
            }
        }
    }
}

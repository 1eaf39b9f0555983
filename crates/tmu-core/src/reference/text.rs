//! One stage as terminal text: what `tmu describe` prints.

use std::fmt::Write;

use tmu_plugin::Arity;
use tmu_plugin::protocol::StageDescription;

use super::fields::config_fields;

/// `list of `, `named map of ` or nothing, before an input's artifact kind.
pub(super) fn arity_prefix(a: Arity) -> &'static str {
    match a {
        Arity::One => "",
        Arity::List => "list of ",
        Arity::Map => "named map of ",
    }
}

/// One stage: a header line `<kind>  (<origin>)`, the description, inputs, outputs, config fields
/// (type, default or `required`, description) and examples, indented by two spaces per level.
/// `origin` says where the stage comes from (`plugin tmu-train 0.1.0, /path/libtmu_train.so`).
pub fn stage_text(s: &StageDescription, origin: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}  ({origin})", s.kind);
    let _ = writeln!(out, "  {}", s.description.replace('\n', "\n  "));
    if !s.inputs.is_empty() {
        let _ = writeln!(out, "  inputs:");
        for p in &s.inputs {
            let req = if p.required { "" } else { ", optional" };
            let _ = writeln!(out, "    {}  ({}{}{req})  {}", p.name, arity_prefix(p.arity), p.kind, p.description);
        }
    }
    let _ = writeln!(out, "  outputs:");
    for p in &s.outputs {
        let _ = writeln!(out, "    {}  ({})  {}", p.name, p.kind, p.description);
    }
    let config = config_fields(&s.config_schema);
    if config.is_empty() {
        let _ = writeln!(out, "  config: none");
    } else {
        let _ = writeln!(out, "  config:");
        for f in config {
            let default = match (f.default, f.required) {
                (Some(d), _) => format!(", default {d}"),
                (None, true) => ", required".to_string(),
                (None, false) => String::new(),
            };
            let description = f.description.replace('\n', "\n      ");
            let _ = writeln!(out, "    {}  ({}{default})  {description}", f.name, f.type_text);
        }
    }
    for e in &s.examples {
        let _ = writeln!(out, "  example: {}", e.title);
        for line in e.config_toml.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}

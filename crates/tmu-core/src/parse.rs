//! Parsing: pipeline TOML -> [`RawPipeline`], checking syntax, types and shape, keeping spans.

use std::path::Path;
use std::sync::Arc;

use toml::Spanned as TomlSpanned;
use toml::de::{DeTable, DeValue};

mod sweep;

pub use sweep::AXIS_KEYS;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::raw::{RawBinding, RawInput, RawPipeline, RawStage, RawValue, RawValueKind};
use crate::slurm::{SLURM_KEYS, SlurmSettings};
use crate::source::{SourceFile, Span, Spanned};
use crate::suggest::{did_you_mean, one_of};

/// The top-level keys of a pipeline file. A new table is added here and in [`parse`]'s match.
pub const TOP_LEVEL_KEYS: [&str; 9] =
    ["format", "name", "seed", "device", "description", "plugins", "stages", "sweep", "slurm"];

/// The keys of a `[stages.<name>]` table.
pub const STAGE_KEYS: [&str; 5] = ["kind", "inputs", "config", "device", "timeout"];

/// The keys of the `[plugins]` table.
pub const PLUGINS_KEYS: [&str; 1] = ["paths"];

type Entry<'a, 'i> = (&'a TomlSpanned<std::borrow::Cow<'i, str>>, &'a TomlSpanned<DeValue<'i>>);

/// Parses a pipeline file's text; `path` is used for messages and to resolve plugin paths.
///
/// Fails with every TOML syntax error. Otherwise returns the raw pipeline, even when some
/// values have the wrong type or shape: those problems are kept in the raw pipeline (see
/// [`RawPipeline::problems`]) and reported by [`crate::validate`] together with everything else,
/// so that one `tmu check` lists all mistakes. Entries with problems are left out of the raw
/// form, so validation does not report them twice.
pub fn parse(path: &Path, text: &str) -> Result<RawPipeline, Diagnostics> {
    let source = Arc::new(SourceFile::new(path, text));
    let (doc, errors) = DeTable::parse_recoverable(text);
    if !errors.is_empty() {
        let mut ds = Diagnostics::new(source);
        for e in errors {
            ds.push(syntax_error(&e, text));
        }
        ds.sort();
        ds.dedup();
        return Err(ds);
    }
    let mut p = Parser { problems: Vec::new() };
    let mut raw = RawPipeline {
        source,
        span: Span::new(0, text.len()),
        format: None,
        name: None,
        seed: None,
        device: None,
        description: None,
        plugin_paths: Vec::new(),
        stages: Vec::new(),
        sweep: None,
        slurm: Default::default(),
        problems: Vec::new(),
        keys: Vec::new(),
    };
    for (key, value) in entries(doc.get_ref()) {
        raw.keys.push(key.get_ref().to_string());
        match key.get_ref().as_ref() {
            "format" => raw.format = p.integer(key, value),
            "name" => raw.name = p.string(key, value),
            "seed" => raw.seed = p.seed(key, value),
            "device" => raw.device = p.string(key, value),
            "description" => raw.description = p.string(key, value),
            "plugins" => raw.plugin_paths = p.plugins(key, value),
            "stages" => raw.stages = p.stages(key, value),
            "sweep" => raw.sweep = p.sweep(key, value),
            "slurm" => raw.slurm = p.slurm(value),
            other => p.unknown_key(key, other, &TOP_LEVEL_KEYS, "at the top level"),
        }
    }
    raw.problems = p.problems;
    Ok(raw)
}

impl RawPipeline {
    /// Problems of type or shape that parsing found (reported again by [`crate::validate`]).
    pub fn problems(&self) -> &[Diagnostic] {
        &self.problems
    }
}

fn syntax_error(e: &toml::de::Error, text: &str) -> Diagnostic {
    let span = e.span().map(Span::from).unwrap_or(Span::new(text.len(), text.len()));
    let mut lines = e.message().trim().lines();
    let message = lines.next().unwrap_or("invalid toml").to_string();
    let label: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
    Diagnostic::new(Code::Syntax, format!("invalid toml: {message}")).at(span, label.join("; "))
}

/// A table's entries in file order (the map itself may be sorted by key).
fn entries<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut v: Vec<Entry<'a, 'i>> = table.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

fn span<T>(s: &TomlSpanned<T>) -> Span {
    Span::from(s.span())
}

fn key_string(k: &TomlSpanned<std::borrow::Cow<'_, str>>) -> Spanned<String> {
    Spanned::new(k.get_ref().to_string(), k.span())
}

/// `a string`, `an integer`, ... for messages.
fn a_type(v: &DeValue<'_>) -> &'static str {
    match v {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

struct Parser {
    problems: Vec<Diagnostic>,
}

impl Parser {
    fn wrong_type(&mut self, what: &str, expected: &str, value: &TomlSpanned<DeValue<'_>>) {
        let found = a_type(value.get_ref());
        self.problems.push(
            Diagnostic::new(Code::Structure, format!("{what} must be {expected}"))
                .at(span(value), format!("found {found}")),
        );
    }

    fn unknown_key(&mut self, key: &TomlSpanned<std::borrow::Cow<'_, str>>, name: &str, known: &[&str], place: &str) {
        let help = did_you_mean(name, known.iter().copied())
            .unwrap_or_else(|| format!("expected one of {}", one_of(known.iter().copied())));
        self.problems.push(
            Diagnostic::new(Code::UnknownKey, format!("unknown key `{name}` {place}")).at(span(key), "").help(help),
        );
    }

    fn string(
        &mut self,
        key: &TomlSpanned<std::borrow::Cow<'_, str>>,
        value: &TomlSpanned<DeValue<'_>>,
    ) -> Option<Spanned<String>> {
        match value.get_ref() {
            DeValue::String(s) => Some(Spanned::new(s.to_string(), value.span())),
            _ => {
                self.wrong_type(&format!("`{}`", key.get_ref()), "a string", value);
                None
            }
        }
    }

    fn integer(
        &mut self,
        key: &TomlSpanned<std::borrow::Cow<'_, str>>,
        value: &TomlSpanned<DeValue<'_>>,
    ) -> Option<Spanned<i64>> {
        match value.get_ref() {
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => Some(Spanned::new(n, value.span())),
                Err(_) => {
                    self.out_of_range(value);
                    None
                }
            },
            _ => {
                self.wrong_type(&format!("`{}`", key.get_ref()), "an integer", value);
                None
            }
        }
    }

    fn out_of_range(&mut self, value: &TomlSpanned<DeValue<'_>>) {
        self.problems.push(
            Diagnostic::new(Code::Structure, "integer out of range")
                .at(span(value), "expected a 64-bit signed integer"),
        );
    }

    fn seed(
        &mut self,
        key: &TomlSpanned<std::borrow::Cow<'_, str>>,
        value: &TomlSpanned<DeValue<'_>>,
    ) -> Option<Spanned<u64>> {
        let n = self.integer(key, value)?;
        match u64::try_from(n.value) {
            Ok(seed) => Some(Spanned::new(seed, n.span)),
            Err(_) => {
                self.problems.push(
                    Diagnostic::new(Code::Structure, "`seed` must be a non-negative integer")
                        .at(n.span, format!("found {}", n.value)),
                );
                None
            }
        }
    }

    fn table<'a, 'i>(&mut self, what: &str, value: &'a TomlSpanned<DeValue<'i>>) -> Option<&'a DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.wrong_type(what, "a table", value);
                None
            }
        }
    }

    fn plugins(
        &mut self,
        _key: &TomlSpanned<std::borrow::Cow<'_, str>>,
        value: &TomlSpanned<DeValue<'_>>,
    ) -> Vec<Spanned<String>> {
        let mut paths = Vec::new();
        let Some(table) = self.table("`plugins`", value) else { return paths };
        for (k, v) in entries(table) {
            match k.get_ref().as_ref() {
                "paths" => match v.get_ref() {
                    DeValue::Array(items) => {
                        for item in items.iter() {
                            match item.get_ref() {
                                DeValue::String(s) => paths.push(Spanned::new(s.to_string(), item.span())),
                                _ => self.wrong_type("each plugin path", "a string", item),
                            }
                        }
                    }
                    _ => self.wrong_type("`plugins.paths`", "an array of strings", v),
                },
                other => self.unknown_key(k, other, &PLUGINS_KEYS, "in `[plugins]`"),
            }
        }
        paths
    }

    fn slurm(&mut self, value: &TomlSpanned<DeValue<'_>>) -> SlurmSettings {
        let mut s = SlurmSettings::default();
        let Some(table) = self.table("`slurm`", value) else { return s };
        for (k, v) in entries(table) {
            let text = |p: &mut Self| p.string(k, v).map(|s| s.value);
            let count = |p: &mut Self| {
                let n = p.integer(k, v)?;
                match u32::try_from(n.value) {
                    Ok(n) if n > 0 => Some(n),
                    _ => {
                        p.wrong_type(&format!("`slurm.{}`", k.get_ref()), "a positive integer", v);
                        None
                    }
                }
            };
            match k.get_ref().as_ref() {
                "partition" => s.partition = text(self),
                "account" => s.account = text(self),
                "time" => s.time = text(self),
                "mem" => s.mem = text(self),
                "gpus_per_job" => s.gpus_per_job = count(self),
                "cpus_per_task" => s.cpus_per_task = count(self),
                "extra" => match v.get_ref() {
                    DeValue::Array(items) => {
                        for item in items.iter() {
                            match item.get_ref() {
                                DeValue::String(line) => s.extra.push(line.to_string()),
                                _ => self.wrong_type("each line of `slurm.extra`", "a string", item),
                            }
                        }
                    }
                    _ => self.wrong_type("`slurm.extra`", "an array of strings", v),
                },
                other => self.unknown_key(k, other, &SLURM_KEYS, "in `[slurm]`"),
            }
        }
        s
    }

    fn stages(
        &mut self,
        _key: &TomlSpanned<std::borrow::Cow<'_, str>>,
        value: &TomlSpanned<DeValue<'_>>,
    ) -> Vec<RawStage> {
        let Some(table) = self.table("`stages`", value) else { return Vec::new() };
        let mut stages = Vec::new();
        for (name, v) in entries(table) {
            let what = format!("stage `{}`", name.get_ref());
            let Some(t) = self.table(&what, v) else { continue };
            let mut stage = RawStage {
                name: key_string(name),
                span: span(v),
                kind: None,
                inputs: Vec::new(),
                config: None,
                config_key: None,
                config_broken: false,
                device: None,
                timeout: None,
            };
            let mut has_kind = false;
            for (k, v) in entries(t) {
                match k.get_ref().as_ref() {
                    "kind" => {
                        has_kind = true;
                        stage.kind = self.string(k, v);
                    }
                    "inputs" => stage.inputs = self.inputs(&what, v),
                    "config" => {
                        stage.config_key = Some(span(k));
                        let before = self.problems.len();
                        if self.table(&format!("the `config` of {what}"), v).is_some() {
                            stage.config = self.value(v);
                        }
                        stage.config_broken = self.problems.len() > before;
                    }
                    "device" => stage.device = self.string(k, v),
                    "timeout" => stage.timeout = self.string(k, v),
                    other => self.unknown_key(k, other, &STAGE_KEYS, &format!("in {what}")),
                }
            }
            if !has_kind {
                self.problems.push(
                    Diagnostic::new(Code::Structure, format!("{what} has no `kind`"))
                        .at(span(name), "this stage")
                        .help("add `kind = \"<family>.<name>\"`; `tmu describe` lists the known kinds"),
                );
            }
            stages.push(stage);
        }
        stages
    }

    fn inputs(&mut self, stage: &str, value: &TomlSpanned<DeValue<'_>>) -> Vec<RawInput> {
        let Some(table) = self.table(&format!("the `inputs` of {stage}"), value) else { return Vec::new() };
        let mut inputs = Vec::new();
        for (port, v) in entries(table) {
            let expected = "a reference `\"<stage>.<output>\"`, an array of references or a table of references";
            let what = format!("input `{}` of {stage}", port.get_ref());
            let binding = match v.get_ref() {
                DeValue::String(s) => RawBinding::One(Spanned::new(s.to_string(), v.span())),
                DeValue::Array(items) => {
                    let mut refs = Vec::new();
                    for item in items.iter() {
                        match item.get_ref() {
                            DeValue::String(s) => refs.push(Spanned::new(s.to_string(), item.span())),
                            _ => self.wrong_type(&format!("each item of {what}"), "a reference string", item),
                        }
                    }
                    RawBinding::List(Spanned::new(refs, v.span()))
                }
                DeValue::Table(t) => {
                    let mut refs = Vec::new();
                    for (name, item) in entries(t) {
                        match item.get_ref() {
                            DeValue::String(s) => {
                                refs.push((key_string(name), Spanned::new(s.to_string(), item.span())))
                            }
                            _ => self.wrong_type(
                                &format!("entry `{}` of {what}", name.get_ref()),
                                "a reference string",
                                item,
                            ),
                        }
                    }
                    RawBinding::Map(Spanned::new(refs, v.span()))
                }
                _ => {
                    self.wrong_type(&what, expected, v);
                    continue;
                }
            };
            inputs.push(RawInput { port: key_string(port), binding });
        }
        inputs
    }

    /// Any TOML value with spans (a stage's `config`); `None` when part of it is unusable.
    fn value(&mut self, v: &TomlSpanned<DeValue<'_>>) -> Option<RawValue> {
        let kind = match v.get_ref() {
            DeValue::String(s) => RawValueKind::String(s.to_string()),
            DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                Ok(n) => RawValueKind::Integer(n),
                Err(_) => {
                    self.out_of_range(v);
                    return None;
                }
            },
            DeValue::Float(f) => match f.as_str().parse::<f64>() {
                Ok(x) if x.is_finite() => RawValueKind::Float(x),
                _ => {
                    self.problems.push(
                        Diagnostic::new(Code::Structure, "config values must be finite numbers")
                            .at(span(v), "json has no nan or infinity"),
                    );
                    return None;
                }
            },
            DeValue::Boolean(b) => RawValueKind::Boolean(*b),
            DeValue::Datetime(d) => RawValueKind::Datetime(d.to_string()),
            DeValue::Array(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for item in items.iter() {
                    match self.value(item) {
                        Some(x) => out.push(x),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                RawValueKind::Array(out)
            }
            DeValue::Table(t) => {
                let mut out = Vec::new();
                let mut ok = true;
                for (k, item) in entries(t) {
                    match self.value(item) {
                        Some(x) => out.push((key_string(k), x)),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                RawValueKind::Table(out)
            }
        };
        Some(RawValue { span: span(v), value: kind })
    }
}

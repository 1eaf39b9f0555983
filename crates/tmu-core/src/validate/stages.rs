//! Validation of each stage: name, kind, device, inputs (references, ports, arity, artifact kinds).

use indexmap::IndexMap;
use tmu_plugin::protocol::StageDescription;
use tmu_plugin::{Arity, DeviceSpec, OutputPort};

use super::config::check_config;
use super::header::parse_device;
use crate::catalog::StageCatalog;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::names::{NAME_RULE, OutputRef, is_valid_kind, is_valid_name};
use crate::plan::{PlannedInput, PortBinding};
use crate::raw::{RawBinding, RawInput, RawPipeline, RawStage};
use crate::source::{Span, Spanned};
use crate::suggest::{all_of, did_you_mean, one_of};
use crate::sweep::bound_config::check_bound_config;
use crate::sweep::check::CheckedSweep;

/// What validation learnt about one stage; the `Option`s are `None` when it found a problem.
pub(crate) struct Checked {
    pub kind: Option<String>,
    pub inputs: Option<Vec<PlannedInput>>,
    pub outputs: Option<Vec<OutputPort>>,
    pub config: Option<serde_json::Value>,
    /// The stages it reads from (file indices), each with the span of the reference.
    pub deps: Vec<(usize, crate::Span)>,
    /// Every reference it reads: `(port, producer's file index, span, gathers)`; an input
    /// gathers a per-point output over the sweep's points when it is a single reference on a
    /// map port.
    pub refs: Vec<(String, usize, Span, bool)>,
    pub device: DeviceSpec,
    pub timeout: Option<std::time::Duration>,
}

pub(crate) fn check(
    raw: &RawPipeline,
    catalog: &dyn StageCatalog,
    default_device: DeviceSpec,
    sweep: Option<&CheckedSweep>,
    ds: &mut Diagnostics,
) -> Vec<Checked> {
    let descriptions: Vec<Option<&StageDescription>> =
        raw.stages.iter().map(|s| s.kind.as_ref().and_then(|k| catalog.stage(&k.value))).collect();
    let mut schemas = super::config::Validators::default();
    raw.stages
        .iter()
        .enumerate()
        .map(|(i, stage)| {
            let before = ds.len();
            if !is_valid_name(&stage.name.value) {
                ds.push(
                    Diagnostic::new(Code::InvalidName, format!("invalid stage name `{}`", stage.name.value))
                        .at(stage.name.span, format!("expected {NAME_RULE}")),
                );
            }
            let desc = descriptions[i];
            if let (Some(kind), None) = (&stage.kind, desc) {
                ds.push(unknown_kind(kind, catalog));
            }
            let device = match &stage.device {
                Some(d) => parse_device(&d.value, d.span, ds).unwrap_or(default_device),
                None => default_device,
            };
            let timeout = stage.timeout.as_ref().and_then(|t| super::timeout::parse_timeout(t, ds));
            let (deps, refs, inputs) = check_inputs(raw, stage, desc, &descriptions, ds);
            let bindings = sweep.map(|s| s.bindings_of(&stage.name.value)).unwrap_or_default();
            let config = desc.and_then(|d| match (sweep, bindings.is_empty()) {
                (Some(sweep), false) => check_bound_config(stage, d, &bindings, sweep, &mut schemas, ds),
                _ => check_config(stage, d, &mut schemas, ds),
            });
            // The plan is only built when there is no diagnostic at all (parse problems
            // included), so this only keeps the partial results of a faulty stage apart.
            let clean = ds.len() == before && !stage.config_broken;
            Checked {
                kind: desc.map(|d| d.kind.clone()),
                inputs: inputs.filter(|_| clean),
                outputs: desc.map(|d| d.outputs.clone()),
                config,
                deps,
                refs,
                device,
                timeout,
            }
        })
        .collect()
}

fn unknown_kind(kind: &Spanned<String>, catalog: &dyn StageCatalog) -> Diagnostic {
    if !is_valid_kind(&kind.value) {
        return Diagnostic::new(Code::UnknownKind, format!("invalid stage kind `{}`", kind.value))
            .at(kind.span, "expected `<family>.<name>`, such as `split.forget`")
            .maybe_help(did_you_mean(&kind.value, catalog.kinds()));
    }
    let help = did_you_mean(&kind.value, catalog.kinds()).unwrap_or_else(|| {
        "`tmu describe` lists the known kinds; a plugin outside the default folders is added with `[plugins] paths`"
            .to_string()
    });
    Diagnostic::new(Code::UnknownKind, format!("unknown stage kind `{}`", kind.value))
        .at(kind.span, "no loaded plugin provides this kind")
        .help(help)
}

type Resolved = (Vec<(usize, crate::Span)>, Vec<(String, usize, Span, bool)>, Option<Vec<PlannedInput>>);

/// Checks every input of `stage`; returns the stages it reads from, every reference (port,
/// producer, span, whether it gathers over a sweep's points) and, when all is well, its inputs
/// in the description's port order.
///
/// In a file with a `[sweep]`, a single reference on a map port gathers that output over the
/// points (whether there is anything to gather is checked when the plan is expanded); without
/// one, it is an arity mistake.
fn check_inputs(
    raw: &RawPipeline,
    stage: &RawStage,
    desc: Option<&StageDescription>,
    descriptions: &[Option<&StageDescription>],
    ds: &mut Diagnostics,
) -> Resolved {
    let mut deps = Vec::new();
    let mut refs_read = Vec::new();
    let mut ok = true;
    let mut bound: IndexMap<&str, (PortBinding, bool)> = IndexMap::new();
    let sweeping = raw.has_key("sweep");
    for input in &stage.inputs {
        let port = desc.and_then(|d| d.inputs.iter().find(|p| p.name == input.port.value));
        if let Some(d) = desc
            && port.is_none()
        {
            ok = false;
            ds.push(unknown_port(stage, d, input));
        }
        let gathered =
            sweeping && matches!((port.map(|p| p.arity), &input.binding), (Some(Arity::Map), RawBinding::One(_)));
        if let Some(p) = port
            && !gathered
            && !arity_fits(p.arity, &input.binding)
        {
            ok = false;
            ds.push(arity_mismatch(p.arity, input));
        }
        let mut refs = Vec::new();
        for r in input.binding.references() {
            match resolve(raw, descriptions, r, ds) {
                Some((j, out)) => {
                    deps.push((j, r.span));
                    refs_read.push((input.port.value.clone(), j, r.span, gathered));
                    if let (Some(p), Some(out)) = (port, out)
                        && out.kind != p.kind
                    {
                        ok = false;
                        ds.push(kind_mismatch(raw, descriptions, stage, p, r, j, out));
                    }
                    refs.push(OutputRef::parse(&r.value).ok());
                }
                None => {
                    ok = false;
                    refs.push(None);
                }
            }
        }
        if let (Some(p), true) = (port, ok) {
            let mut refs = refs.into_iter().flatten();
            let binding = match &input.binding {
                RawBinding::One(_) => refs.next().map(PortBinding::One),
                RawBinding::List(_) => Some(PortBinding::List(refs.collect())),
                RawBinding::Map(m) => {
                    Some(PortBinding::Map(m.value.iter().map(|(k, _)| k.value.clone()).zip(refs).collect()))
                }
            };
            if let Some(b) = binding {
                bound.insert(p.name.as_str(), (b, gathered));
            }
        }
    }
    let Some(desc) = desc else { return (deps, refs_read, None) };
    for p in desc.inputs.iter().filter(|p| p.required) {
        let given = stage.inputs.iter().find(|i| i.port.value == p.name);
        let empty = given.is_some_and(|i| i.binding.references().is_empty());
        if given.is_none() || empty {
            ok = false;
            let (shape, example) = match p.arity {
                Arity::One => ("one", format!("{} = \"<stage>.<output>\"", p.name)),
                Arity::List => ("a list of", format!("{} = [\"<stage>.<output>\", ...]", p.name)),
                Arity::Map => ("a named map of", format!("{} = {{ <name> = \"<stage>.<output>\", ... }}", p.name)),
            };
            let d = match (given, empty) {
                (Some(i), true) => Diagnostic::new(Code::MissingInput, format!("required input `{}` is empty", p.name))
                    .at(i.binding.span(), format!("expected at least one `{}`", p.kind)),
                _ => Diagnostic::new(
                    Code::MissingInput,
                    format!("stage `{}` is missing required input `{}`", stage.name.value, p.name),
                )
                .at(stage.name.span, format!("`{}` needs {shape} `{}` at `{}`", desc.kind, p.kind, p.name)),
            };
            let help = match (given, empty) {
                (Some(_), true) => format!("name at least one output of kind `{}`", p.kind),
                _ => format!("add `{example}` to its `inputs`"),
            };
            ds.push(d.help(help));
        }
    }
    let inputs = desc
        .inputs
        .iter()
        .filter_map(|p| {
            bound.shift_remove(p.name.as_str()).map(|(binding, gathered)| PlannedInput {
                port: p.name.clone(),
                kind: p.kind,
                binding,
                gathered,
            })
        })
        .collect();
    (deps, refs_read, ok.then_some(inputs))
}

fn arity_fits(arity: Arity, b: &RawBinding) -> bool {
    matches!(
        (arity, b),
        (Arity::One, RawBinding::One(_)) | (Arity::List, RawBinding::List(_)) | (Arity::Map, RawBinding::Map(_))
    )
}

fn arity_mismatch(arity: Arity, input: &RawInput) -> Diagnostic {
    let found = match &input.binding {
        RawBinding::One(_) => "one reference",
        RawBinding::List(_) => "an array",
        RawBinding::Map(_) => "a table",
    };
    let (takes, help) = match arity {
        Arity::One => ("one artifact", "write a single reference: `\"<stage>.<output>\"`"),
        Arity::List => ("a list of artifacts", "write an array: `[\"<stage>.<output>\", ...]`"),
        Arity::Map => ("a named map of artifacts", "write a table: `{ <name> = \"<stage>.<output>\", ... }`"),
    };
    Diagnostic::new(Code::Arity, format!("input `{}` takes {takes}, found {found}", input.port.value))
        .at(input.binding.span(), format!("expected {takes}"))
        .help(help)
}

fn unknown_port(stage: &RawStage, desc: &StageDescription, input: &RawInput) -> Diagnostic {
    let names = desc.inputs.iter().map(|p| p.name.as_str());
    let help = did_you_mean(&input.port.value, names.clone()).unwrap_or_else(|| match desc.inputs.len() {
        0 => format!("`{}` takes no inputs", desc.kind),
        _ => format!("its inputs are {}", all_of(names)),
    });
    Diagnostic::new(
        Code::UnknownPort,
        format!("stage `{}` (`{}`) has no input `{}`", stage.name.value, desc.kind, input.port.value),
    )
    .at(input.port.span, "unknown input port")
    .help(help)
}

/// The stage index and (when its kind is known) the output a reference names, or a diagnostic.
fn resolve<'d>(
    raw: &RawPipeline,
    descriptions: &[Option<&'d StageDescription>],
    r: &Spanned<String>,
    ds: &mut Diagnostics,
) -> Option<(usize, Option<&'d OutputPort>)> {
    let parsed = match OutputRef::parse(&r.value) {
        Ok(p) => p,
        Err(e) => {
            let d = Diagnostic::new(Code::InvalidReference, format!("invalid reference `{}`", r.value))
                .at(r.span, e.to_string());
            // `"data"` alone: suggest its outputs.
            let help = raw.stages.iter().position(|s| s.name.value == r.value).and_then(|j| descriptions[j]).map(|d| {
                let refs: Vec<String> = d.outputs.iter().map(|o| format!("{}.{}", r.value, o.name)).collect();
                match refs.as_slice() {
                    [one] => format!("did you mean `{one}`?"),
                    _ => format!("name one of its outputs: {}", one_of(refs.iter().map(String::as_str))),
                }
            });
            ds.push(d.maybe_help(help.or_else(|| Some("references are written `\"<stage>.<output>\"`".into()))));
            return None;
        }
    };
    let Some(j) = raw.stages.iter().position(|s| s.name.value == parsed.stage) else {
        let names = raw.stages.iter().map(|s| s.name.value.as_str());
        ds.push(
            Diagnostic::new(Code::UnknownStage, format!("no stage named `{}`", parsed.stage))
                .at(r.span, "this reference names an unknown stage")
                .maybe_help(did_you_mean(&parsed.stage, names)),
        );
        return None;
    };
    let Some(desc) = descriptions[j] else { return Some((j, None)) };
    match desc.outputs.iter().find(|o| o.name == parsed.output) {
        Some(o) => Some((j, Some(o))),
        None => {
            let names = desc.outputs.iter().map(|o| o.name.as_str());
            let help = did_you_mean(&parsed.output, names.clone())
                .unwrap_or_else(|| format!("its outputs are {}", all_of(names)));
            ds.push(
                Diagnostic::new(
                    Code::UnknownOutput,
                    format!("stage `{}` (`{}`) has no output `{}`", parsed.stage, desc.kind, parsed.output),
                )
                .at(r.span, "unknown output")
                .with(raw.stages[j].name.span, format!("`{}` is defined here", parsed.stage))
                .help(help),
            );
            None
        }
    }
}

fn kind_mismatch(
    raw: &RawPipeline,
    descriptions: &[Option<&StageDescription>],
    stage: &RawStage,
    port: &tmu_plugin::InputPort,
    r: &Spanned<String>,
    j: usize,
    out: &OutputPort,
) -> Diagnostic {
    let producer = &raw.stages[j].name.value;
    let fitting: Vec<String> = descriptions[j]
        .map(|d| d.outputs.iter().filter(|o| o.kind == port.kind).map(|o| format!("{producer}.{}", o.name)).collect())
        .unwrap_or_default();
    let help = match fitting.as_slice() {
        [] => format!("input `{}` needs a stage output of kind `{}`", port.name, port.kind),
        [one] => format!("did you mean `{one}`?"),
        many => format!("`{producer}` makes a `{}` at {}", port.kind, one_of(many.iter().map(String::as_str))),
    };
    Diagnostic::new(
        Code::KindMismatch,
        format!(
            "input `{}` of stage `{}` takes a `{}`, but `{}` is a `{}`",
            port.name, stage.name.value, port.kind, r.value, out.kind
        ),
    )
    .at(r.span, format!("expected `{}`, found `{}`", port.kind, out.kind))
    .help(help)
}

//! Expansion: every stage becomes one instance per combination of the axes it depends on.
//!
//! A stage depends on an axis when the axis binds into its config, when it is a source (no
//! inputs) and the axis is `seed`, or when it reads (other than by gathering) from a stage
//! that depends on the axis. A stage that depends on no axis has one instance, shared by every
//! point. An input that gathers (a single reference on a map port) reads the producer's
//! instances at every value of the axes the consumer does not depend on, as a map keyed by
//! their point labels. Instances are ordered point by point (all of the first point's stages,
//! then what the second adds, ...), each after the instances it reads from.

use std::collections::{BTreeSet, HashMap};

use indexmap::IndexMap;
use tmu_plugin::{DeviceSpec, OutputPort, derive_seed};

use super::bind::set_json;
use super::{Point, grid};
use crate::diagnostic::{Code, Diagnostic};
use crate::names::OutputRef;
use crate::plan::{PlannedInput, PlannedStage, PortBinding};
use crate::source::Span;

/// A stage as validation resolved it, before expansion; `inputs` reference stages by their
/// names in the file, a gathering input as a single reference.
pub(crate) struct BaseStage<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub config: &'a serde_json::Value,
    pub inputs: &'a [PlannedInput],
    pub outputs: &'a [OutputPort],
    pub device: DeviceSpec,
    pub timeout: Option<std::time::Duration>,
    /// Every reference it reads: `(port, producer's position in the stage list, span, gathers)`.
    pub refs: Vec<(String, usize, Span, bool)>,
    /// The axes that bind into its config.
    pub bindings: Vec<StageBinding>,
}

/// An axis binding into a stage's config.
pub(crate) struct StageBinding {
    pub axis: usize,
    pub path: Vec<String>,
    /// The span of the `bind` string (or table key).
    pub span: Span,
    /// The field's value at each axis value; `None`: the axis value itself.
    pub values: Option<Vec<serde_json::Value>>,
}

/// An axis as expansion needs it.
pub(crate) struct AxisDef {
    pub name: String,
    pub values: Vec<serde_json::Value>,
    pub seed: bool,
}

/// The instances of `stages` (given in topological order) over `axes`, in run order; or the
/// diagnostics of inputs that gather but have nothing to gather.
pub(crate) fn expand(stages: &[BaseStage], axes: &[AxisDef], seed: u64) -> Result<Vec<PlannedStage>, Vec<Diagnostic>> {
    let depends = axis_sets(stages, axes);
    let problems = gather_problems(stages, axes, &depends);
    if !problems.is_empty() {
        return Err(problems);
    }
    let sizes: Vec<usize> = axes.iter().map(|a| a.values.len()).collect();
    // The stride of each axis in the list of all points (the last axis varies fastest).
    let strides: Vec<usize> = (0..axes.len()).map(|i| sizes[i + 1..].iter().product()).collect();

    // Instances stage by stage; `(first point, stage position)` orders them later.
    let mut instances: Vec<PlannedStage> = Vec::new();
    let mut keys: Vec<(usize, usize)> = Vec::new();
    let mut index: HashMap<(usize, String), usize> = HashMap::new();
    let mut of_stage: Vec<Vec<usize>> = Vec::with_capacity(stages.len());
    for (k, stage) in stages.iter().enumerate() {
        let own: Vec<usize> = depends[k].iter().copied().collect();
        let mut mine = Vec::new();
        for combination in grid(&own.iter().map(|&a| sizes[a]).collect::<Vec<_>>()) {
            let values: Vec<(String, serde_json::Value)> = own
                .iter()
                .zip(&combination)
                .map(|(&a, &v)| (axes[a].name.clone(), axes[a].values[v].clone()))
                .collect();
            let point = (!own.is_empty()).then(|| Point::new(values));
            let label = point.as_ref().map_or(String::new(), |p| p.label.clone());
            let name = if own.is_empty() { stage.name.to_string() } else { format!("{label}/{}", stage.name) };
            let mut config = stage.config.clone();
            for b in &stage.bindings {
                let v = combination[own.iter().position(|a| *a == b.axis).unwrap_or_default()];
                let value = b.values.as_ref().map_or(&axes[b.axis].values[v], |list| &list[v]);
                set_json(&mut config, &b.path, value.clone());
            }
            let point_seed = own
                .iter()
                .zip(&combination)
                .find(|(a, _)| axes[**a].seed)
                .and_then(|(&a, &v)| axes[a].values[v].as_u64())
                .unwrap_or(seed);
            let made =
                Made { stages, axes, depends: &depends, of_stage: &of_stage, instances: &instances, index: &index };
            let inputs = stage.inputs.iter().map(|input| resolve_input(input, point.as_ref(), &made)).collect();
            let first_point = own.iter().zip(&combination).map(|(&a, &v)| v * strides[a]).sum();
            index.insert((k, label), instances.len());
            mine.push(instances.len());
            keys.push((first_point, k));
            instances.push(PlannedStage {
                name,
                base: stage.name.to_string(),
                point,
                kind: stage.kind.to_string(),
                config,
                inputs,
                outputs: stage.outputs.to_vec(),
                dependencies: Vec::new(),
                seed: derive_seed(point_seed, stage.name),
                device: stage.device,
                timeout: stage.timeout,
            });
        }
        of_stage.push(mine);
    }
    Ok(order(instances, &keys))
}

/// The axes each stage depends on (indices into `axes`, ascending).
fn axis_sets(stages: &[BaseStage], axes: &[AxisDef]) -> Vec<BTreeSet<usize>> {
    let seed_axis = axes.iter().position(|a| a.seed);
    let mut sets: Vec<BTreeSet<usize>> = Vec::with_capacity(stages.len());
    for stage in stages {
        let mut set: BTreeSet<usize> = stage.bindings.iter().map(|b| b.axis).collect();
        if let (Some(s), true) = (seed_axis, stage.refs.is_empty()) {
            set.insert(s);
        }
        for (_, producer, _, gathers) in &stage.refs {
            if !gathers {
                set.extend(sets[*producer].iter().copied());
            }
        }
        sets.push(set);
    }
    sets
}

/// Every gathering input whose producer varies over no axis the consumer does not vary over.
fn gather_problems(stages: &[BaseStage], axes: &[AxisDef], depends: &[BTreeSet<usize>]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (k, stage) in stages.iter().enumerate() {
        for (port, q, span, gathers) in &stage.refs {
            if !gathers || !depends[*q].is_subset(&depends[k]) {
                continue;
            }
            let producer = stages[*q].name;
            if depends[*q].is_empty() {
                out.push(
                    Diagnostic::new(Code::Arity, format!("input `{port}` takes a named map of artifacts, found one reference"))
                        .at(*span, "expected a named map of artifacts")
                        .help(format!(
                            "write a table: `{{ <name> = \"<stage>.<output>\", ... }}`; a single reference on a map port gathers \
                             a per-point output over the sweep's points, but `{producer}` depends on no axis"
                        )),
                );
                continue;
            }
            let shared: Vec<usize> = depends[*q].iter().copied().collect();
            let names: Vec<&str> = shared.iter().map(|&a| axes[a].name.as_str()).collect();
            let mut d = Diagnostic::new(
                Code::Sweep,
                format!(
                    "stage `{}` gathers from `{producer}` over points, but varies over the same axes itself",
                    stage.name
                ),
            )
            .at(*span, format!("nothing left to gather: `{producer}` varies over {}", crate::suggest::all_of(names)));
            for b in stage.bindings.iter().filter(|b| shared.contains(&b.axis)) {
                d = d.with(b.span, format!("axis `{}` binds into `{}`", axes[b.axis].name, stage.name));
            }
            for (other_port, p, ref_span, g) in &stage.refs {
                if !g && depends[*p].iter().any(|a| shared.contains(a)) {
                    d = d.with(
                        *ref_span,
                        format!(
                            "read through port `{other_port}`, a per-point output makes `{}` per-point",
                            stage.name
                        ),
                    );
                }
            }
            out.push(d.help(
                "connect per-point outputs to a gathering stage through map ports only: a single reference on a map \
                 port gathers it over the points",
            ));
        }
    }
    out
}

/// The instances made so far, and how to find them.
struct Made<'a> {
    stages: &'a [BaseStage<'a>],
    axes: &'a [AxisDef],
    depends: &'a [BTreeSet<usize>],
    /// The instances of each stage made so far (indices into `instances`).
    of_stage: &'a [Vec<usize>],
    instances: &'a [PlannedStage],
    /// `(stage position, point label)` -> index into `instances`.
    index: &'a HashMap<(usize, String), usize>,
}

/// The planned binding of one input of an instance at `point`.
fn resolve_input(input: &PlannedInput, point: Option<&Point>, made: &Made) -> PlannedInput {
    let Made { stages, axes, depends, of_stage, instances, index } = made;
    let position = |r: &OutputRef| stages.iter().position(|s| s.name == r.stage).unwrap_or_default();
    let binding = if input.gathered {
        let PortBinding::One(r) = &input.binding else { return input.clone() };
        let q = position(r);
        let entries: IndexMap<String, OutputRef> = of_stage[q]
            .iter()
            .map(|&i| &instances[i])
            .filter(|inst| match (point, &inst.point) {
                (Some(mine), Some(theirs)) => theirs.agrees_with(mine),
                _ => true,
            })
            .map(|inst| {
                let label = inst.point.as_ref().map_or(String::new(), |p| p.label.clone());
                (label, OutputRef::new(inst.name.clone(), r.output.clone()))
            })
            .collect();
        PortBinding::Map(entries)
    } else {
        input.binding.map(|r| {
            let q = position(r);
            let restricted: Vec<(String, serde_json::Value)> = point
                .map(|p| {
                    p.values.iter().filter(|(a, _)| depends[q].iter().any(|&x| axes[x].name == *a)).cloned().collect()
                })
                .unwrap_or_default();
            let label = super::label::encode(&restricted);
            let i = index[&(q, label)];
            OutputRef::new(instances[i].name.clone(), r.output.clone())
        })
    };
    PlannedInput { binding, ..input.clone() }
}

/// Instances in run order: each after those it reads from; among those free to go, the one
/// whose first point comes first, then by stage position. Fills in `dependencies`.
fn order(instances: Vec<PlannedStage>, keys: &[(usize, usize)]) -> Vec<PlannedStage> {
    let n = instances.len();
    let position: HashMap<&str, usize> = instances.iter().enumerate().map(|(i, s)| (s.name.as_str(), i)).collect();
    let deps: Vec<BTreeSet<usize>> = instances
        .iter()
        .map(|s| s.inputs.iter().flat_map(|i| i.binding.items()).map(|r| position[r.stage.as_str()]).collect())
        .collect();
    let mut feeds = vec![Vec::new(); n];
    for (i, d) in deps.iter().enumerate() {
        for &j in d {
            feeds[j].push(i);
        }
    }
    let mut waiting: Vec<usize> = deps.iter().map(BTreeSet::len).collect();
    let mut ready: BTreeSet<((usize, usize), usize)> =
        (0..n).filter(|&i| waiting[i] == 0).map(|i| (keys[i], i)).collect();
    let mut run_order = Vec::with_capacity(n);
    while let Some((_, i)) = ready.pop_first() {
        run_order.push(i);
        for &j in &feeds[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.insert((keys[j], j));
            }
        }
    }
    let mut new_index = vec![0; n];
    for (new, &old) in run_order.iter().enumerate() {
        new_index[old] = new;
    }
    let mut slots: Vec<Option<PlannedStage>> = instances.into_iter().map(Some).collect();
    run_order
        .iter()
        .map(|&old| {
            let mut s = slots[old].take().unwrap_or_else(|| unreachable!("each instance is placed once"));
            let mut d: Vec<usize> = deps[old].iter().map(|&j| new_index[j]).collect();
            d.sort_unstable();
            s.dependencies = d;
            s
        })
        .collect()
}

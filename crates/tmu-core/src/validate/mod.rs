//! Validation: [`RawPipeline`] + stage catalog -> [`Plan`], or every problem found.

pub(crate) mod config;
mod graph;
mod header;
mod stages;
mod timeout;

use crate::catalog::StageCatalog;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::plan::Plan;
use crate::raw::RawPipeline;
use crate::sweep::check::CheckedSweep;
use crate::sweep::expand::{AxisDef, BaseStage, StageBinding, expand};
use crate::sweep::{Axis, Binding, Point, Sweep, grid};

pub use graph::topological_order;
pub use header::FORMAT_VERSION;

/// Checks a raw pipeline against the known stage kinds and resolves it into a [`Plan`].
///
/// Reports every problem at once, in file order: the type and shape problems [`crate::parse`]
/// kept, then format, names, devices, the sweep (axes, values, bindings), kinds, references
/// (syntax, unknown stage or output), input ports (unknown, missing, list/map/one mismatches,
/// artifact kinds on each edge), configs against each stage's JSON Schema (at every
/// combination of the values of the axes that bind into it), cycles, and gathering inputs
/// with nothing to gather. A valid sweep is expanded into stage instances.
pub fn validate(raw: &RawPipeline, catalog: &dyn StageCatalog) -> Result<Plan, Diagnostics> {
    let mut ds = Diagnostics::new(raw.source.clone());
    ds.extend(raw.problems.iter().cloned());
    let header = header::check(raw, &mut ds);
    let sweep = crate::sweep::check::check(raw, &mut ds);
    let checked = stages::check(raw, catalog, header.device, sweep.as_ref(), &mut ds);

    let deps: Vec<Vec<usize>> = checked.iter().map(|c| c.deps.iter().map(|(j, _)| *j).collect()).collect();
    let order = match topological_order(&deps) {
        Ok(order) => order,
        Err(cycles) => {
            for cycle in cycles {
                ds.push(cycle_diagnostic(raw, &checked, &cycle));
            }
            Vec::new()
        }
    };
    if !ds.is_empty() {
        ds.sort();
        return Err(ds);
    }

    let mut position = vec![0; raw.stages.len()];
    for (new, &old) in order.iter().enumerate() {
        position[old] = new;
    }
    let mut bases = Vec::with_capacity(order.len());
    for &old in &order {
        let c = &checked[old];
        let (Some(kind), Some(inputs), Some(outputs), Some(config)) = (&c.kind, &c.inputs, &c.outputs, &c.config)
        else {
            // Unreachable: a stage without these has produced a diagnostic above.
            continue;
        };
        let stage = &raw.stages[old];
        let bindings = match &sweep {
            Some(s) => s
                .bindings_of(&stage.name.value)
                .into_iter()
                .map(|(a, b)| StageBinding {
                    axis: a,
                    path: b.field.path.clone(),
                    span: b.span,
                    values: b.values.as_ref().map(|v| v.iter().map(|(_, j)| j.clone()).collect()),
                })
                .collect(),
            None => Vec::new(),
        };
        bases.push(BaseStage {
            name: &stage.name.value,
            kind,
            config,
            inputs,
            outputs,
            device: c.device,
            timeout: c.timeout,
            refs: c.refs.iter().map(|(port, j, span, g)| (port.clone(), position[*j], *span, *g)).collect(),
            bindings,
        });
    }
    let axes: Vec<AxisDef> = sweep
        .iter()
        .flat_map(|s| &s.axes)
        .map(|a| AxisDef {
            name: a.name.clone(),
            values: a.values.iter().map(|(_, j)| j.clone()).collect(),
            seed: a.seed,
        })
        .collect();
    let stages = match expand(&bases, &axes, header.seed) {
        Ok(stages) => stages,
        Err(problems) => {
            ds.extend(problems);
            ds.sort();
            return Err(ds);
        }
    };
    let sweep = sweep.map(|s| planned_sweep(&s));
    Ok(Plan {
        name: header.name,
        source: raw.source.path().to_path_buf(),
        description: raw.description.as_ref().map(|d| d.value.clone()),
        seed: header.seed,
        device: header.device,
        plugin_paths: raw.plugin_paths(),
        slurm: raw.slurm.clone(),
        stages,
        sweep,
    })
}

/// The plan's view of a checked sweep: its axes and every point.
fn planned_sweep(s: &CheckedSweep) -> Sweep {
    let axes: Vec<Axis> = s
        .axes
        .iter()
        .map(|a| Axis {
            name: a.name.clone(),
            values: a.values.iter().map(|(_, j)| j.clone()).collect(),
            bind: a
                .bind
                .iter()
                .map(|b| Binding {
                    field: b.field.clone(),
                    values: b.values.as_ref().map(|v| v.iter().map(|(_, j)| j.clone()).collect()),
                })
                .collect(),
            seed: a.seed,
        })
        .collect();
    let sizes: Vec<usize> = axes.iter().map(|a| a.values.len()).collect();
    let points = grid(&sizes)
        .into_iter()
        .map(|c| Point::new(axes.iter().zip(c).map(|(a, v)| (a.name.clone(), a.values[v].clone())).collect()))
        .collect();
    Sweep { axes, points }
}

fn cycle_diagnostic(raw: &RawPipeline, checked: &[stages::Checked], cycle: &[usize]) -> Diagnostic {
    let name = |i: usize| raw.stages[i].name.value.as_str();
    let first = &raw.stages[cycle[0]];
    if cycle.len() == 1 {
        let mut d = Diagnostic::new(Code::Cycle, format!("stage `{}` reads its own output", name(cycle[0])))
            .at(first.name.span, "this stage");
        for (_, span) in checked[cycle[0]].deps.iter().filter(|(j, _)| *j == cycle[0]) {
            d = d.with(*span, "read here");
        }
        return d.help("a stage can only read outputs of other stages");
    }
    let mut path: Vec<&str> = cycle.iter().map(|&i| name(i)).collect();
    path.push(name(cycle[0]));
    let mut d = Diagnostic::new(Code::Cycle, format!("stages depend on each other in a cycle: {}", path.join(" -> ")))
        .at(first.name.span, "on the cycle");
    for (k, &i) in cycle.iter().enumerate() {
        let next = cycle[(k + 1) % cycle.len()];
        // Point at where `next` reads from `i`.
        if let Some((_, span)) = checked[next].deps.iter().find(|(j, _)| *j == i) {
            d = d.with(*span, format!("`{}` reads from `{}`", name(next), name(i)));
        }
    }
    d.help("`a -> b` means `b` reads an output of `a`; remove one of these inputs to break the cycle")
}

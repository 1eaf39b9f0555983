//! The inputs a stage runs with once everything it reads from has settled: a gathering input
//! keeps the points whose instance finished; any other input needs its producer finished.

use tmu_core::{Plan, PlannedInput, PortBinding};

use crate::loader::LoadedPlugin;
use crate::record::CacheRecord;

/// The inputs of stage `i`, with warnings naming the points left out; or why it cannot run.
pub(super) fn effective_inputs(
    plan: &Plan,
    i: usize,
    plugin: &LoadedPlugin,
    done: &[Option<CacheRecord>],
) -> Result<(Vec<PlannedInput>, Vec<String>), String> {
    let stage = &plan.stages[i];
    let finished = |name: &str| plan.index_of(name).is_some_and(|j| done[j].is_some());
    let required = |port: &str| {
        plugin
            .description
            .stages
            .iter()
            .find(|s| s.kind == stage.kind)
            .and_then(|s| s.inputs.iter().find(|p| p.name == port))
            .is_none_or(|p| p.required)
    };
    let mut inputs = Vec::with_capacity(stage.inputs.len());
    let mut warnings = Vec::new();
    for input in &stage.inputs {
        match (&input.binding, input.gathered) {
            (PortBinding::Map(entries), true) => {
                let (kept, missing): (Vec<_>, Vec<_>) = entries.iter().partition(|(_, r)| finished(&r.stage));
                let what = entries.values().next().map_or(String::new(), |r| {
                    format!("{}.{}", r.stage.rsplit('/').next().unwrap_or_default(), r.output)
                });
                if kept.is_empty() {
                    if required(&input.port) {
                        return Err(format!("no point of `{what}` (gathered by input `{}`) finished", input.port));
                    }
                    warnings.push(format!("input `{}` left out: no point of `{what}` finished", input.port));
                    continue;
                }
                if !missing.is_empty() {
                    let labels: Vec<&str> = missing.iter().map(|(k, _)| k.as_str()).collect();
                    warnings.push(format!(
                        "input `{}` gathers `{what}` from {} of {} points; missing (failed or not run): {}",
                        input.port,
                        kept.len(),
                        entries.len(),
                        labels.join("; ")
                    ));
                }
                let binding = PortBinding::Map(kept.into_iter().map(|(k, r)| (k.clone(), r.clone())).collect());
                inputs.push(PlannedInput { binding, ..input.clone() });
            }
            (binding, _) => {
                if let Some(r) = binding.items().into_iter().find(|r| !finished(&r.stage)) {
                    return Err(format!("`{}` failed or did not run", r.stage));
                }
                inputs.push(input.clone());
            }
        }
    }
    Ok((inputs, warnings))
}

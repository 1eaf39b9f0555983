//! Validation of a config that sweep axes bind into: the config of every combination of the
//! binding axes' values is checked against the stage's schema, each problem pointing at the
//! axis value (or at the `bind` string for a field the schema does not know).

use tmu_plugin::protocol::StageDescription;

use super::bind::set_raw;
use super::check::{CheckedBinding, CheckedSweep};
use super::grid;
use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::raw::{RawStage, RawValue, RawValueKind};
use crate::validate::config::{Validators, check_config};

/// Checks `stage`'s config with the values of the axes that bind into it, at every combination
/// of those values; returns the config as written (as JSON) when every combination is valid.
/// A problem found at several combinations is reported once.
pub(crate) fn check_bound_config(
    stage: &RawStage,
    desc: &StageDescription,
    bindings: &[(usize, &CheckedBinding)],
    sweep: &CheckedSweep,
    validators: &mut Validators,
    ds: &mut Diagnostics,
) -> Option<serde_json::Value> {
    if stage.config_broken {
        return None;
    }
    let mut axes: Vec<usize> = bindings.iter().map(|(a, _)| *a).collect();
    axes.sort_unstable();
    axes.dedup();
    let sizes: Vec<usize> = axes.iter().map(|&a| sweep.axes[a].values.len()).collect();
    let start = ds.len();
    let base =
        stage.config.clone().unwrap_or(RawValue { span: stage.name.span, value: RawValueKind::Table(Vec::new()) });
    let mut all_valid = true;
    for combination in grid(&sizes) {
        let mut config = base.clone();
        for (axis, b) in bindings {
            let k = axes.iter().position(|a| a == axis).unwrap_or_default();
            let value = sweep.axes[*axis].raw_value(b, combination[k]);
            let (path, span) = (&b.field.path, &b.span);
            if let Err(depth) = set_raw(&mut config, path, value, *span) {
                all_valid = false;
                let field = format!("config.{}", path[..depth].join("."));
                ds.push(
                    Diagnostic::new(
                        Code::Sweep,
                        format!("cannot bind `{}.config.{}`", stage.name.value, path.join(".")),
                    )
                    .at(*span, format!("`{field}` of stage `{}` is not a table", stage.name.value))
                    .help("a binding sets a field inside nested tables of the stage's `config`"),
                );
            }
        }
        let bound = RawStage { config: Some(config), ..stage.clone() };
        all_valid &= check_config(&bound, desc, validators, ds).is_some();
    }
    ds.dedup_from(start);
    if !all_valid {
        return None;
    }
    // Non-finite floats were refused by the parser, so the config has a JSON form.
    base.to_json().ok()
}

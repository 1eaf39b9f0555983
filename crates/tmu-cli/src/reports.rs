//! After a run: print the markdown reports of the pipeline's final stages (the comparison
//! table of `eval.unlearning`, for example), so the result is on screen, not only on disk.

use tmu_core::Plan;
use tmu_host::{Outcome, RunReport};
use tmu_plugin::ArtifactKind;

/// The `report` outputs of stages nothing depends on, as (`stage.output`, path, text). In a
/// sweep, only those of shared stages (a per-point report would print once per point).
pub fn final_reports(plan: &Plan, report: &RunReport) -> Vec<(String, std::path::PathBuf, String)> {
    let mut out = Vec::new();
    for (i, stage) in plan.stages.iter().enumerate() {
        if !plan.dependants(i).is_empty() || (plan.sweep.is_some() && stage.point.is_some()) {
            continue;
        }
        let Some(sr) = report.stage(&stage.name) else { continue };
        if !matches!(sr.outcome, Outcome::Ran | Outcome::Cached) {
            continue;
        }
        let Some(dir) = &sr.dir else { continue };
        for port in stage.outputs.iter().filter(|p| p.kind == ArtifactKind::Report) {
            let path = dir.join(port.kind.file_name(&port.name));
            if let Ok(text) = std::fs::read_to_string(&path) {
                out.push((format!("{}.{}", stage.name, port.name), path, text));
            }
        }
    }
    out
}

/// Prints each final report under a one-line header naming its file.
pub fn print(plan: &Plan, report: &RunReport) {
    for (name, path, text) in final_reports(plan, report) {
        println!("\n── {name} ({}) ──\n", path.display());
        print!("{text}");
        if !text.ends_with('\n') {
            println!();
        }
    }
}

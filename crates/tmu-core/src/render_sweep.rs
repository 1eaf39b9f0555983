//! Rendering a sweep's plan: the axes, how many instances each stage costs, the instances
//! grouped under their point labels (text), and one Graphviz cluster per label (DOT).

use std::fmt::Write;

use crate::plan::Plan;
use crate::render::{node_label, quote, stage_text};

/// `label` for an instance with a point, `shared` for one without.
fn group_of(plan: &Plan, i: usize) -> &str {
    plan.stages[i].point.as_ref().map_or("shared", |p| p.label.as_str())
}

/// The text listing of a sweep's plan (see [`crate::plan_text`]).
pub(crate) fn sweep_text(plan: &Plan) -> String {
    let Some(sweep) = &plan.sweep else { return String::new() };
    let mut out = String::new();
    let mut bases: Vec<(&str, usize)> = Vec::new();
    for s in &plan.stages {
        match bases.iter_mut().find(|(b, _)| *b == s.base) {
            Some((_, n)) => *n += 1,
            None => bases.push((&s.base, 1)),
        }
    }
    let n = plan.stages.len();
    let shared = plan.stages.iter().filter(|s| s.point.is_none()).count();
    let points = sweep.points.len();
    let _ = writeln!(
        out,
        "pipeline `{}` ({}): {} stage{} over {points} point{}: {n} stage run{} ({shared} shared), seed {}, device {}",
        plan.name,
        plan.source.display(),
        bases.len(),
        if bases.len() == 1 { "" } else { "s" },
        if points == 1 { "" } else { "s" },
        if n == 1 { "" } else { "s" },
        plan.seed,
        plan.device
    );
    for axis in &sweep.axes {
        let values: Vec<String> = axis.values.iter().map(|v| v.to_string()).collect();
        let mut binds: Vec<String> = axis.bind.iter().map(|f| f.to_string()).collect();
        if axis.seed {
            binds.insert(0, "the pipeline seed".to_string());
        }
        let _ = writeln!(out, "axis {} = [{}] -> {}", axis.name, values.join(", "), binds.join(", "));
    }
    let counts: Vec<String> = bases.iter().map(|(b, c)| format!("{b} x{c}")).collect();
    let _ = writeln!(out, "stage runs: {}", counts.join(", "));
    crate::render::header_extras(&mut out, plan);
    let width = plan.stages.iter().map(|s| s.base.len()).max().unwrap_or(0);
    let mut group = None;
    for i in 0..n {
        let g = group_of(plan, i);
        if group != Some(g) {
            let _ = writeln!(out, "[{g}]");
            group = Some(g);
        }
        stage_text(&mut out, plan, i, &plan.stages[i].base, width);
    }
    out
}

/// One `subgraph cluster_<n>` per point label (and one for shared stages), in run order.
pub(crate) fn dot_clusters(out: &mut String, plan: &Plan) {
    let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
    for i in 0..plan.stages.len() {
        let g = group_of(plan, i);
        match groups.iter_mut().find(|(name, _)| *name == g) {
            Some((_, members)) => members.push(i),
            None => groups.push((g, vec![i])),
        }
    }
    for (k, (g, members)) in groups.iter().enumerate() {
        let _ = writeln!(out, "  subgraph {} {{", quote(&format!("cluster_{k}")));
        let _ = writeln!(out, "    label={};", quote(g));
        for &i in members {
            let s = &plan.stages[i];
            let _ = writeln!(out, "    {} [label={}];", quote(&s.name), node_label(&s.base, &s.kind));
        }
        let _ = writeln!(out, "  }}");
    }
}

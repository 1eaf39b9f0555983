//! Plan rendering: a text listing in run order (`tmu plan`) and Graphviz DOT (`tmu plan --dot`).

use std::fmt::Write;

use crate::plan::{Plan, PlannedInput, PortBinding};

fn binding_text(input: &PlannedInput) -> String {
    match &input.binding {
        PortBinding::One(r) => r.to_string(),
        PortBinding::List(v) => format!("[{}]", v.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")),
        PortBinding::Map(m) => {
            format!("{{ {} }}", m.iter().map(|(k, r)| format!("{k} = {r}")).collect::<Vec<_>>().join(", "))
        }
    }
}

/// The plan as text: a header line, then each stage in run order with its kind, device,
/// inputs (`port <- stage.output`), outputs and config.
pub fn plan_text(plan: &Plan) -> String {
    let mut out = String::new();
    let n = plan.stages.len();
    let _ = writeln!(
        out,
        "pipeline `{}` ({}): {n} stage{}, seed {}, device {}",
        plan.name,
        plan.source.display(),
        if n == 1 { "" } else { "s" },
        plan.seed,
        plan.device
    );
    for p in &plan.plugin_paths {
        let _ = writeln!(out, "plugins from {}", p.display());
    }
    let width = plan.stages.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for (i, s) in plan.stages.iter().enumerate() {
        let device = if s.device == plan.device { String::new() } else { format!(" on {}", s.device) };
        let _ = writeln!(out, "{:>3}. {:<width$}  {}{device}", i + 1, s.name, s.kind);
        for input in &s.inputs {
            let _ = writeln!(out, "       {:<width$}  <- {}: {}", "", input.port, binding_text(input));
        }
        let outputs: Vec<String> = s.outputs.iter().map(|o| format!("{} ({})", o.name, o.kind)).collect();
        let _ = writeln!(
            out,
            "       {:<width$}  -> {}",
            "",
            if outputs.is_empty() { "nothing".into() } else { outputs.join(", ") }
        );
        if s.config.as_object().is_some_and(|c| !c.is_empty()) {
            let _ = writeln!(out, "       {:<width$}  config {}", "", s.config);
        }
    }
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The plan as a Graphviz digraph: one box per stage (name and kind), one edge per bound
/// artifact labelled `output -> port` (`port.key` or `port[i]` for maps and lists).
pub fn plan_dot(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(&plan.name));
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [shape=box, fontname=\"monospace\"];");
    for s in &plan.stages {
        let _ = writeln!(
            out,
            "  {} [label={}];",
            quote(&s.name),
            quote(&format!("{}\\n{}", s.name, s.kind)).replace("\\\\n", "\\n")
        );
    }
    for s in &plan.stages {
        for input in &s.inputs {
            let edges: Vec<(String, &crate::OutputRef)> = match &input.binding {
                PortBinding::One(r) => vec![(input.port.clone(), r)],
                PortBinding::List(v) => {
                    v.iter().enumerate().map(|(i, r)| (format!("{}[{i}]", input.port), r)).collect()
                }
                PortBinding::Map(m) => m.iter().map(|(k, r)| (format!("{}.{k}", input.port), r)).collect(),
            };
            for (port, r) in edges {
                let label = format!("{} -> {port}", r.output);
                let _ = writeln!(out, "  {} -> {} [label={}];", quote(&r.stage), quote(&s.name), quote(&label));
            }
        }
    }
    out.push_str("}\n");
    out
}

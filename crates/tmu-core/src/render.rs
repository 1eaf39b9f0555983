//! Plan rendering: a text listing in run order (`tmu plan`) and Graphviz DOT (`tmu plan --dot`).

use std::fmt::Write;

use crate::plan::{Plan, PlannedInput, PortBinding};

fn binding_text(input: &PlannedInput) -> String {
    if let (true, PortBinding::Map(m)) = (input.gathered, &input.binding) {
        let output = m.values().next().map_or(String::new(), |r| r.output.clone());
        let base = m.values().next().map_or("", |r| r.stage.rsplit('/').next().unwrap_or_default());
        let labels: Vec<&str> = m.keys().map(String::as_str).collect();
        return format!(
            "{base}.{output} gathered over {} point{}: {}",
            labels.len(),
            if labels.len() == 1 { "" } else { "s" },
            labels.join("; ")
        );
    }
    match &input.binding {
        PortBinding::One(r) => r.to_string(),
        PortBinding::List(v) => format!("[{}]", v.iter().map(|r| r.to_string()).collect::<Vec<_>>().join(", ")),
        PortBinding::Map(m) => {
            format!("{{ {} }}", m.iter().map(|(k, r)| format!("{k} = {r}")).collect::<Vec<_>>().join(", "))
        }
    }
}

/// The plan as text: a header line, then each stage in run order with its kind, device,
/// inputs (`port <- stage.output`), outputs and config. A sweep's plan also lists the axes and
/// how many instances each stage has, and groups the instances under their point labels.
pub fn plan_text(plan: &Plan) -> String {
    if plan.sweep.is_some() {
        return crate::render_sweep::sweep_text(plan);
    }
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
    header_extras(&mut out, plan);
    let width = plan.stages.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for (i, s) in plan.stages.iter().enumerate() {
        stage_text(&mut out, plan, i, &s.name, width);
    }
    out
}

/// The header lines after the first: plugin folders and the `[slurm]` settings, if any.
pub(crate) fn header_extras(out: &mut String, plan: &Plan) {
    for p in &plan.plugin_paths {
        let _ = writeln!(out, "plugins from {}", p.display());
    }
    let sl = &plan.slurm;
    let mut parts = Vec::new();
    let mut text = |key: &str, v: &Option<String>| {
        if let Some(v) = v {
            parts.push(format!("{key} {v}"));
        }
    };
    text("partition", &sl.partition);
    text("account", &sl.account);
    text("time", &sl.time);
    text("mem", &sl.mem);
    if let Some(n) = sl.gpus_per_job {
        parts.push(format!("gpus_per_job {n}"));
    }
    if let Some(n) = sl.cpus_per_task {
        parts.push(format!("cpus_per_task {n}"));
    }
    parts.extend(sl.extra.iter().cloned());
    if !parts.is_empty() {
        let _ = writeln!(out, "slurm jobs: {}", parts.join(", "));
    }
}

/// One stage of the listing: number, name, kind, device, inputs, outputs, config.
pub(crate) fn stage_text(out: &mut String, plan: &Plan, i: usize, name: &str, width: usize) {
    let s = &plan.stages[i];
    let device = if s.device == plan.device { String::new() } else { format!(" on {}", s.device) };
    let timeout = s.timeout.map(|t| format!(", timeout {}", humantime(t))).unwrap_or_default();
    let _ = writeln!(out, "{:>3}. {:<width$}  {}{device}{timeout}", i + 1, name, s.kind);
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

/// A duration as the pipeline file writes it (`1h30m`, `90s`).
fn humantime(d: std::time::Duration) -> String {
    let mut s = d.as_secs();
    let mut out = String::new();
    for (unit, len) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if s >= len {
            out.push_str(&format!("{}{unit}", s / len));
            s %= len;
        }
    }
    if out.is_empty() { "0s".into() } else { out }
}

pub(crate) fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A node's label: the name over the kind.
pub(crate) fn node_label(name: &str, kind: &str) -> String {
    quote(&format!("{name}\\n{kind}")).replace("\\\\n", "\\n")
}

/// The plan as a Graphviz digraph: one box per stage (name and kind), one edge per bound
/// artifact labelled `output -> port` (`port.key` or `port[i]` for maps and lists).
pub fn plan_dot(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(&plan.name));
    let _ = writeln!(out, "  rankdir=LR;");
    let _ = writeln!(out, "  node [shape=box, fontname=\"monospace\"];");
    if plan.sweep.is_some() {
        crate::render_sweep::dot_clusters(&mut out, plan);
    } else {
        for s in &plan.stages {
            let _ = writeln!(out, "  {} [label={}];", quote(&s.name), node_label(&s.name, &s.kind));
        }
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

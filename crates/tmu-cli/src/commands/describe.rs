//! `tmu describe [KIND]`: every loaded stage with its ports, config fields and examples.

use std::fmt::Write;
use std::process::ExitCode;

use tmu_core::{StageCatalog, did_you_mean};
use tmu_host::LoadedPlugin;
use tmu_plugin::Arity;
use tmu_plugin::protocol::StageDescription;

use crate::args::PluginArgs;
use crate::error::with_help;
use crate::load::load_registry;
use crate::schema_text::fields;

fn arity(a: Arity) -> &'static str {
    match a {
        Arity::One => "",
        Arity::List => "list of ",
        Arity::Map => "named map of ",
    }
}

/// One stage, as text.
pub fn stage_text(plugin: &LoadedPlugin, s: &StageDescription) -> String {
    let mut out = String::new();
    let d = &plugin.description;
    let _ = writeln!(out, "{}  (plugin {} {}, {})", s.kind, d.name, d.version, plugin.path.display());
    let _ = writeln!(out, "  {}", s.description.replace('\n', "\n  "));
    if !s.inputs.is_empty() {
        let _ = writeln!(out, "  inputs:");
        for p in &s.inputs {
            let req = if p.required { "" } else { ", optional" };
            let _ = writeln!(out, "    {}  ({}{}{req})  {}", p.name, arity(p.arity), p.kind, p.description);
        }
    }
    let _ = writeln!(out, "  outputs:");
    for p in &s.outputs {
        let _ = writeln!(out, "    {}  ({})  {}", p.name, p.kind, p.description);
    }
    let config = fields(&s.config_schema);
    if config.is_empty() {
        let _ = writeln!(out, "  config: none");
    } else {
        let _ = writeln!(out, "  config:");
        for (name, ty, default, description, required) in config {
            let default = match (default, required) {
                (Some(d), _) => format!(", default {d}"),
                (None, true) => ", required".to_string(),
                (None, false) => String::new(),
            };
            let description = description.replace('\n', "\n      ");
            let _ = writeln!(out, "    {name}  ({ty}{default})  {description}");
        }
    }
    for e in &s.examples {
        let _ = writeln!(out, "  example: {}", e.title);
        for line in e.config_toml.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
    out
}

pub fn describe(kind: Option<&str>, plugins: &PluginArgs) -> anyhow::Result<ExitCode> {
    let registry = load_registry(plugins, Vec::new(), false)?;
    match kind {
        Some(kind) => {
            let Some((plugin, stage)) = registry.lookup(kind) else {
                let help = did_you_mean(kind, registry.kinds())
                    .unwrap_or_else(|| "`tmu describe` lists every loaded stage kind".into());
                return Err(with_help(format!("no loaded plugin provides stage kind `{kind}`"), help));
            };
            print!("{}", stage_text(plugin, stage));
        }
        None => {
            if registry.plugins().is_empty() {
                return Err(with_help(
                    "no plugins are loaded",
                    "build the first-party plugins next to the tmu binary, or name plugins with --plugin-path \
                     or TMU_PLUGIN_PATH",
                ));
            }
            let texts: Vec<String> = registry.stages().map(|(p, s)| stage_text(p, s)).collect();
            print!("{}", texts.join("\n"));
        }
    }
    Ok(ExitCode::SUCCESS)
}

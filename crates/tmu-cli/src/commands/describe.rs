//! `tmu describe [KIND]`: every loaded stage with its ports, config fields and examples.

use std::process::ExitCode;

use tmu_core::{StageCatalog, did_you_mean};
use tmu_host::LoadedPlugin;
use tmu_plugin::protocol::StageDescription;

use crate::args::PluginArgs;
use crate::error::with_help;
use crate::load::load_registry;

/// One stage, as text, with the plugin and file it comes from.
fn stage_text(plugin: &LoadedPlugin, s: &StageDescription) -> String {
    let d = &plugin.description;
    tmu_core::stage_text(s, &format!("plugin {} {}, {}", d.name, d.version, plugin.path.display()))
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

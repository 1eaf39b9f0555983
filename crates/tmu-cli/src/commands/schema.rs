//! `tmu schema`: the JSON Schema of pipeline files, with every loaded stage's config schema.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::args::PluginArgs;
use crate::load::load_registry;

pub fn schema(output: Option<&Path>, plugins: &PluginArgs) -> anyhow::Result<ExitCode> {
    let registry = load_registry(plugins, Vec::new(), false)?;
    let text = tmu_core::pipeline_schema_text(&registry);
    match output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote the pipeline schema to {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

//! Reading a pipeline file, loading the plugins it needs (saying which files), validating it.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use anyhow::Context;
use tmu_core::{Diagnostics, Plan, RenderStyle};
use tmu_host::{Origin, Registry, SearchPaths};

use crate::args::PluginArgs;

/// The search paths: the binary's folder (unless turned off), the pipeline's `[plugins] paths`,
/// `--plugin-path`, then `TMU_PLUGIN_PATH`.
pub fn search_paths(args: &PluginArgs, pipeline_paths: Vec<PathBuf>) -> SearchPaths {
    let mut search = SearchPaths {
        binary_folder: if args.no_default_plugins { None } else { SearchPaths::current_binary_folder() },
        paths: pipeline_paths.into_iter().map(|p| (p, Origin::PipelineFile)).collect(),
    };
    search.paths.extend(args.plugin_path.iter().map(|p| (p.clone(), Origin::CommandLine)));
    if let Some(list) = std::env::var_os("TMU_PLUGIN_PATH") {
        search.push_path_list(&list, Origin::EnvVar);
    }
    search
}

/// Loads every plugin on the search paths; names each file loaded on stderr unless `quiet`.
pub fn load_registry(args: &PluginArgs, pipeline_paths: Vec<PathBuf>, quiet: bool) -> anyhow::Result<Registry> {
    let registry = Registry::load(&search_paths(args, pipeline_paths))?;
    for warning in registry.warnings() {
        eprintln!("warning: {warning}");
    }
    if !quiet {
        for p in registry.plugins() {
            let d = &p.description;
            let n = d.stages.len();
            eprintln!(
                "loaded plugin {} {} ({n} stage{}{}) from {}",
                d.name,
                d.version,
                if n == 1 { "" } else { "s" },
                if d.cuda { ", CUDA" } else { "" },
                p.path.display()
            );
        }
    }
    Ok(registry)
}

/// Diagnostics as text for stderr: coloured on a terminal.
pub fn render(diagnostics: &Diagnostics) -> String {
    let style = if std::io::stderr().is_terminal() { RenderStyle::Color } else { RenderStyle::Plain };
    diagnostics.render(style)
}

/// A pipeline file, parsed and validated against the plugins it loads.
pub enum Loaded {
    Valid(Box<Plan>, Registry),
    Invalid(Diagnostics),
}

pub fn load_pipeline(path: &Path, args: &PluginArgs, quiet: bool) -> anyhow::Result<Loaded> {
    let text = read_text(path)?;
    let raw = match tmu_core::parse(path, &text) {
        Ok(raw) => raw,
        Err(d) => return Ok(Loaded::Invalid(d)),
    };
    let registry = load_registry(args, raw.plugin_paths(), quiet)?;
    Ok(match tmu_core::validate(&raw, &registry) {
        Ok(plan) => Loaded::Valid(Box::new(plan), registry),
        Err(d) => Loaded::Invalid(d),
    })
}

/// A pipeline file's text; bytes that are not UTF-8 are named by line, column and offset.
fn read_text(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read pipeline file {}", path.display()))?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = before.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        // Characters, not bytes, as the diagnostics count columns.
        let column = String::from_utf8_lossy(&before[line_start..]).chars().count() + 1;
        anyhow::anyhow!(
            "cannot read pipeline file {}: it is not UTF-8 text (byte 0x{:02x} at line {line}, column {column}, offset {at})",
            path.display(),
            e.as_bytes()[at]
        )
    })
}

/// Prints every diagnostic and a count.
pub fn print_diagnostics(path: &Path, diagnostics: &Diagnostics) {
    eprint!("{}", render(diagnostics));
    let n = diagnostics.len();
    eprintln!("error: {n} problem{} in {}; nothing was run", if n == 1 { "" } else { "s" }, path.display());
}

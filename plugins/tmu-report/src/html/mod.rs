//! The self-contained HTML page the report stages write next to `report.md` (output `html`,
//! `html/report.html`): the markdown's headings, notes and tables, the plots inlined as SVG, the
//! stage's config, the versions and the cache keys of its inputs' producers. No script, font,
//! style sheet or image is fetched: the file opens as it is, offline.

mod page;
mod provenance;

pub use page::{PageParts, Plot, escape, render};
pub use provenance::{Producer, producers};

use std::path::Path;

use anyhow::Context as _;
use tmu_plugin::{Context, Inputs};

/// Writes `<html>/report.html` for a report stage: `markdown` is its `report.md`, `plots` the SVG
/// files it drew (each with a caption saying what it shows), `config` its resolved config.
pub fn write(
    ctx: &Context,
    inputs: &Inputs,
    title: &str,
    markdown: &str,
    plots: &[(std::path::PathBuf, String)],
    config: &serde_json::Value,
) -> anyhow::Result<()> {
    let dir = ctx.output_path("html");
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let plots = plots
        .iter()
        .map(|(path, caption)| {
            let svg = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Ok(Plot { name, caption: caption.clone(), svg })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let page = render(&page::PageParts {
        title,
        stage: ctx.stage_name(),
        kind: ctx.kind(),
        plugin: concat!(env!("CARGO_PKG_NAME"), " ", env!("CARGO_PKG_VERSION")),
        sdk: tmu_plugin::abi::SDK_VERSION_CSTR.to_str().unwrap_or("tmu-plugin"),
        seed: ctx.seed(),
        markdown,
        plots: &plots,
        config,
        producers: &producers(inputs),
    });
    let out = dir.join("report.html");
    write_file(&out, &page)
}

fn write_file(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

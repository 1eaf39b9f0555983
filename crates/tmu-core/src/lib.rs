//! tmu-core: pipeline files -> validated [`Plan`]s (a DAG), diagnostics, cache keys, the file-format schema.
//!
//! The flow is parse, then validate, then run (the run is the host's):
//!
//! ```text
//! let raw = tmu_core::parse(path, &text)?;          // TOML syntax, types, shapes; spans kept
//! let paths = raw.plugin_paths();                    // the host loads plugins from these
//! let plan = tmu_core::validate(&raw, &registry)?;   // kinds, refs, ports, configs, cycles
//! ```
//!
//! Both steps fail with [`Diagnostics`]: every problem at once, each with its span, rendered
//! like rustc by [`Diagnostics::render`]. [`cache_key`] says when a stage's cached outputs can
//! be reused; [`pipeline_schema`] is the JSON Schema editors use; [`plan_text`] and
//! [`plan_dot`] show a plan; [`stage_text`] (`tmu describe`) and [`stages_markdown`]
//! (`docs/stages.md`) document stages from their self-descriptions.
//!
//! **Architecture invariant:** tmu-core does no IO (callers pass file text and path) and links
//! neither candle nor libloading.

mod cache;
mod catalog;
mod diagnostic;
pub mod names;
mod parse;
mod plan;
mod raw;
mod reference;
mod render;
mod render_sweep;
mod schema;
mod slurm;
mod source;
mod suggest;
pub mod sweep;
mod validate;

pub use cache::{CacheIngredients, PluginId, cache_key, canonical_json};
pub use catalog::{Catalog, CatalogError, StageCatalog};
pub use diagnostic::{Code, Diagnostic, Diagnostics, RenderStyle};
pub use names::OutputRef;
pub use parse::{AXIS_KEYS, PLUGINS_KEYS, STAGE_KEYS, TOP_LEVEL_KEYS, parse};
pub use plan::{Plan, PlannedInput, PlannedStage, PortBinding, UnknownStageError};
pub use raw::{RawBinding, RawInput, RawPipeline, RawStage, RawValue, RawValueKind};
pub use reference::{ConfigField, config_fields, stage_text, stages_markdown, type_text};
pub use render::{plan_dot, plan_text};
pub use schema::{pipeline_schema, pipeline_schema_text};
pub use slurm::{SLURM_KEYS, SlurmSettings};
pub use source::{LineCol, SourceFile, Span, Spanned};
pub use suggest::{closest, did_you_mean};
pub use sweep::{Axis, Binding, FieldRef, Point, SEED_AXIS, Sweep};
pub use validate::{FORMAT_VERSION, topological_order, validate};

/// Parses and validates in one go: what `tmu check` and `tmu plan` do once plugins are loaded.
pub fn load(path: &std::path::Path, text: &str, catalog: &dyn StageCatalog) -> Result<Plan, Diagnostics> {
    validate(&parse(path, text)?, catalog)
}
